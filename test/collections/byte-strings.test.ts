/**
 * collections/byte-strings.ts: the fast byte-range decoders agree with Buffer's own decoding, on
 * plain Uint8Arrays and on views at an offset, for ASCII, multi-byte UTF-8 and arbitrary bytes.
 */
import { describe, expect, it } from "vitest";
import { latin1String, utf8String } from "../../collections/byte-strings.js";
import { Rng, testSeeds } from "../fixtures/random.js";

describe("byte strings", () => {
  it("decodes UTF-8 ranges of plain arrays and offset views", () => {
    for (const text of ["", "01JABCDEFGHJKMNPQRSTVWXYZ0", "héllo wörld", "日本語テキスト", "emoji 🎉 end"]) {
      const encoded = Buffer.from(text, "utf8");
      const padded = new Uint8Array(encoded.length + 7);
      padded.set(encoded, 3);
      const view = new Uint8Array(padded.buffer, 2, encoded.length + 2);
      expect(utf8String(new Uint8Array(encoded))).toBe(text);
      expect(utf8String(padded, 3, 3 + encoded.length)).toBe(text);
      expect(utf8String(view, 1, 1 + encoded.length)).toBe(text);
    }
  });

  for (const seed of testSeeds(2)) {
    it(`maps distinct byte strings to distinct strings and equal ones to equal (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (let i = 0; i < 500; i++) {
        const a = rng.bytes(rng.int(40));
        const b = rng.chance(0.5) ? a.slice() : rng.bytes(rng.int(40));
        expect(latin1String(a) === latin1String(b), `seed ${seed}`).toBe(Buffer.compare(a, b) === 0);
        expect(latin1String(a)).toBe(Buffer.from(a).toString("latin1"));
      }
    });
  }
});
