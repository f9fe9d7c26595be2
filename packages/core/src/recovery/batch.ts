/**
 * A recovery batch: live row versions of one table, already in the arena's
 * byte layout, with each one's primary-key hash, made by a recovery task and
 * linked into the table by the main thread. One batch is one ring record.
 *
 *   byte 0         2     4        8                16
 *        +---------+-----+--------+----------------+----------------+------------------+
 *        | tableId |  0  | count  | f64 dataOffset | version × count | u32 hash × count |
 *        +---------+-----+--------+----------------+----------------+------------------+
 *   version = u32 older (0) | u32 payload length | f64 versionId | payload | zeros to 8 bytes
 *
 * The hashes start on a 4-byte boundary (the versions are 8-byte multiples),
 * and are read as words in the machine's order, which is little-endian on
 * every platform Node runs on; the rest is little-endian explicitly.
 * The versions are exactly what Arena.appendLaidOut copies in (table/arena.ts),
 * so the main thread moves them with one copy per run and only inserts the
 * pointers into the primary index. `dataOffset` is how far into its data file
 * the task had read when it sealed the batch (for progress).
 */
import { assert } from '../assert.js';
import { MAX_ROW_BYTES, VERSION_HEADER_BYTES } from '../constants.js';

export const BATCH_HEADER_BYTES = 16;
/** A batch is sealed once its versions pass this many bytes. */
export const BATCH_TARGET_BYTES = 256 * 1024;
/** The smallest version: its header and a payload of at least one byte, padded. */
const MIN_VERSION_BYTES = 24;
/** The largest batch: just under the target, one more row of the largest size, and a hash for each row. */
export const BATCH_MAX_BYTES =
  BATCH_HEADER_BYTES +
  BATCH_TARGET_BYTES +
  VERSION_HEADER_BYTES +
  MAX_ROW_BYTES +
  8 +
  4 * (Math.ceil(BATCH_TARGET_BYTES / MIN_VERSION_BYTES) + 1);

/** Where sealed batches go: a ring to the main thread, or (inline) the linker itself. */
export interface BatchSink {
  /** Takes the batch in bytes[0, length); the bytes are reused after the call. */
  put(bytes: Uint8Array, length: number): void;
}

/**
 * Gathers live rows into batches of one table and hands each sealed batch to
 * a sink. Rows come as data-file entries (checkpoint/cfp_format.ts), whose
 * layout is a version's but for the first word (tableId where a version has
 * `older`): consecutive live entries are copied as one run, and each copied
 * entry's first word is then cleared.
 */
export class BatchBuilder {
  private readonly bytes = new Uint8Array(BATCH_MAX_BYTES);
  private readonly view = new DataView(this.bytes.buffer);
  private readonly words = new Uint32Array(this.bytes.buffer);
  private hashes = new Uint32Array(1024);
  /** Where each row of the batch starts in `bytes`. */
  private starts = new Uint32Array(1024);
  private tableId = -1;
  private count = 0;
  /** End of the versions copied into `bytes`, and the run of source entries not copied yet. */
  private end = BATCH_HEADER_BYTES;
  private runSource: Uint8Array | null = null;
  private runFrom = 0;
  private runTo = 0;
  private dataOffset = 0;
  batches = 0;

  constructor(private readonly sink: BatchSink) {}

  /**
   * Adds the data entry src[at, at + size) (a row of `tableId` whose key
   * hashes to `hash`). `src` must stay unchanged until endOfSource() or the
   * next add() from another buffer.
   */
  add(tableId: number, hash: number, src: Uint8Array, at: number, size: number, dataOffset: number): void {
    assert(size <= VERSION_HEADER_BYTES + MAX_ROW_BYTES + 8, `entry of ${size} bytes`);
    if (tableId !== this.tableId && this.count > 0) this.flush();
    this.tableId = tableId;
    if (this.end + (this.runTo - this.runFrom) - BATCH_HEADER_BYTES >= BATCH_TARGET_BYTES) this.flush();
    if (this.runSource !== src || this.runTo !== at) {
      this.copyRun();
      this.runSource = src;
      this.runFrom = at;
      this.runTo = at;
    }
    if (this.count === this.hashes.length) this.grow();
    this.hashes[this.count] = hash;
    this.starts[this.count] = this.end + (this.runTo - this.runFrom);
    this.count++;
    this.runTo = at + size;
    this.dataOffset = dataOffset;
  }

  /** The source buffer is about to change: copy the run taken from it. */
  endOfSource(): void {
    this.copyRun();
    this.runSource = null;
  }

  /** Seals the batch built so far (if any) and hands it to the sink. */
  flush(): void {
    this.copyRun();
    if (this.count === 0) return;
    const v = this.view;
    v.setUint16(0, this.tableId, true);
    v.setUint16(2, 0, true);
    v.setUint32(4, this.count, true);
    v.setFloat64(8, this.dataOffset, true);
    const words = this.words;
    for (let i = 0; i < this.count; i++) words[this.starts[i]! >>> 2] = 0; // `older`: none
    const hashesAt = this.end;
    for (let i = 0; i < this.count; i++) v.setUint32(hashesAt + 4 * i, this.hashes[i]!, true);
    this.sink.put(this.bytes, hashesAt + 4 * this.count);
    this.batches++;
    this.count = 0;
    this.end = BATCH_HEADER_BYTES;
  }

  private copyRun(): void {
    const length = this.runTo - this.runFrom;
    if (length === 0) return;
    this.bytes.set(this.runSource!.subarray(this.runFrom, this.runTo), this.end);
    this.end += length;
    this.runFrom = this.runTo;
  }

  private grow(): void {
    const hashes = new Uint32Array(this.count * 2);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const starts = new Uint32Array(this.count * 2);
    starts.set(this.starts);
    this.starts = starts;
  }
}
