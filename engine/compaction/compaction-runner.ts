/**
 * The engine's handle on one background thread (compaction-worker.ts): starts the thread on the
 * first job, sends it one job at a time (a merge, or a memtable flush), answers a merge's requests
 * for more output file numbers, and turns its answer back into a result or an error of the lsmdoc
 * hierarchy. The engine keeps two: one for merges, one for flushes.
 *
 * The thread is `unref()`ed while idle, so an open engine does not keep a process alive, and
 * `ref()`ed while a job runs, so that a process awaiting a compaction does not exit under it. It
 * lives until `close()`. If the thread dies, the job in flight fails with IOError and the next job
 * starts a new thread. If it cannot even load its code (a bundle that left compaction-worker.js
 * out), the runner says so once with a process warning and reports itself unavailable: the engine
 * then merges on its own thread, which is slower but just as correct.
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
  private worker: Worker | null = null;
  private readonly shared = new SharedArrayBuffer(CONTROL_BYTES);
  private readonly control = new Int32Array(this.shared, 0, 2);
  private readonly grant = new Float64Array(this.shared);
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
    let worker: Worker;
    try {
      worker = this.worker ?? this.start();
    } catch (err) {
      return Promise.reject(this.cannotStart(err));
    }
    Atomics.store(this.control, ABORT, 0);
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
    Atomics.store(this.control, ABORT, 1);
    Atomics.notify(this.control, NUMBERS);
  }

  /** Stops the running job (waiting for it to clean up its outputs), then ends the thread. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort();
    if (this.job !== null) await this.job.done;
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
  }

  private start(): Worker {
    const workerData = { control: this.shared, niceness: this.niceness };
    // Node 20 does not apply loader hooks from a worker's `--import` to the worker's own entry, so
    // from the sources a small bootstrap registers tsx (a dev dependency) before importing it.
    const worker = this.entry.pathname.endsWith(".ts")
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})` +
            `.then((tsx) => { tsx.register(); return import(${JSON.stringify(this.entry.href)}); });`,
          { eval: true, workerData },
        )
      : new Worker(this.entry, { workerData });
    worker.unref();
    worker.on("message", (msg: FromWorker) => this.onMessage(msg));
    worker.on("error", (err) => this.onDeath(worker, err));
    worker.on("exit", (code) => this.onDeath(worker, new Error(`it exited with code ${code}`)));
    this.worker = worker;
    this.ready = false;
    return worker;
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
    this.worker?.unref();
    return job;
  }

  private onMessage(msg: FromWorker): void {
    const job = this.job;
    if (msg.type === "ready") {
      this.ready = true;
      return;
    }
    if (job === null) return;
    if (msg.type === "numbers") {
      let count = 0;
      let first = 0;
      if (Atomics.load(this.control, ABORT) === 0 && job.reserve !== undefined) {
        count = job.granted;
        first = job.reserve(count);
        job.granted += count;
      }
      this.grant[GRANT_FIRST] = first;
      this.grant[GRANT_COUNT] = count;
      Atomics.store(this.control, NUMBERS, NUMBERS_GRANTED);
      Atomics.notify(this.control, NUMBERS);
    } else if (msg.type === "done") {
      this.finish()?.resolve(msg.result);
    } else {
      this.finish()?.reject(deserializeError(msg.error));
    }
  }

  private onDeath(worker: Worker, err: unknown): void {
    if (this.worker !== worker) return; // Terminated by close(), or already replaced.
    const job = this.finish();
    this.worker = null;
    if (!this.ready) {
      job?.reject(this.cannotStart(err));
      return;
    }
    job?.reject(new IOError(`lsmdoc/engine: the compaction thread died during a merge: ${(err as Error)?.message ?? String(err)}`, err));
  }
}
