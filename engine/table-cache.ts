/**
 * Open SSTable readers by file number (LevelDB's TableCache). A table is opened on first use (its
 * footer, index and filter are read and checked then) and kept open until the file becomes
 * obsolete; its decoded blocks live in the shared block cache.
 */
import type { FileSystem } from "./fs/fs.js";
import { tablePath } from "./filenames.js";
import type { BlockCache } from "./sstable/block-cache.js";
import { TableReader } from "./sstable/table-reader.js";

export class TableCache {
  private readonly open = new Map<number, TableReader>();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    readonly blockCache: BlockCache,
  ) {}

  get(number: number): TableReader {
    let t = this.open.get(number);
    if (t === undefined) {
      const p = tablePath(this.dir, number);
      t = TableReader.open(this.fs.openRead(p), p, number, this.blockCache);
      this.open.set(number, t);
    }
    return t;
  }

  /** Closes the reader of an obsolete table and drops its cached blocks. */
  evict(number: number): void {
    const t = this.open.get(number);
    if (t !== undefined) {
      this.open.delete(number);
      t.close();
    }
    this.blockCache.evictFile(number);
  }

  get size(): number {
    return this.open.size;
  }

  close(): void {
    for (const n of [...this.open.keys()]) this.evict(n);
  }
}
