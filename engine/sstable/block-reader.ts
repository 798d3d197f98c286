/**
 * The cursor over one key/value block (layout in `format.ts`; the loaded block is `block.ts`):
 * {@link BlockIterator} walks entries, checking every bound as it goes (varints, key and value
 * lengths, shared <= previous key length, shared = 0 at restart points, no restart point inside an
 * entry, the internal-key trailer). Any violation throws `CorruptionError(file, offset)` at the
 * exact byte; a block only gets here after its CRC matched, so these checks are the second line.
 *
 * Zero-copy: values are views into the block's bytes, and a key stored whole (a restart point) is
 * returned as a view too; other keys are assembled in a reused scratch buffer and copied out only
 * when `userKey()` is called, at most once per position (and not at all for the next version of
 * the same user key), into a shared slab (util/copy-slab.ts): a merge asks for every entry's key,
 * and an array of its own per key cost a compaction about as much as the rest of its work. Block
 * bytes are never modified after loading, so every array handed out stays valid and unchanged for
 * as long as its holder keeps it.
 *
 * Seeks and shared prefixes: keys in a block share long prefixes (document keys: namespace,
 * collection, the id's timestamp). `seek` compares the prefix all restart keys share with the
 * target once, then compares restart keys only past it; in the scan after the binary search,
 * an entry is compared only from the bytes it shares with the previous key that already matched
 * the target, and one that shares fewer is known to be past the target. That scan reads the
 * entries it passes straight from the block (their headers, bounds and restart rules checked,
 * their keys compared in place, nothing assembled or decoded) and parses in full only the entry
 * it stops at: a seek in a 16 KiB block of documents went from ~600 to ~250 ns. An entry passed
 * that way never reaches a caller, so its trailer is not checked; anything outside the common
 * case sends the seek to the full parser.
 */
import { copyOutRange } from "../util/copy-slab.js";
import { decodeVarint32, type VarintOut } from "../util/varint.js";
import { decodeBlockHandle, type BlockHandle } from "./format.js";
import type { EntryKind } from "../wal/record.js";
import type { Block } from "./block.js";
import { compareUserKeyAt, TRAILER_SIZE, trailerSeq } from "./internal-key.js";

const EMPTY = new Uint8Array(0);

/**
 * A cursor over one block. In internal-key mode (data and index blocks) keys must be
 * `userKey ++ trailer` with a valid seq and kind 1 or 2; in raw mode (the meta block) keys are
 * plain bytes and only `rawKey()` / `value()` apply. One iterator can be re-pointed at another
 * block with `reset()`, which is how table readers avoid allocating one per block.
 */
export class BlockIterator {
  private block: Block | null = null;
  private data: Uint8Array = EMPTY;
  private restartsOffset = 0;
  private numRestarts = 0;
  private restarts: Uint32Array = new Uint32Array(1);

  /** Offset of the current entry; `restartsOffset` when not positioned. */
  private current = 0;
  private nextOffset = 0;
  private restartIndex = 0;
  /** Offset of the restart point after `restartIndex` (or `restartsOffset`). */
  private nextRestart = 0;

  private keyBuf = new Uint8Array(64);
  private keyLen = 0;
  /** Bytes the current key shares with the previous one (0 at a restart point). */
  private curShared = 0;
  /** Where the current key lies whole in `data` (it was stored with shared = 0), else -1. */
  private wholeKeyAt = -1;
  private userKeyCache: Uint8Array | null = null;
  private curSeq = 0;
  private curKind = 0;
  private valueOffset = 0;
  private valueLen = 0;

  private readonly vo: VarintOut = { value: 0 };

  constructor(private readonly internalKeys = true) {}

  /** Points the iterator at `block`, unpositioned. */
  reset(block: Block): void {
    this.block = block;
    this.data = block.data;
    this.restartsOffset = block.restartsOffset;
    this.numRestarts = block.numRestarts;
    this.restarts = block.restarts;
    this.current = this.restartsOffset;
    this.nextOffset = this.restartsOffset;
    this.keyLen = 0;
    this.userKeyCache = null;
  }

  valid(): boolean {
    return this.current < this.restartsOffset;
  }

  /** Offset of the current entry within the block. */
  get entryOffset(): number {
    return this.current;
  }

  private invalidate(): void {
    this.current = this.restartsOffset;
    this.nextOffset = this.restartsOffset;
  }

  private seekToRestartPoint(i: number): void {
    this.restartIndex = i;
    this.nextRestart = i + 1 < this.numRestarts ? this.restarts[i + 1]! : this.restartsOffset;
    this.nextOffset = this.restarts[i]!;
    this.keyLen = 0;
    this.userKeyCache = null;
  }

  /** Decodes the entry at `nextOffset`; false (and unpositioned) at the end of the entries. */
  private parseNext(): boolean {
    const d = this.data;
    const end = this.restartsOffset;
    const p0 = this.nextOffset;
    if (p0 >= end) {
      this.invalidate();
      return false;
    }
    this.current = p0;
    // nextRestart >= p0 always holds: the previous entry was checked not to straddle it.
    const crossedRestart = this.nextRestart === p0;
    if (crossedRestart) {
      this.restartIndex++;
      this.nextRestart = this.restartIndex + 1 < this.numRestarts ? this.restarts[this.restartIndex + 1]! : end;
    }
    let p = p0;
    let shared: number;
    let unshared: number;
    let valueLen: number;
    if (p + 3 <= end && (d[p]! | d[p + 1]! | d[p + 2]!) < 0x80) {
      shared = d[p]!;
      unshared = d[p + 1]!;
      valueLen = d[p + 2]!;
      p += 3;
    } else if (p + 4 <= end && (d[p]! | d[p + 1]!) < 0x80 && d[p + 3]! - 1 < 0x7f) {
      // A two-byte value length (128 bytes to 16 KiB: typical documents); a final byte of 0 would
      // be an overlong encoding, which the general decoder rejects.
      shared = d[p]!;
      unshared = d[p + 1]!;
      valueLen = (d[p + 2]! & 0x7f) | (d[p + 3]! << 7);
      p += 4;
    } else {
      const vo = this.vo;
      p = decodeVarint32(d, p, end, vo);
      shared = vo.value;
      if (p >= 0) p = decodeVarint32(d, p, end, vo);
      unshared = vo.value;
      if (p >= 0) p = decodeVarint32(d, p, end, vo);
      valueLen = vo.value;
      if (p < 0) this.block!.corrupt(p0, "malformed entry header");
    }
    const oldLen = this.keyLen;
    if (crossedRestart && shared !== 0) this.block!.corrupt(p0, "restart point entry shares bytes with a previous key");
    if (shared > oldLen) this.block!.corrupt(p0, `entry shares ${shared} bytes of a ${oldLen}-byte previous key`);
    if (unshared > end - p || valueLen > end - p - unshared) this.block!.corrupt(p0, "entry runs past the end of the block's entries");
    const newLen = shared + unshared;
    if (newLen > this.keyBuf.length) {
      const grown = new Uint8Array(Math.max(newLen, this.keyBuf.length * 2));
      grown.set(this.keyBuf.subarray(0, shared));
      this.keyBuf = grown;
    }
    const kb = this.keyBuf;
    if (unshared > 24) kb.set(d.subarray(p, p + unshared), shared);
    else for (let i = 0; i < unshared; i++) kb[shared + i] = d[p + i]!;
    this.wholeKeyAt = shared === 0 ? p : -1;
    this.curShared = shared;
    this.keyLen = newLen;
    if (this.internalKeys) {
      if (newLen < TRAILER_SIZE) this.block!.corrupt(p0, `internal key of ${newLen} bytes is shorter than its trailer`);
      const t = newLen - TRAILER_SIZE;
      const seq = trailerSeq(kb, t);
      const kind = kb[t]!;
      if (seq < 0 || (kind !== 1 && kind !== 2)) this.block!.corrupt(p0, `bad internal key trailer (kind ${kind})`);
      // Same user key as before (a newer-to-older version step): keep the copy already made.
      if (!(oldLen === newLen && shared >= t)) this.userKeyCache = null;
      this.curSeq = seq;
      this.curKind = kind;
    }
    p += unshared;
    this.valueOffset = p;
    this.valueLen = valueLen;
    this.nextOffset = p + valueLen;
    if (this.nextRestart < this.nextOffset) this.block!.corrupt(this.nextRestart, "restart point inside an entry");
    return true;
  }

  seekToFirst(): void {
    this.seekToRestartPoint(0);
    this.parseNext();
  }

  seekToLast(): void {
    this.seekToRestartPoint(this.numRestarts - 1);
    while (this.parseNext() && this.nextOffset < this.restartsOffset) {
      // Walk to the block's last entry.
    }
  }

  next(): void {
    this.parseNext();
  }

  prev(): void {
    const original = this.current;
    const saved = this.userKeyCache;
    const block = this.block!;
    while (this.restarts[this.restartIndex]! >= original) {
      if (this.restartIndex === 0) {
        this.invalidate();
        return;
      }
      this.restartIndex--;
    }
    this.seekToRestartPoint(this.restartIndex);
    while (this.parseNext() && this.nextOffset < original) {
      // Walk to the entry just before `original`.
    }
    if (this.nextOffset !== original) block.corrupt(original, "entries do not chain up to the previous position");
    if (saved !== null && this.internalKeys && this.keyLen - TRAILER_SIZE === saved.length &&
        compareUserKeyAt(this.keyBuf, 0, saved.length, saved) === 0) {
      this.userKeyCache = saved;
    }
  }

  /**
   * Compares the key stored at restart point `i` with (key, seq); their first `skip` bytes are
   * known to be equal (both are at least that long).
   */
  private compareRestartKey(i: number, key: Uint8Array, seq: number, skip: number): number {
    const d = this.data;
    const end = this.restartsOffset;
    const at = this.restarts[i]!;
    let p: number;
    let unshared: number;
    // Fast paths: shared (0 here) and unshared take one byte each, the value length one or two
    // (documents of 128 bytes to 16 KiB); the value length is not needed here, only its size.
    if (at + 3 <= end && d[at] === 0 && (d[at + 1]! | d[at + 2]!) < 0x80) {
      unshared = d[at + 1]!;
      p = at + 3;
    } else if (at + 4 <= end && d[at] === 0 && d[at + 1]! < 0x80 && d[at + 3]! - 1 < 0x7f) {
      unshared = d[at + 1]!;
      p = at + 4;
    } else {
      p = this.restartKeyOffset(i);
      unshared = this.restartKeyLength + TRAILER_SIZE;
    }
    if (unshared < TRAILER_SIZE || unshared > end - p) this.block!.corrupt(at, "restart point key out of bounds");
    const userLen = unshared - TRAILER_SIZE;
    const c = compareUserKeyAt(d, p, userLen, key, skip);
    if (c !== 0) return c;
    const s = trailerSeq(d, p + userLen);
    if (s < 0) this.block!.corrupt(at, "bad internal key trailer");
    return seq - s;
  }

  /** Positions at the first entry at or after internal key (key, seq); unpositioned if none. */
  seek(key: Uint8Array, seq: number): void {
    let lo = 0;
    let hi = this.numRestarts - 1;
    // Keys in a block share long prefixes (a collection's documents: namespace, collection, the
    // id's timestamp). Every restart key starts with the prefix the first and last ones share, so
    // that prefix is compared with the target once: a target that leaves it is below or above
    // every restart key, and one that has it is compared from there on.
    let skip = 0;
    if (lo < hi) {
      const prefix = this.restartPrefix();
      const at = this.restartKeyAt;
      const d = this.data;
      const limit = prefix < key.length ? prefix : key.length;
      let m = 0;
      while (m < limit && d[at + m] === key[m]) m++;
      if (m < prefix) {
        if (m < key.length && key[m]! > d[at + m]!) lo = hi;
        else hi = lo;
      } else {
        skip = prefix;
      }
    }
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.compareRestartKey(mid, key, seq, skip) < 0) lo = mid;
      else hi = mid - 1;
    }
    if (this.scanFromRestart(lo, key, seq)) return;
    this.seekToRestartPoint(lo);
    // Bytes of the current user key known equal to the target's. Keys ascend, so an entry that
    // shares fewer bytes than that with the previous key is greater there than the previous key,
    // which equals the target there: past the target without a comparison. One that shares more
    // is compared from `matched` on.
    let matched = 0;
    while (this.parseNext()) {
      if (this.curShared < matched) return;
      const userLen = this.keyLen - TRAILER_SIZE;
      const n = userLen < key.length ? userLen : key.length;
      let i = matched;
      while (i < n && this.keyBuf[i] === key[i]) i++;
      matched = i;
      const c = i < n ? this.keyBuf[i]! - key[i]! : userLen - key.length;
      if ((c !== 0 ? c : seq - this.curSeq) >= 0) return;
    }
  }

  /**
   * The scan of {@link seek} from restart point `lo` to the first entry at or after (key, seq),
   * without decoding the entries it passes: each is compared with the target straight from the
   * block's bytes, since its shared prefix is known from the previous entry's comparison (see
   * seek), so no key is assembled and no trailer decoded until the entry the seek stops at, which
   * is then parsed as usual (keys are then rebuilt from the target's bytes, which the entry shares).
   * Returns false, having changed nothing, on anything but the common case (a header byte or a
   * length outside the fast path, a shared prefix reaching into a trailer or past a key the target
   * extends, a bound or restart rule broken): the caller then scans with the full parser, which
   * also reports a damaged entry exactly.
   */
  private scanFromRestart(lo: number, key: Uint8Array, seq: number): boolean {
    const d = this.data;
    const end = this.restartsOffset;
    const restarts = this.restarts;
    const numRestarts = this.numRestarts;
    let ri = lo;
    let nextRestart = ri + 1 < numRestarts ? restarts[ri + 1]! : end;
    let q = restarts[lo]!;
    /** Internal key length of the entry before q (-1: none yet). */
    let prevLen = -1;
    let prevUserLen = 0;
    let matched = 0;
    const tlen = key.length;
    while (q < end) {
      const atRestart = q === restarts[ri]!;
      // The header forms parseNext decodes without varints, decoded the same way: inline here as
      // there (a shared method returning through fields made seeks ~9% slower).
      let shared: number;
      let unshared: number;
      let valueLen: number;
      let k: number;
      if (q + 3 <= end && (d[q]! | d[q + 1]! | d[q + 2]!) < 0x80) {
        shared = d[q]!;
        unshared = d[q + 1]!;
        valueLen = d[q + 2]!;
        k = q + 3;
      } else if (q + 4 <= end && (d[q]! | d[q + 1]!) < 0x80 && d[q + 3]! - 1 < 0x7f) {
        shared = d[q]!;
        unshared = d[q + 1]!;
        valueLen = (d[q + 2]! & 0x7f) | (d[q + 3]! << 7);
        k = q + 4;
      } else {
        return false;
      }
      const next = k + unshared + valueLen;
      if ((atRestart ? shared !== 0 : shared > prevLen) || unshared < TRAILER_SIZE || next > nextRestart) return false;
      let stop: boolean;
      if (shared < matched) {
        stop = true; // Greater than the previous key where that one equals the target.
      } else if (shared > matched) {
        // Shares the previous key's byte at `matched`, where that key was below the target...
        if (matched >= prevUserLen) return false; // ...unless that key ended there (a prefix of the target).
        stop = false;
      } else {
        const userLen = shared + unshared - TRAILER_SIZE;
        const n = userLen < tlen ? userLen : tlen;
        let i = matched;
        while (i < n && d[k + i - shared] === key[i]) i++;
        let c: number;
        if (i < n) c = d[k + i - shared]! - key[i]!;
        else if (userLen !== tlen) c = userLen - tlen;
        else {
          const es = trailerSeq(d, k + unshared - TRAILER_SIZE);
          if (es < 0) return false;
          c = seq - es;
        }
        if (c >= 0) stop = true;
        else {
          stop = false;
          matched = i;
          prevUserLen = userLen;
        }
      }
      if (stop) {
        // Parse the entry as if just after the previous one: its shared bytes are the target's.
        if (shared > this.keyBuf.length) this.keyBuf = new Uint8Array(Math.max(shared, this.keyBuf.length * 2));
        const kb = this.keyBuf;
        for (let j = 0; j < shared; j++) kb[j] = key[j]!;
        this.restartIndex = atRestart ? ri - 1 : ri;
        this.nextRestart = atRestart ? q : nextRestart;
        this.keyLen = prevLen < 0 ? 0 : prevLen;
        this.userKeyCache = null;
        this.nextOffset = q;
        this.parseNext();
        return true;
      }
      if (shared > matched) prevUserLen = shared + unshared - TRAILER_SIZE;
      prevLen = shared + unshared;
      q = next;
      if (q === nextRestart && q < end) {
        ri++;
        nextRestart = ri + 1 < numRestarts ? restarts[ri + 1]! : end;
      }
    }
    this.invalidate();
    return true;
  }

  /** Where restart point 0's key starts in the block, set by {@link restartPrefix}. */
  private restartKeyAt = 0;

  /**
   * Length of the prefix shared by the first and last restart keys of the block (so by all of
   * them), computed once per block; sets {@link restartKeyAt}.
   */
  private restartPrefix(): number {
    const block = this.block!;
    if (block.restartPrefixLength >= 0) {
      this.restartKeyAt = block.restartKeyAt;
      return block.restartPrefixLength;
    }
    const first = this.restartKeyOffset(0);
    this.restartKeyAt = block.restartKeyAt = first;
    const firstLen = this.restartKeyLength;
    const last = this.restartKeyOffset(this.numRestarts - 1);
    const lastLen = this.restartKeyLength;
    const d = this.data;
    const limit = Math.min(firstLen, lastLen);
    let n = 0;
    while (n < limit && d[first + n] === d[last + n]) n++;
    block.restartPrefixLength = n;
    return n;
  }

  /**
   * Offset of restart point `i`'s user key, its header decoded and checked in full; its length
   * goes to {@link restartKeyLength}.
   */
  private restartKeyOffset(i: number): number {
    const d = this.data;
    const end = this.restartsOffset;
    const at = this.restarts[i]!;
    const vo = this.vo;
    let p = decodeVarint32(d, at, end, vo);
    if (p >= 0 && vo.value !== 0) this.block!.corrupt(at, "restart point entry shares bytes with a previous key");
    if (p >= 0) p = decodeVarint32(d, p, end, vo);
    const unshared = vo.value;
    if (p >= 0) p = decodeVarint32(d, p, end, vo);
    if (p < 0) this.block!.corrupt(at, "malformed entry header at restart point");
    if (unshared < TRAILER_SIZE || unshared > end - p) this.block!.corrupt(at, "restart point key out of bounds");
    this.restartKeyLength = unshared - TRAILER_SIZE;
    return p;
  }

  private restartKeyLength = 0;

  /** Compares the current internal key with (key, seq). */
  compareCurrent(key: Uint8Array, seq: number): number {
    const c = compareUserKeyAt(this.keyBuf, 0, this.keyLen - TRAILER_SIZE, key);
    return c !== 0 ? c : seq - this.curSeq;
  }

  /** True when the current entry's user key equals `key`. */
  userKeyEquals(key: Uint8Array): boolean {
    return this.keyLen - TRAILER_SIZE === key.length && compareUserKeyAt(this.keyBuf, 0, key.length, key) === 0;
  }

  /** User key of the current entry: stable bytes, never reused or modified. */
  userKey(): Uint8Array {
    let k = this.userKeyCache;
    if (k === null) {
      const n = this.keyLen - TRAILER_SIZE;
      k = this.wholeKeyAt >= 0 ? this.data.subarray(this.wholeKeyAt, this.wholeKeyAt + n) : copyOutRange(this.keyBuf, 0, n);
      this.userKeyCache = k;
    }
    return k;
  }

  seq(): number {
    return this.curSeq;
  }

  kind(): EntryKind {
    return this.curKind as EntryKind;
  }

  /** The whole current key (internal key bytes in internal mode) as a fresh copy. */
  rawKey(): Uint8Array {
    return this.keyBuf.slice(0, this.keyLen);
  }

  /** Value of the current entry: a view into the block. */
  value(): Uint8Array {
    return this.valueLen === 0 ? EMPTY : this.data.subarray(this.valueOffset, this.valueOffset + this.valueLen);
  }

  get valueLength(): number {
    return this.valueLen;
  }

  /** Decodes the current value as a block handle (index blocks); throws CorruptionError if malformed. */
  valueAsHandle(out: BlockHandle): void {
    if (!decodeBlockHandle(this.data, this.valueOffset, this.valueOffset + this.valueLen, out, this.vo)) {
      this.block!.corrupt(this.current, "malformed block handle in index entry");
    }
  }
}
