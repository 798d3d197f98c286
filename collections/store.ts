/**
 * The document store: one engine, the catalog, the change-event hub, and the write pipeline that
 * every collection shares.
 *
 * Write pipeline. A document write is computed synchronously, from the latest state, and handed to
 * the engine as ONE batch (document key, every index entry added or removed, and a catalog update
 * when needed). "Latest state" includes writes already handed to the engine but not yet committed:
 * their keys sit in a pending overlay until their batch commits. Because the engine commits batches
 * in the order they were handed over, and a failed batch makes every later one fail too (the engine
 * refuses writes after a log failure), a write computed against a pending one is always committed
 * after it, or not at all. This keeps unique checks atomic and index diffs exact while concurrent
 * writers still share group commits.
 */
import { EventEmitter } from "eventemitter3";
import { Engine } from "../engine/db.js";
import type { EngineOptions } from "../engine/options.js";
import { DatabaseClosedError } from "../engine/errors.js";
import { decodeCatalogEntry, encodeCatalogEntry, type CollectionMeta } from "./catalog.js";
import { CATALOG_RANGE } from "./keyspace.js";
import type { ChangeEvent, EventBatch, PendingEvent } from "./change-events.js";
import { engineKvStore, type OrderedKvStore } from "./kv-store.js";
import { latin1String } from "./byte-strings.js";

/** A key change inside a document write: `value` null deletes. */
export interface KeyChange {
  key: Uint8Array;
  value: Uint8Array | null;
  /**
   * Never read back through {@link DocumentStore.readLatest} or `pendingKeys` (a non-unique index
   * entry), so it need not enter the pending overlay.
   */
  untracked?: boolean;
}

interface Pending {
  value: Uint8Array | null;
  op: number;
}

function overlayKey(key: Uint8Array): string {
  return latin1String(key);
}

export interface StoreEvents {
  change: (event: ChangeEvent) => void;
  /** A change listener threw; the write it reported had succeeded. */
  listenerError: (error: unknown, event: ChangeEvent) => void;
}

export class DocumentStore {
  readonly events = new EventEmitter<StoreEvents>();
  private readonly catalog = new Map<string, CollectionMeta>();
  private nextCollectionId = 1;
  private readonly pending = new Map<string, Pending>();
  private opCounter = 0;
  /** Collection operations and index builds not finished yet: close() waits for them. */
  private readonly inflight = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  /** Every document operation goes through this interface only. */
  readonly kv: OrderedKvStore;

  /** `engine` serves the database's administration (stats, verify, compact) only. */
  private constructor(readonly engine: Engine) {
    this.kv = engineKvStore(engine);
  }

  static async open(dir: string, options?: EngineOptions): Promise<DocumentStore> {
    const engine = await Engine.open(dir, options);
    const store = new DocumentStore(engine);
    try {
      const it = store.kv.iterate({ gte: CATALOG_RANGE.gte, lt: CATALOG_RANGE.lt });
      for (let e = it.nextSync(); e !== undefined; e = it.nextSync()) {
        const meta = decodeCatalogEntry(e[1]);
        store.catalog.set(meta.name, meta);
        store.nextCollectionId = Math.max(store.nextCollectionId, meta.id + 1);
      }
    } catch (err) {
      await store.kv.close();
      throw err;
    }
    return store;
  }

  /** Metadata of a stored collection, or undefined. */
  meta(name: string): CollectionMeta | undefined {
    return this.catalog.get(name);
  }

  /** Names of every collection in the catalog. */
  collectionNames(): string[] {
    return [...this.catalog.keys()].sort();
  }

  allocateCollectionId(): number {
    return this.nextCollectionId++;
  }

  /** False once `close()` has begun. */
  get isOpen(): boolean {
    return this.closing === null;
  }

  /**
   * Runs a collection operation, tracked so that `close()` waits for it. Refused once closing has
   * begun.
   */
  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closing !== null) return Promise.reject(new DatabaseClosedError());
    const p = operation();
    this.inflight.add(p);
    const done = (): void => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Keys written by batches handed to the engine but not committed yet, under `prefix`. */
  pendingKeys(prefix: Uint8Array): Uint8Array[] {
    if (this.pending.size === 0) return [];
    const p = overlayKey(prefix);
    const out: Uint8Array[] = [];
    for (const k of this.pending.keys()) if (k.startsWith(p)) out.push(Buffer.from(k, "latin1"));
    return out;
  }

  /** The latest value of `key`, pending writes included. */
  readLatest(key: Uint8Array): Uint8Array | undefined {
    if (this.pending.size > 0) {
      const p = this.pending.get(overlayKey(key));
      if (p !== undefined) return p.value ?? undefined;
    }
    return this.kv.getSync(key);
  }

  /**
   * Hands `changes` (plus the catalog entry of `meta`, when given) to the engine as one batch and
   * resolves with its seq once committed; then emits `events` (stamped with the seq) before
   * resolving. Throws synchronously (nothing written) if a key or value is unacceptable.
   */
  commit(changes: readonly KeyChange[], events: readonly PendingEvent[] | EventBatch, meta?: CollectionMeta): Promise<number> {
    const all = meta === undefined ? changes : [...changes, encodeCatalogEntry(meta)];
    if (all.length === 0) return Promise.resolve(this.kv.lastSeq());
    // Throws synchronously on an unacceptable key or value, before anything is registered.
    const written = this.kv.write(all);
    const op = ++this.opCounter;
    const keys: string[] = [];
    for (const c of changes) {
      if (c.untracked === true) continue;
      const k = overlayKey(c.key);
      keys.push(k);
      this.pending.set(k, { value: c.value, op });
    }
    if (meta !== undefined) this.catalog.set(meta.name, meta);
    const settle = (): void => {
      for (const k of keys) if (this.pending.get(k)?.op === op) this.pending.delete(k);
    };
    return written.then(
      (seq) => {
        settle();
        this.emit(events, seq);
        return seq;
      },
      (err: unknown) => {
        settle();
        throw err;
      },
    );
  }

  private emit(source: readonly PendingEvent[] | EventBatch, seq: number): void {
    let events: readonly PendingEvent[];
    if (Array.isArray(source)) {
      events = source as readonly PendingEvent[];
    } else {
      const batch = source as EventBatch;
      if (batch.target.listenerCount("change") === 0 && this.events.listenerCount("change") === 0) return;
      events = batch.build().map((event) => ({ event, target: batch.target }));
    }
    for (const pending of events) {
      const event = { ...pending.event, seq } as ChangeEvent;
      for (const target of [pending.target, this.events as unknown as EventEmitter]) {
        for (const listener of target.listeners("change")) {
          try {
            (listener as (ev: ChangeEvent) => void)(event);
          } catch (err) {
            this.reportListenerError(err, event);
          }
        }
      }
    }
  }

  private reportListenerError(err: unknown, event: ChangeEvent): void {
    if (this.events.listenerCount("listenerError") > 0) {
      try {
        this.events.emit("listenerError", err, event);
        return;
      } catch {
        // Fall through to a process warning.
      }
    }
    process.emitWarning(`lsmdoc: a change listener threw: ${(err as Error)?.stack ?? String(err)}`, "LsmdocListenerWarning");
  }

  /** Waits for every operation issued before it (and the index builds they wait on), then closes the engine. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
      await this.kv.close();
    })();
    return this.closing;
  }
}
