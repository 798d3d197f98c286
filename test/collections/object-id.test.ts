/**
 * collections/object-id.ts: 26 Crockford base-32 characters, the first 10 the millisecond
 * timestamp, the rest random; strictly increasing within a millisecond, across milliseconds, and
 * when the clock goes back. The generator keeps its last millisecond across calls, so each test
 * uses later clock values than the one before it.
 */
import { describe, expect, it } from "vitest";
import { generateId } from "../../collections/object-id.js";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function timeOf(id: string): number {
  let t = 0;
  for (const ch of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(ch);
  return t;
}

describe("generateId", () => {
  it("encodes the millisecond in the first 10 characters and uses only the alphabet", () => {
    for (const ms of [0, 1, 31, 32, 1023, 1024, 32 ** 3, 32 ** 4 - 1, 32 ** 5]) {
      const id = generateId(10 ** 12 + ms);
      expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(timeOf(id)).toBe(10 ** 12 + ms);
    }
  });

  it("increases strictly within one millisecond, across milliseconds, and when the clock goes back", () => {
    const base = 1.7 * 10 ** 12;
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) ids.push(generateId(base));
    for (let i = 0; i < 100; i++) ids.push(generateId(base + 1 + (i >> 3)));
    for (let i = 0; i < 100; i++) ids.push(generateId(base - 1000)); // clock went back
    ids.push(generateId(base + 10_000));
    for (let i = 1; i < ids.length; i++) if (!(ids[i - 1]! < ids[i]!)) expect.fail(`id ${i} ${ids[i]} is not after ${ids[i - 1]}`);
    // Within a millisecond only the random part changes; a later millisecond changes the prefix.
    expect(ids[4999]!.slice(0, 10)).toBe(ids[0]!.slice(0, 10));
    expect(timeOf(ids[5000]!)).toBe(base + 1);
    expect(timeOf(ids.at(-1)!)).toBe(base + 10_000);
  });

  it("draws new random characters in each new millisecond, up to the largest time it encodes", () => {
    const a = generateId(1.8 * 10 ** 12);
    const b = generateId(1.8 * 10 ** 12 + 1);
    expect(a.slice(10)).not.toBe(b.slice(10));
    const last = generateId(32 ** 10 - 1);
    expect(last.slice(0, 10)).toBe("ZZZZZZZZZZ");
    expect(last).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
