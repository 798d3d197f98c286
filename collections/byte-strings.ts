/**
 * Strings from byte ranges without a Buffer object per call. `Buffer.from(ab, off, len)` plus
 * `toString` costs ~0.5 µs per short key (it allocates a Buffer view first); Node's slice methods
 * called on the Uint8Array itself do the same work in ~0.1 µs. Ids and overlay keys are decoded
 * for every document a query or a write touches, so this shows in profiles.
 */
type SliceMethod = (this: Uint8Array, start: number, end: number) => string;

const proto = Buffer.prototype as unknown as { utf8Slice?: SliceMethod; latin1Slice?: SliceMethod };
const decoder = new TextDecoder();

const utf8Slice: SliceMethod =
  typeof proto.utf8Slice === "function" ? proto.utf8Slice : function (this: Uint8Array, start, end) {
    return decoder.decode(this.subarray(start, end));
  };
const latin1Slice: SliceMethod =
  typeof proto.latin1Slice === "function" ? proto.latin1Slice : function (this: Uint8Array, start, end) {
    return Buffer.from(this.buffer, this.byteOffset + start, end - start).toString("latin1");
  };

/** `bytes[start, end)` decoded as UTF-8. */
export function utf8String(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return utf8Slice.call(bytes, start, end);
}

/** `bytes` as a string of one char per byte: a Map key that compares like the bytes do for equality. */
export function latin1String(bytes: Uint8Array): string {
  return latin1Slice.call(bytes, 0, bytes.length);
}
