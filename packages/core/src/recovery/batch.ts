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
  BATCH_HEADER_BYTES + BATCH_TARGET_BYTES + VERSION_HEADER_BYTES + MAX_ROW_BYTES + 8 + 4 * (Math.ceil(BATCH_TARGET_BYTES / MIN_VERSION_BYTES) + 1);

/** Where sealed batches go: a ring to the main thread, or (inline) the linker itself. */
export interface BatchSink {
  /** Takes the batch in bytes[0, length); the bytes are reused after the call. */
  put(bytes: Uint8Array, length: number): void;
}

/** Gathers live rows into batches of one table and hands each sealed batch to a sink. */
export class BatchBuilder {
  private readonly bytes = new Uint8Array(BATCH_MAX_BYTES);
  private readonly view = new DataView(this.bytes.buffer);
  private hashes = new Uint32Array(1024);
  private tableId = -1;
  private count = 0;
  private end = BATCH_HEADER_BYTES;
  private dataOffset = 0;
  batches = 0;

  constructor(private readonly sink: BatchSink) {}

  /** Adds a row version (payload in src[at, at + length)) of `tableId` whose key hashes to `hash`. */
  add(tableId: number, versionId: number, hash: number, src: Uint8Array, at: number, length: number, dataOffset: number): void {
    assert(length <= MAX_ROW_BYTES, `row of ${length} bytes`);
    if (tableId !== this.tableId && this.count > 0) this.flush();
    this.tableId = tableId;
    const size = (VERSION_HEADER_BYTES + length + 7) & ~7;
    const v = this.view;
    const end = this.end;
    v.setUint32(end, 0, true);
    v.setUint32(end + 4, length, true);
    v.setFloat64(end + 8, versionId, true);
    this.bytes.set(src.subarray(at, at + length), end + VERSION_HEADER_BYTES);
    for (let i = end + VERSION_HEADER_BYTES + length; i < end + size; i++) this.bytes[i] = 0;
    if (this.count === this.hashes.length) {
      const grown = new Uint32Array(this.count * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.count++] = hash;
    this.end = end + size;
    this.dataOffset = dataOffset;
    if (this.end - BATCH_HEADER_BYTES >= BATCH_TARGET_BYTES) this.flush();
  }

  /** Seals the batch built so far (if any) and hands it to the sink. */
  flush(): void {
    if (this.count === 0) return;
    const v = this.view;
    v.setUint16(0, this.tableId, true);
    v.setUint16(2, 0, true);
    v.setUint32(4, this.count, true);
    v.setFloat64(8, this.dataOffset, true);
    const hashesAt = this.end;
    for (let i = 0; i < this.count; i++) v.setUint32(hashesAt + 4 * i, this.hashes[i]!, true);
    this.sink.put(this.bytes, hashesAt + 4 * this.count);
    this.batches++;
    this.count = 0;
    this.end = BATCH_HEADER_BYTES;
  }
}
