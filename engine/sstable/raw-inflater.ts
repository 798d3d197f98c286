/**
 * Owns the one raw-DEFLATE decompressor each thread reuses for data blocks.
 *
 * Why not `zlib.inflateRawSync` per block: each call builds a stream object and a fresh zlib
 * context (inflateInit, a 32 KiB window, then teardown), which costs as much as inflating a few
 * KiB; with a million documents nearly every read is a block-cache miss and pays it (measured on
 * 16 KiB blocks: 61 -> 49 µs per block, and less garbage for the collector). Node's sync zlib API
 * has no reusable form, so this drives the native handle behind `zlib.createInflateRaw()` the way
 * Node's own `inflateRawSync` does (`reset`, then one `writeSync` with Z_FINISH, errors through
 * `onerror`). Those are internals: they are used only on Node majors known to have them, on
 * first use they are checked by inflating a known stream, and on any Node where they are missing
 * or behave differently `rawInflater()` returns null and the caller uses the public API.
 */
import { constants, createInflateRaw, deflateRawSync } from "node:zlib";

/** What one inflate did: bytes written to `out`, input bytes left after the stream ended. */
export interface InflateOutcome {
  written: number;
  unread: number;
}

export interface RawInflater {
  /**
   * Inflates the raw DEFLATE stream at `input[offset..]` into `out`. Returns zlib's message when
   * the stream is invalid or ends before its final block, else the outcome. A stream that needs
   * more room than `out` has fills it (`written === out.length`) without ending, so a caller that
   * knows the size to expect gives one byte more and treats a full `out` as an error.
   */
  inflate(input: Uint8Array, offset: number, out: Uint8Array): InflateOutcome | string;
}

interface NativeZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

let inflater: RawInflater | null | undefined;

/** The thread's reusable inflater, or null where Node's internals do not allow one. */
export function rawInflater(): RawInflater | null {
  if (inflater === undefined) inflater = makeInflater();
  return inflater;
}

/**
 * Node majors whose handle is known to take `writeSync(flush, in, inOff, inLen, out, outOff,
 * outLen)`: a native argument check that fails aborts the process rather than throwing, which
 * the self-test could not catch, so other versions take the public path.
 */
const KNOWN_NODE_MAJORS = [20, 21, 22, 23, 24];

function makeInflater(): RawInflater | null {
  if (!KNOWN_NODE_MAJORS.includes(Number(process.versions.node.split(".")[0]))) return null;
  try {
    const stream = createInflateRaw() as unknown as { _handle?: NativeZlibHandle; _writeState?: unknown };
    const handle = stream._handle;
    const state = stream._writeState;
    if (handle === undefined || typeof handle.writeSync !== "function" || typeof handle.reset !== "function") return null;
    if (!(state instanceof Uint32Array) || state.length < 2) return null;
    let error: string | null = null;
    handle.onerror = (message) => {
      error = message;
    };
    const candidate: RawInflater = {
      inflate(input, offset, out) {
        error = null;
        handle.reset();
        if (error !== null) return error;
        handle.writeSync(constants.Z_FINISH, input, offset, input.length - offset, out, 0, out.length);
        // With Z_FINISH zlib reports a stream cut short; one that would overrun `out` fills it
        // (the caller's check), so no error and room left means the stream ended.
        if (error !== null) return error;
        return { written: out.length - state[0]!, unread: state[1]! };
      },
    };
    return selfTest(candidate) ? candidate : null;
  } catch {
    return null;
  }
}

/** True when `candidate` round-trips a known stream and reports a cut one as an error. */
function selfTest(candidate: RawInflater): boolean {
  const raw = new Uint8Array(3000);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i >> 5)) & 0xff;
  const stream = deflateRawSync(raw);
  const padded = new Uint8Array(stream.length + 3);
  padded.set(stream, 1);
  const out = new Uint8Array(raw.length + 1);
  const ok = candidate.inflate(padded, 1, out);
  if (typeof ok === "string" || ok.written !== raw.length || ok.unread !== 2) return false;
  for (let i = 0; i < raw.length; i++) if (out[i] !== raw[i]) return false;
  const cut = candidate.inflate(stream.subarray(0, stream.length - 4), 0, out);
  if (typeof cut !== "string") return false;
  // And the handle recovers from that error for the next block.
  const again = candidate.inflate(stream, 0, out);
  return typeof again !== "string" && again.written === raw.length && again.unread === 0;
}
