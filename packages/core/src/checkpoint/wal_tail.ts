/**
 * Follows the WAL from a position, handing over the records of durable
 * batches only (lastTs at or below the durable commitTs the log writer
 * published). The checkpoint streamer reads the log this way instead of
 * sharing the log ring: the ring keeps one consumer, a lagging streamer
 * never holds ring space (so it can never slow a commit), and a checkpoint
 * never contains a commit the WAL could still lose.
 *
 * Where the data of a segment ends with its seal, the log goes on in the
 * next segment; where it ends otherwise (zeros, a stale batch from an
 * earlier use of a recycled segment), the writer has not left it yet, even
 * if the next segment exists (a rollover makes the next segment before it
 * seals this one). Version 1 segments have no seal: there, durable records
 * left unread past the end of the data are in the next segment.
 */
import { join } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { RecordCallback } from '../log/wal_reader.js';
import { readAll, type FileLayer } from '../files/file_layer.js';
import {
  batchTimeBytes,
  alignBatch,
  BATCH_HEADER_BYTES,
  BATCH_MAGIC,
  decodeSegmentHeader,
  readBatch,
  readSeal,
  SEAL_BYTES,
  SEGMENT_HEADER_BYTES,
  segmentName,
} from '../log/wal_format.js';

/** One record, as replay hands it over (log/wal_reader.ts). */
export type TailRecord = RecordCallback;

export class WalTail {
  seq: number;
  offset: number;
  /** The newest commitTs handed over. */
  lastTs: number;
  /** WAL bytes (whole batches) handed over since this tail started. */
  bytesRead = 0;
  private fd = -1;
  private segmentBytes = 0;
  private segmentVersion = 0;
  private buf = new Uint8Array(1 << 20);
  private view = new DataView(this.buf.buffer);

  constructor(
    private readonly layer: FileLayer,
    private readonly dir: string,
    private readonly databaseId: bigint,
    start: { seq: number; offset: number },
    afterTs: number,
  ) {
    this.seq = start.seq;
    this.offset = start.offset;
    this.lastTs = afterTs;
  }

  /**
   * Hands over every record of the durable batches after the current
   * position, up to about `maxBytes`; returns the bytes of batches read.
   */
  poll(durableTs: number, onRecord: TailRecord, maxBytes: number): number {
    let read = 0;
    while (this.lastTs < durableTs && read < maxBytes) {
      if (this.fd < 0 && !this.openSegment()) break;
      const size = this.nextBatch(durableTs, onRecord);
      if (size > 0) {
        read += size;
        continue;
      }
      if (size === 0) break; // the next batch is not durable yet
      // End of this segment's data: what is left is in the next segment once this one is sealed.
      if (!this.leftForNext()) break;
      this.closeSegment();
      this.seq++;
      this.offset = SEGMENT_HEADER_BYTES;
    }
    this.bytesRead += read;
    return read;
  }

  /**
   * Moves past each segment whose data ends, at the current position, in its
   * seal, into the next one (a clean close's rollover leaves such a segment
   * with an empty one after it): the final checkpoint then names the newest
   * segment, and those before it are free.
   */
  skipSealed(): void {
    for (;;) {
      if (this.fd < 0 && !this.openSegment()) return;
      if (this.nextBatch(this.lastTs, () => {}) !== -1) return; // a batch follows: nothing to skip
      if (!this.leftForNext() || !this.layer.exists(join(this.dir, segmentName(this.seq + 1)))) return;
      this.closeSegment();
      this.seq++;
      this.offset = SEGMENT_HEADER_BYTES;
    }
  }

  close(): void {
    this.closeSegment();
  }

  /** Reads and hands over one batch: its size; 0 if it is not durable yet; -1 at the end of the segment's data. */
  private nextBatch(durableTs: number, onRecord: TailRecord): number {
    const path = join(this.dir, segmentName(this.seq));
    if (this.offset + BATCH_HEADER_BYTES > this.segmentBytes) return -1;
    if (readAll(this.layer, this.fd, this.buf, 0, BATCH_HEADER_BYTES, this.offset) < BATCH_HEADER_BYTES) return -1;
    const v = this.view;
    const payloadBytes = v.getUint32(4, true);
    if (v.getUint32(0, true) !== BATCH_MAGIC || payloadBytes > this.segmentBytes - this.offset - BATCH_HEADER_BYTES)
      return -1;
    const first = v.getFloat64(16, true);
    const last = v.getFloat64(24, true);
    if (first <= this.lastTs) return -1; // stale bytes from an earlier use of the segment
    if (last > durableTs) return 0;
    const size = BATCH_HEADER_BYTES + payloadBytes;
    if (size > this.buf.length) {
      this.buf = new Uint8Array(Math.max(size, this.buf.length * 2));
      this.view = new DataView(this.buf.buffer);
    }
    if (readAll(this.layer, this.fd, this.buf, 0, size, this.offset) < size) {
      throw new TidemarkError(ErrorCode.CORRUPT, `${path}: durable WAL batch at offset ${this.offset} is cut short`);
    }
    const batch = readBatch(this.buf, 0, size);
    if (batch === null)
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${path}: durable WAL batch at offset ${this.offset} fails its checksum`,
      );
    const bytes = this.buf;
    const view = this.view;
    const batchAt = this.offset;
    let r = BATCH_HEADER_BYTES + batchTimeBytes(this.segmentVersion);
    let k = 0;
    const where = (): string => `${path}: batch at offset ${batchAt}, record ${k}`; // one per batch: it reads k when called
    for (; k < batch.count; k++) {
      const length = r + 4 <= size ? view.getUint32(r, true) : -1;
      if (length < 0 || length > size - r - 4)
        throw new TidemarkError(
          ErrorCode.CORRUPT,
          `${path}: record ${k} of the batch at offset ${batchAt} overruns the batch`,
        );
      onRecord(bytes, r + 4, length, where, view);
      r += 4 + length;
    }
    const padded = alignBatch(size);
    this.offset += padded;
    this.lastTs = batch.last;
    return padded;
  }

  /** Whether the writer has moved on from this segment: its seal is at the end of the data (version 1: the next segment exists). */
  private leftForNext(): boolean {
    if (this.segmentVersion < 2) return this.layer.exists(join(this.dir, segmentName(this.seq + 1)));
    if (this.offset + SEAL_BYTES > this.segmentBytes) return false;
    if (readAll(this.layer, this.fd, this.buf, 0, SEAL_BYTES, this.offset) < SEAL_BYTES) return false;
    return readSeal(this.buf, 0, SEAL_BYTES, this.seq) !== null;
  }

  private openSegment(): boolean {
    const path = join(this.dir, segmentName(this.seq));
    if (!this.layer.exists(path)) return false;
    const fd = this.layer.open(path, false);
    const header = new Uint8Array(SEGMENT_HEADER_BYTES);
    try {
      readAll(this.layer, fd, header, 0, SEGMENT_HEADER_BYTES, 0);
      const h = decodeSegmentHeader(header, path);
      if (h.seq !== this.seq) throw new TidemarkError(ErrorCode.CORRUPT, `${path}: header names segment ${h.seq}`);
      if (h.databaseId !== this.databaseId)
        throw new TidemarkError(ErrorCode.CORRUPT, `${path}: belongs to another database (id ${h.databaseId})`);
      this.segmentBytes = h.segmentBytes;
      this.segmentVersion = h.version;
    } catch (error) {
      this.layer.close(fd);
      throw error;
    }
    this.fd = fd;
    return true;
  }

  private closeSegment(): void {
    if (this.fd >= 0) this.layer.close(this.fd);
    this.fd = -1;
  }
}
