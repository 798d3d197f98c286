/**
 * Copies of small byte strings handed out to callers (values returned by `Engine.getSync`, user
 * keys assembled by a block cursor, which a merge asks for once per entry) are
 * carved from shared 8 KiB slabs, the way Node's `Buffer` pool works: in V8 a separately allocated
 * Uint8Array of a few hundred bytes costs ~0.7 µs (its own ArrayBuffer, allocated and tracked),
 * a copy into a slab ~0.07 µs. Each copy owns its bytes (copies never overlap, and a slab is
 * never written again where it was handed out), so writing to one changes nothing else; but its
 * `.buffer` is the whole slab, and the slab stays allocated while any copy from it is held, at
 * most 8 KiB per held copy. Copies larger than 1 KiB get arrays of their own.
 */

const SLAB_SIZE = 8 * 1024;
const MAX_SLAB_COPY = 1024;

let slab = new Uint8Array(SLAB_SIZE);
let used = 0;

/** Below this length a loop copies faster than creating a view for a native `set`. */
const SHORT_COPY = 64;

/** A copy of `bytes` that the caller owns (see the module comment for what shares its buffer). */
export function copyOut(bytes: Uint8Array): Uint8Array {
  return copyOutRange(bytes, 0, bytes.length);
}

/** A copy of `src[start, end)` that the caller owns (short ones copied without a view of the source). */
export function copyOutRange(src: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n > MAX_SLAB_COPY) return src.slice(start, end);
  if (used + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const at = used;
  const out = slab.subarray(at, at + n);
  if (n <= SHORT_COPY) {
    const s = slab;
    for (let i = 0; i < n; i++) s[at + i] = src[start + i]!;
  } else {
    out.set(src.subarray(start, end));
  }
  used += n;
  return out;
}
