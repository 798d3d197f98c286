/**
 * Micro-benchmark of the index-key encoder (collections/key-codec.ts): ns per encoded key for the
 * shapes every document write produces. Prints numbers only; asserts nothing.
 *
 *   npx tsx scripts/bench-key-codec.ts
 */
import { encodeIndexValue, encodeKey, KeyWriter } from "../collections/key-codec.js";

const ITERATIONS = 2_000_000;
const ROUNDS = 5;

let sink = 0;

/** Best of ROUNDS runs, in ns/op: the minimum is the least noisy estimate of the code's own cost. */
function bench(name: string, op: (i: number) => number): void {
  for (let i = 0; i < 200_000; i++) sink += op(i); // warm up the JIT
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) sink += op(i);
    const ns = Number(process.hrtime.bigint() - start) / ITERATIONS;
    if (ns < best) best = ns;
  }
  console.log(`${name.padEnd(48)} ${best.toFixed(1).padStart(7)} ns/op`);
}

const numbers = Array.from({ length: 1024 }, (_, i) => (i - 512) * 1.37);
const strings = Array.from({ length: 1024 }, (_, i) => `user${String(i).padStart(8, "0")}`); // 12 ASCII chars
const compound = Array.from({ length: 1024 }, (_, i) => ["London", 20 + (i % 60), `u${i}@x.io`] as const);
const longStrings = Array.from({ length: 64 }, (_, i) => `${"Zürich Straße ".repeat(14)}${i}`); // ~200 chars, non-ASCII
const writer = new KeyWriter();

console.log(`node ${process.version}, ${ITERATIONS} ops per round, best of ${ROUNDS}`);
bench("encodeIndexValue(number)", (i) => encodeIndexValue(numbers[i & 1023]!).length);
bench("encodeIndexValue(12-char ASCII string)", (i) => encodeIndexValue(strings[i & 1023]!).length);
bench("encodeKey([string, number, string])", (i) => encodeKey(compound[i & 1023]!).length);
bench("KeyWriter number, no copy", (i) => writer.reset().writeNumber(numbers[i & 1023]!).length);
bench("KeyWriter 12-char string, no copy", (i) => writer.reset().writeString(strings[i & 1023]!).length);
bench("KeyWriter 3 fields, no copy", (i) => {
  const k = compound[i & 1023]!;
  return writer.reset().writeString(k[0]).writeNumber(k[1]).writeString(k[2]).length;
});
bench("KeyWriter ~200-char non-ASCII string, no copy", (i) => writer.reset().writeString(longStrings[i & 63]!).length);
bench("(baseline) Buffer.from(12-char string)", (i) => Buffer.from(strings[i & 1023]!).length);
if (sink === -1) console.log(sink);
