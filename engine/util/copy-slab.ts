/**
 * Copies of small byte strings handed out to callers (values returned by `Engine.getSync`) are
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

/** A copy of `bytes` that the caller owns (see the module comment for what shares its buffer). */
export function copyOut(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > MAX_SLAB_COPY) return bytes.slice();
  if (used + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  out.set(bytes);
  used += n;
  return out;
}
