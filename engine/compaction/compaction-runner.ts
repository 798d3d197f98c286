/**
 * The engine's handle on one background thread (compaction-worker.ts): starts the thread on the
 * first job, sends it one job at a time (a merge, or a memtable flush), answers a merge's requests
 * for more output file numbers, and turns its answer back into a result or an error of the lsmdoc
 * hierarchy. The engine keeps two: one for merges, one for flushes.
 *
 * The thread is `unref()`ed while idle, so an open engine does not keep a process alive, and
 * `ref()`ed while a job runs, so that a process awaiting a compaction does not exit under it. If
 * the thread dies, the job in flight fails with IOError and the next job starts a new thread. If
 * it cannot even load its code (a bundle that left compaction-worker.js out), the runner says so
 * once with a process warning and reports itself unavailable: the engine then merges on its own
 * thread, which is slower but just as correct.
 *
 * Threads outlive their runner: `close()` hands a healthy idle thread to a process-wide pool, and
 * a runner's first job takes one from there (same code, same niceness) before starting a new one,
 * so an engine reopened in the same process neither pays a thread's start (~55 ms, ~60 ms of CPU
 * here) before its first flush or merge nor runs that merge in a thread whose code the JIT has
 * not optimized yet. A pooled thread is unref()ed and ends after {@link IDLE_THREAD_MS} unused;
 * the pool keeps at most {@link MAX_IDLE_THREADS} per kind.
 *
 * From the TypeScript sources (tests) the thread's entry is a `.ts` file, loaded through tsx; from
 * the build it is the compiled `.js` next to this file. The thread inherits the process's
 * `execArgv` (so `node --cpu-prof` profiles it too).
 */
import { Worker } from "node:worker_threads";
import { IOError } from "../errors.js";
import {
  ABORT,
  type CompactionJob,
  type CompactionResult,
  type FlushJob,
  CONTROL_BYTES,
  deserializeError,
  type FromWorker,
  GRANT_COUNT,
  GRANT_FIRST,
  NUMBERS,
  NUMBERS_GRANTED,
  NUMBERS_IDLE,
  type ToWorker,
} from "./compaction-protocol.js";
import { AbortError } from "./table-writer.js";

export type { CompactionJob, CompactionResult, FlushJob } from "./compaction-protocol.js";

/** The thread could not load its code: the job was not run, and no later job will be. */
export class CompactionThreadUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`lsmdoc/engine: the compaction thread could not start: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./compaction-worker.ts" : "./compaction-worker.js", import.meta.url);

/** A pooled thread ends after this long unused. */
export const IDLE_THREAD_MS = 10_000;
/** Idle threads kept per (code, niceness). */
export const MAX_IDLE_THREADS = 2;

/** One background thread and its control words (compaction-protocol.ts), which travel with it. */
interface BackgroundThread {
  readonly worker: Worker;
  readonly control: Int32Array;
  readonly grant: Float64Array;
  /** Pool key: the thread's code and niceness. */
  readonly kind: string;
}

interface PooledThread {
  thread: BackgroundThread;
  timer: NodeJS.Timeout;
  onExit: () => void;
  onError: () => void;
}

const idleThreads = new Map<string, PooledThread[]>();
let threadsStarted = 0;

/** @internal Threads started in this process so far (tests check that reopening reuses them). */
export function backgroundThreadsStarted(): number {
  return threadsStarted;
}

function takeIdleThread(kind: string): BackgroundThread | undefined {
  const pooled = idleThreads.get(kind)?.pop();
  if (pooled === undefined) return undefined;
  clearTimeout(pooled.timer);
  // Only the pool's own listeners: Node's Worker keeps internal ones (its message port's
  // referencing follows the count of "message" listeners).
  pooled.thread.worker.off("exit", pooled.onExit).off("error", pooled.onError);
  return pooled.thread;
}

/**
 * Keeps an idle, healthy thread (its runner's listeners already removed) for the next runner of
 * its kind, or ends it when the pool is full.
 */
function poolThread(thread: BackgroundThread): void {
  const { worker } = thread;
  worker.unref();
  Atomics.store(thread.control, ABORT, 0);
  Atomics.store(thread.control, NUMBERS, NUMBERS_IDLE);
  let list = idleThreads.get(thread.kind);
  if (list === undefined) idleThreads.set(thread.kind, (list = []));
  if (list.length >= MAX_IDLE_THREADS) {
    void worker.terminate();
    return;
  }
  const drop = (): void => {
    const i = list.findIndex((p) => p.thread === thread);
    if (i >= 0) list.splice(i, 1);
  };
  const timer = setTimeout(() => {
    drop();
    void worker.terminate();
  }, IDLE_THREAD_MS);
  timer.unref();
  // A thread that dies while pooled is simply forgotten.
  const onExit = (): void => {
    clearTimeout(timer);
    drop();
  };
  const onError = (): void => undefined;
  worker.on("exit", onExit).on("error", onError);
  list.push({ thread, timer, onExit, onError });
}

interface RunningJob {
  resolve(result: CompactionResult): void;
  reject(err: unknown): void;
  /** Reserves `count` more output numbers for the job; returns the first. None: refuse. */
  reserve?: (count: number) => number;
  /** Numbers granted so far, so that the next grant can double. */
  granted: number;
  done: Promise<unknown>;
}

export class CompactionRunner {
  private thread: BackgroundThread | null = null;
  /** Listeners this runner put on its thread's worker, removed when it hands the thread on. */
  private listeners: { message: (msg: FromWorker) => void; error: (err: unknown) => void; exit: (code: number) => void } | null = null;
  private job: RunningJob | null = null;
  private closed = false;
  /** The current thread has loaded its code (before that, its death means it cannot start). */
  private ready = false;
  /** Set when the thread could not start; every later job is refused with it. */
  private unavailable: CompactionThreadUnavailableError | null = null;

  /**
   * `niceness`: the thread's CPU priority as a nice value (0 = the process's, up to 19 = lowest;
   * Linux keeps one per thread). `entry`: the thread's code (tests pass another to see a thread
   * that cannot start).
   */
  constructor(
    private readonly niceness = 0,
    private readonly entry: URL = WORKER_URL,
  ) {}

  /** False once the thread has failed to start: merges should run on the caller's thread. */
  get available(): boolean {
    return this.unavailable === null;
  }

  /**
   * Runs `job` on the thread. `reserve(count)` is called (synchronously, on this thread) when a
   * merge's block of output numbers runs out; it returns the first of `count` new numbers that the
   * caller has protected like the first block. A flush has its one number and never asks.
   */
  run(job: CompactionJob | FlushJob, reserve?: (count: number) => number): Promise<CompactionResult> {
    if (this.closed) return Promise.reject(new AbortError());
    if (this.unavailable !== null) return Promise.reject(this.unavailable);
    if (this.job !== null) return Promise.reject(new Error("lsmdoc/engine: one background job per thread at a time"));
    let thread: BackgroundThread;
    try {
      thread = this.thread ?? this.start();
    } catch (err) {
      return Promise.reject(this.cannotStart(err));
    }
    const worker = thread.worker;
    Atomics.store(thread.control, ABORT, 0);
    let resolve!: (r: CompactionResult) => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<CompactionResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.job = { resolve, reject, reserve, granted: job.kind === "merge" ? job.numberCount : 1, done: done.catch(() => undefined) };
    worker.ref();
    worker.postMessage({ type: "run", job } satisfies ToWorker);
    return done;
  }

  /** Asks the running job, if any, to stop; it then fails with AbortError. */
  abort(): void {
    const t = this.thread;
    if (t === null) return;
    Atomics.store(t.control, ABORT, 1);
    Atomics.notify(t.control, NUMBERS);
  }

  /**
   * Stops the running job (waiting for it to clean up its outputs), then hands the thread to the
   * process's pool of idle threads (or ends it, if it never got ready).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.abort();
    if (this.job !== null) await this.job.done;
    const t = this.thread;
    this.thread = null;
    if (t === null) return;
    const l = this.listeners!;
    this.listeners = null;
    t.worker.off("message", l.message).off("error", l.error).off("exit", l.exit);
    if (this.ready) poolThread(t);
    else await t.worker.terminate();
  }

  /** A thread for the next job: an idle one of the same kind from the pool, else a new one. */
  private start(): BackgroundThread {
    const kind = `${this.entry.href} ${this.niceness}`;
    const pooled = takeIdleThread(kind);
    const thread = pooled ?? this.newThread(kind);
    const worker = thread.worker;
    worker.unref();
    const l = {
      message: (msg: FromWorker): void => this.onMessage(msg),
      error: (err: unknown): void => this.onDeath(worker, err),
      exit: (code: number): void => this.onDeath(worker, new Error(`it exited with code ${code}`)),
    };
    worker.on("message", l.message).on("error", l.error).on("exit", l.exit);
    this.listeners = l;
    this.thread = thread;
    // A pooled thread has loaded its code; a new one says so with its first message.
    this.ready = pooled !== undefined;
    return thread;
  }

  private newThread(kind: string): BackgroundThread {
    const shared = new SharedArrayBuffer(CONTROL_BYTES);
    const workerData = { control: shared, niceness: this.niceness };
    // Node 20 does not apply loader hooks from a worker's `--import` to the worker's own entry, so
    // from the sources a small bootstrap registers tsx (a dev dependency) before importing it.
    const worker = this.entry.pathname.endsWith(".ts")
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})` +
            `.then((tsx) => { tsx.register(); return import(${JSON.stringify(this.entry.href)}); });`,
          { eval: true, workerData },
        )
      : new Worker(this.entry, { workerData });
    threadsStarted++;
    return { worker, control: new Int32Array(shared, 0, 2), grant: new Float64Array(shared), kind };
  }

  private cannotStart(err: unknown): CompactionThreadUnavailableError {
    this.unavailable = new CompactionThreadUnavailableError(err);
    process.emitWarning(`${this.unavailable.message}; compacting on the main thread instead (set compactionThread: false to skip the attempt)`, {
      code: "LSMDOC_COMPACTION_THREAD",
    });
    return this.unavailable;
  }

  private finish(): RunningJob | null {
    const job = this.job;
    this.job = null;
    this.thread?.worker.unref();
    return job;
  }

  private onMessage(msg: FromWorker): void {
    const job = this.job;
    if (msg.type === "ready") {
      this.ready = true;
      return;
    }
    const thread = this.thread;
    if (job === null || thread === null) return;
    if (msg.type === "numbers") {
      const { control, grant } = thread;
      let count = 0;
      let first = 0;
      if (Atomics.load(control, ABORT) === 0 && job.reserve !== undefined) {
        count = job.granted;
        first = job.reserve(count);
        job.granted += count;
      }
      grant[GRANT_FIRST] = first;
      grant[GRANT_COUNT] = count;
      Atomics.store(control, NUMBERS, NUMBERS_GRANTED);
      Atomics.notify(control, NUMBERS);
    } else if (msg.type === "done") {
      this.finish()?.resolve(msg.result);
    } else {
      this.finish()?.reject(deserializeError(msg.error));
    }
  }

  private onDeath(worker: Worker, err: unknown): void {
    if (this.thread?.worker !== worker) return; // Handed on by close(), or already replaced.
    const job = this.finish();
    this.thread = null;
    if (!this.ready) {
      job?.reject(this.cannotStart(err));
      return;
    }
    job?.reject(new IOError(`lsmdoc/engine: the compaction thread died during a merge: ${(err as Error)?.message ?? String(err)}`, err));
  }
}
