/**
 * Change events (SPEC §3): one per document written, emitted after the write is durable, in seq
 * order, never for a failed write; the documents of one `insertMany`/`updateMany`/`deleteMany`
 * share that batch's seq. Listeners run synchronously; one that throws is reported (the database's
 * `listenerError` event, else a process warning) and does not affect the write or other listeners.
 */
import type { EventEmitter } from "eventemitter3";

/**
 * A change to one document: `doc` is the document after the write, `prev` before it.
 *
 * @example
 * ```ts
 * users.on("change", (e) => {
 *   if (e.type === "update") console.log(e.id, e.prev, "->", e.doc, "at seq", e.seq);
 * });
 * ```
 */
export type ChangeEvent<D = Record<string, unknown>> =
  | { collection: string; type: "insert"; id: string; doc: D; prev?: undefined; seq: number }
  | { collection: string; type: "update"; id: string; doc: D; prev: D; seq: number }
  | { collection: string; type: "delete"; id: string; doc?: undefined; prev: D; seq: number };

/** A change event before its write has a seq. */
export type UnsequencedEvent = ChangeEvent extends infer E ? (E extends unknown ? Omit<E, "seq"> : never) : never;

/** An event waiting for its write, and the collection emitter that also receives it. */
export interface PendingEvent {
  event: UnsequencedEvent;
  target: EventEmitter;
}

/**
 * The events of one collection write, built only when someone listens at commit time (most writes
 * have no listener, and building an event per document is measurable on bulk inserts).
 */
export interface EventBatch {
  target: EventEmitter;
  build(): UnsequencedEvent[];
}
