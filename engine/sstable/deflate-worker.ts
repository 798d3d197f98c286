/**
 * Compresses batches of data blocks off the JavaScript thread, for the table builder.
 *
 * Why a worker thread and not zlib's asynchronous API on libuv's pool: Node's `zlib.deflateRaw`
 * builds a stream and a zlib context per call on the calling thread, and tears them down there;
 * measured on 4 KiB blocks that costs the event loop 25-50 µs per block, as much as compressing
 * the block synchronously (docs/architecture.md, "Compression"). A worker that receives ~64 KiB
 * of blocks per message costs the event loop one copy and one message per batch (~5 µs per
 * block), and compresses on the other core while the builder fills the next batch.
 *
 * One worker per process, started on first use and shared by every engine (threads other than
 * the main one compress inline: see `sharedCompressor`); it is unref'd while idle so that it
 * never keeps a process alive, and ref'd while a batch is out so that a pending flush does. Results come back in submission order. If the worker cannot start or dies, the
 * batches it held, and every later one, are compressed on the calling thread instead: slower,
 * never wrong.
 */
import { isMainThread, Worker } from "node:worker_threads";
import { deflateBlock } from "./compression.js";

/** Blocks back to back in `bytes`; block i ends at `ends[i]` (and starts where block i-1 ends). */
export interface BlockBatch {
  bytes: Uint8Array;
  ends: Uint32Array;
}

export interface BlockCompressor {
  /** Raw DEFLATE of every block of `batch` at `level`, as another batch of the same length. */
  deflate(batch: BlockBatch, level: number): Promise<BlockBatch>;
}

/** Compresses on the calling thread (tests, and the fallback when no worker can run). */
export function deflateBatch(batch: BlockBatch, level: number): BlockBatch {
  const parts: Uint8Array[] = [];
  let total = 0;
  let start = 0;
  for (const end of batch.ends) {
    const c = deflateBlock(batch.bytes.subarray(start, end), level);
    parts.push(c);
    total += c.length;
    start = end;
  }
  const bytes = new Uint8Array(total);
  const ends = new Uint32Array(parts.length);
  let p = 0;
  for (let i = 0; i < parts.length; i++) {
    bytes.set(parts[i]!, p);
    p += parts[i]!.length;
    ends[i] = p;
  }
  return { bytes, ends };
}

export const inlineCompressor: BlockCompressor = {
  deflate: (batch, level) => Promise.resolve(deflateBatch(batch, level)),
};

/**
 * The worker's program, evaluated as a CommonJS script: a string rather than a file so that it
 * runs the same from the compiled package and from TypeScript sources under test.
 */
const WORKER_SOURCE = `"use strict";
const { parentPort } = require("node:worker_threads");
const { deflateRawSync } = require("node:zlib");
parentPort.on("message", ({ id, bytes, ends, level }) => {
  try {
    const parts = [];
    let total = 0;
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const c = deflateRawSync(bytes.subarray(start, ends[i]), { level });
      parts.push(c);
      total += c.length;
      start = ends[i];
    }
    const out = new Uint8Array(total);
    const outEnds = new Uint32Array(ends.length);
    let p = 0;
    for (let i = 0; i < parts.length; i++) {
      out.set(parts[i], p);
      p += parts[i].length;
      outEnds[i] = p;
    }
    parentPort.postMessage({ id, bytes: out, ends: outEnds }, [out.buffer, outEnds.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

interface Job {
  batch: BlockBatch;
  level: number;
  resolve(result: BlockBatch): void;
}

interface Reply {
  id: number;
  bytes?: Uint8Array;
  ends?: Uint32Array;
  error?: string;
}

export class DeflateWorker implements BlockCompressor {
  private worker: Worker | null = null;
  /** Set once the worker failed to start or died: everything is compressed inline from then on. */
  private broken = false;
  private nextId = 0;
  private readonly jobs = new Map<number, Job>();

  deflate(batch: BlockBatch, level: number): Promise<BlockBatch> {
    const worker = this.broken ? null : (this.worker ?? this.start());
    if (worker === null) return inlineCompressor.deflate(batch, level);
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.jobs.set(id, { batch, level, resolve });
      if (this.jobs.size === 1) worker.ref();
      // A copy goes over (transferred, so it is not copied twice): the caller keeps `batch`, and
      // so does this job, in case the worker dies holding it.
      const bytes = batch.bytes.slice();
      const ends = batch.ends.slice();
      worker.postMessage({ id, bytes, ends, level }, [bytes.buffer, ends.buffer]);
    });
  }

  /** Stops the worker; batches it held are compressed inline. Later batches start a new worker. */
  async terminate(): Promise<void> {
    const w = this.worker;
    if (w === null) return;
    this.detach(w);
    this.fallBack();
    await w.terminate();
  }

  private start(): Worker | null {
    let w: Worker;
    try {
      w = new Worker(WORKER_SOURCE, { eval: true });
    } catch {
      this.broken = true;
      return null;
    }
    w.unref();
    w.on("message", (reply: Reply) => this.onReply(reply));
    const fail = (): void => {
      if (this.worker !== w) return;
      this.detach(w);
      this.broken = true;
      this.fallBack();
    };
    w.on("error", fail);
    w.on("messageerror", fail);
    w.on("exit", fail);
    this.worker = w;
    return w;
  }

  private detach(w: Worker): void {
    if (this.worker === w) this.worker = null;
    w.removeAllListeners();
    // An 'error' after detaching must not become an uncaught exception.
    w.on("error", () => {});
  }

  private onReply(reply: Reply): void {
    const job = this.jobs.get(reply.id);
    if (job === undefined) return;
    this.jobs.delete(reply.id);
    if (this.jobs.size === 0) this.worker?.unref();
    if (reply.error !== undefined || reply.bytes === undefined || reply.ends === undefined) {
      job.resolve(deflateBatch(job.batch, job.level));
    } else {
      job.resolve({ bytes: reply.bytes, ends: reply.ends });
    }
  }

  /** Compresses, inline and in order, every batch the worker held. */
  private fallBack(): void {
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of jobs) job.resolve(deflateBatch(job.batch, job.level));
  }
}

let shared: DeflateWorker | undefined;

/**
 * The compressor table builders use by default: on the main thread, the process's compression
 * worker (started on first use); on any other thread (the compaction thread), inline, since that
 * thread is off the event loop already and a nested worker would only add a thread and a message
 * per batch (measured: slightly less CPU in total, the same throughput).
 */
export function sharedCompressor(): BlockCompressor {
  if (!isMainThread) return inlineCompressor;
  return (shared ??= new DeflateWorker());
}
