/**
 * Buffered NDJSON output that respects the stream's backpressure, so exporting a large collection
 * into a slow pipe does not pile the whole collection up in memory.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";

const FLUSH_AT = 64 * 1024;

export class LineWriter {
  private buffer = "";

  constructor(private readonly out: Writable) {}

  async write(line: string): Promise<void> {
    this.buffer += line;
    if (this.buffer.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer;
    this.buffer = "";
    if (!this.out.write(chunk)) await once(this.out, "drain");
  }
}
