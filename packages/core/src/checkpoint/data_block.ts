/**
 * A data block being built: entries gathered into one buffer, sealed with
 * the block header (docs/FORMAT.md, "Data file") and written with one
 * positional write. The streamer builds blocks from log records, a merge
 * from the entries of its source files.
 */
import { BLOCK_HEADER_BYTES, sealBlock } from '../files/block.js';
import { copyBytes } from '../files/copy_bytes.js';
import { MAX_ROW_BYTES } from '../constants.js';
import { DATA_BLOCK_MAGIC, DATA_ENTRY_HEADER_BYTES, dataEntryBytes } from './cfp_format.js';

/** Data entries are gathered into blocks of at most this many bytes (a whole row always fits one). */
export const DATA_BLOCK_BYTES = Math.max(1 << 20, dataEntryBytes(MAX_ROW_BYTES) + BLOCK_HEADER_BYTES);

/** Rows up to this long are copied a 32-bit word at a time; longer ones with one `set`. */
const WORD_COPY_BYTES = 128;

export class DataBlockBuilder {
  readonly bytes = new Uint8Array(DATA_BLOCK_BYTES);
  private readonly view = new DataView(this.bytes.buffer);
  /** Payload bytes and entries gathered, and the versionIds of the first and last. */
  used = 0;
  count = 0;
  private first = 0;
  private last = 0;
  /** The buffer the last row came from, and a DataView over it (for the word copy). */
  private source: Uint8Array | null = null;
  private sourceDataView: DataView = new DataView(new ArrayBuffer(0));

  /** Whether an entry of `need` bytes still fits. */
  fits(need: number): boolean {
    return BLOCK_HEADER_BYTES + this.used + need <= DATA_BLOCK_BYTES;
  }

  /** Adds an entry for a row whose payload is src[offset, offset + length). The caller checked `fits`. */
  addRow(tableId: number, versionId: number, src: Uint8Array, offset: number, length: number): void {
    const at = BLOCK_HEADER_BYTES + this.used;
    const need = dataEntryBytes(length);
    const v = this.view;
    v.setUint16(at, tableId, true);
    v.setUint16(at + 2, 0, true);
    v.setUint32(at + 4, length, true);
    v.setFloat64(at + 8, versionId, true);
    const bytes = this.bytes;
    const to = at + DATA_ENTRY_HEADER_BYTES;
    if (length <= WORD_COPY_BYTES) {
      // Zero the entry's last 8 bytes (its padding), then copy the row over them 4 bytes at a time.
      if (length > 0) {
        v.setUint32(at + need - 8, 0, true);
        v.setUint32(at + need - 4, 0, true);
      }
      const s = this.sourceView(src);
      let i = 0;
      for (; i + 4 <= length; i += 4) v.setUint32(to + i, s.getUint32(offset + i, true), true);
      for (; i < length; i++) bytes[to + i] = src[offset + i]!;
    } else {
      copyBytes(src, offset, length, bytes, to);
      for (let i = to + length; i < at + need; i++) bytes[i] = 0; // the padding: at most 7 bytes
    }
    this.added(versionId, need);
  }

  /** Adds a whole data entry as another data file holds it: src[at, at + size). */
  addEntry(versionId: number, src: Uint8Array, at: number, size: number): void {
    this.bytes.set(src.subarray(at, at + size), BLOCK_HEADER_BYTES + this.used);
    this.added(versionId, size);
  }

  /** Writes the block header; returns the block's size. Call `reset` once it is written. */
  seal(): number {
    return sealBlock(this.bytes, 0, DATA_BLOCK_MAGIC, this.used, this.count, this.first, this.last);
  }

  reset(): void {
    this.used = 0;
    this.count = 0;
  }

  /** A DataView over `src`, kept while the rows come from the same buffer. */
  private sourceView(src: Uint8Array): DataView {
    if (src !== this.source) {
      this.source = src;
      this.sourceDataView = new DataView(src.buffer, src.byteOffset, src.byteLength);
    }
    return this.sourceDataView;
  }

  private added(versionId: number, size: number): void {
    if (this.count === 0) this.first = versionId;
    this.last = versionId;
    this.used += size;
    this.count++;
  }
}
