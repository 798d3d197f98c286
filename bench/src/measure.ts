/**
 * Measuring helpers: clocks, the event-loop delay histogram, directory sizes, peak RSS.
 */
import { readdirSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";

export const now = (): number => performance.now();

/** Operations per second. */
export const rate = (ops: number, ms: number): number => (ms > 0 ? (ops / ms) * 1000 : 0);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Recursive sum of the sizes of the regular files under `dir`, and of the bytes the file system
 * allocated for them (smaller for sparse files, such as a memory map grown ahead of its data).
 */
export function dirBytes(dir: string): { size: number; allocated: number } {
  const total = { size: 0, allocated: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = dirBytes(p);
      total.size += sub.size;
      total.allocated += sub.allocated;
    } else if (entry.isFile()) {
      const st = lstatSync(p);
      total.size += st.size;
      total.allocated += st.blocks * 512;
    }
  }
  return total;
}

/** Peak resident set size of this process, in bytes. */
export const peakRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

/**
 * Event-loop delay over chosen stretches only (the timed write loops), with
 * `monitorEventLoopDelay` at 1 ms resolution. Each stretch gets a fresh monitor: a monitor that is
 * disabled and enabled again counts the time it was off as one long delay. Histograms of the
 * monitor cannot be merged, so the summary is the worst stretch's p99 and the overall max.
 */
export class LoopDelay {
  private readonly windows: Array<{ p99Ms: number; maxMs: number; samples: number }> = [];

  async during<T>(fn: () => Promise<T>): Promise<T> {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    // The monitor's first tick only sets its reference time: let it happen before the stretch, or a
    // stretch that never yields would be recorded as nothing at all.
    await new Promise((resolve) => setTimeout(resolve, 3));
    try {
      return await fn();
    } finally {
      // One turn of the loop, so that a stretch that never yielded (a synchronous store in a loop
      // of awaited calls) is recorded as the one long delay it was.
      await new Promise((resolve) => setTimeout(resolve, 2));
      h.disable();
      if (h.count > 0) this.windows.push({ p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, samples: h.count });
    }
  }

  /** Worst p99 and max over the stretches, in ms (undefined when nothing was sampled). */
  summary(): { p99Ms: number; maxMs: number; perStretch: Array<{ p99Ms: number; maxMs: number; samples: number }> } | undefined {
    if (this.windows.length === 0) return undefined;
    return {
      p99Ms: Math.max(...this.windows.map((w) => w.p99Ms)),
      maxMs: Math.max(...this.windows.map((w) => w.maxMs)),
      perStretch: this.windows,
    };
  }
}
