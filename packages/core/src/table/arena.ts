/**
 * An arena holds one table's row versions as bytes in SharedArrayBuffer
 * segments, appended to and never moved (the cleaner of a later issue copies
 * live versions out of sparse segments).
 *
 *   segment 0                                   segment 1
 *   +----------+--------+--------+-----+        +--------+--------+-----+
 *   | reserved | ver A  | ver B  | ... |  ...   | ver K  | ver L  | ... |
 *   | 16 bytes |        |        |     |        |        |        |     |
 *   +----------+--------+--------+-----+        +--------+--------+-----+
 *
 * A version pointer is a uint32: (segment << 21) | (byte offset / 8). The
 * first 16 bytes of segment 0 are never used, so pointer 0 means "none" and
 * pointer 1 is free for indexes to use as a tombstone.
 *
 * Invariants: every version starts 8-byte aligned; a version never crosses a
 * segment; `bytesInUse` counts the bytes of every version appended, and
 * `deadBytes` those of versions no snapshot can see any more.
 */
import { assert } from '../assert.js';
import {
  ARENA_ALIGN_BYTES,
  ARENA_MAX_SEGMENTS,
  ARENA_SEGMENT_BYTES,
  ARENA_UNITS_PER_SEGMENT_LOG2,
  MAX_ROW_BYTES,
  VERSION_FLAG_DELETED,
  VERSION_HEADER_BYTES,
} from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';

export const UNIT_MASK = (1 << ARENA_UNITS_PER_SEGMENT_LOG2) - 1;
const FIRST_OFFSET = 16;
/** The most bytes appendLaidOut takes at once: a whole segment but segment 0's reserved start. */
export const MAX_LAID_OUT_BYTES = ARENA_SEGMENT_BYTES - FIRST_OFFSET;

/** Byte offset of a pointer inside its segment. */
export function offsetOf(ptr: number): number {
  return (ptr & UNIT_MASK) * ARENA_ALIGN_BYTES;
}

/** Segment number of a pointer. */
export function segmentOf(ptr: number): number {
  return ptr >>> ARENA_UNITS_PER_SEGMENT_LOG2;
}

export class Arena {
  /** Parallel views over each segment, indexed by segment number. */
  readonly u8s: Uint8Array[] = [];
  readonly dvs: DataView[] = [];
  readonly u32s: Uint32Array[] = [];
  readonly f64s: Float64Array[] = [];
  /** Bytes of every version appended (header, payload and alignment). */
  bytesInUse = 0;
  /** Bytes of versions that were unlinked: no snapshot can reach them. */
  deadBytes = 0;
  private segment = -1;
  private cursor = ARENA_SEGMENT_BYTES;

  constructor(private readonly tableName: string) {}

  get segmentCount(): number {
    return this.u8s.length;
  }

  /** Bytes reserved from the system: whole segments. */
  get reservedBytes(): number {
    return this.u8s.length * ARENA_SEGMENT_BYTES;
  }

  /**
   * Appends a version with room for `payloadBytes` and writes its header.
   * Returns its pointer; the caller writes the payload at `offsetOf(ptr) + 16`.
   */
  append(payloadBytes: number, versionId: number, older: number, flags: number): number {
    const size = (VERSION_HEADER_BYTES + payloadBytes + ARENA_ALIGN_BYTES - 1) & ~(ARENA_ALIGN_BYTES - 1);
    if (this.cursor + size > ARENA_SEGMENT_BYTES) this.addSegment();
    const offset = this.cursor;
    this.cursor += size;
    this.bytesInUse += size;
    const ptr = (this.segment << ARENA_UNITS_PER_SEGMENT_LOG2) | (offset / ARENA_ALIGN_BYTES);
    const u32 = this.u32s[this.segment]!;
    u32[offset >>> 2] = older;
    u32[(offset >>> 2) + 1] = payloadBytes | (flags << 24);
    this.f64s[this.segment]![(offset >>> 3) + 1] = versionId;
    return ptr >>> 0;
  }

  /** Bytes left in the current segment (0 before the first). */
  get room(): number {
    return ARENA_SEGMENT_BYTES - this.cursor;
  }

  /**
   * Appends versions already laid out as above (headers written, each padded
   * to 8 bytes): src[from, to), at most one segment's worth. Opens a new
   * segment if they do not fit the current one. Returns the first one's
   * pointer; the others follow it, `sizeOf` apart. Recovery's bulk path.
   */
  appendLaidOut(src: Uint8Array, from: number, to: number): number {
    const bytes = to - from;
    assert(bytes > 0 && bytes % ARENA_ALIGN_BYTES === 0 && bytes <= MAX_LAID_OUT_BYTES, `bad run of ${bytes} bytes`);
    if (this.cursor + bytes > ARENA_SEGMENT_BYTES) this.addSegment();
    const offset = this.cursor;
    this.u8s[this.segment]!.set(src.subarray(from, to), offset);
    this.cursor += bytes;
    this.bytesInUse += bytes;
    return ((this.segment << ARENA_UNITS_PER_SEGMENT_LOG2) | (offset / ARENA_ALIGN_BYTES)) >>> 0;
  }

  older(ptr: number): number {
    return this.u32s[segmentOf(ptr)]![offsetOf(ptr) >>> 2]!;
  }

  setOlder(ptr: number, older: number): void {
    this.u32s[segmentOf(ptr)]![offsetOf(ptr) >>> 2] = older;
  }

  payloadLength(ptr: number): number {
    return this.u32s[segmentOf(ptr)]![(offsetOf(ptr) >>> 2) + 1]! & 0xffffff;
  }

  isDeleted(ptr: number): boolean {
    return ((this.u32s[segmentOf(ptr)]![(offsetOf(ptr) >>> 2) + 1]! >>> 24) & VERSION_FLAG_DELETED) !== 0;
  }

  versionId(ptr: number): number {
    return this.f64s[segmentOf(ptr)]![(offsetOf(ptr) >>> 3) + 1]!;
  }

  /** Bytes a version occupies, header and alignment included. */
  sizeOf(ptr: number): number {
    return (VERSION_HEADER_BYTES + this.payloadLength(ptr) + ARENA_ALIGN_BYTES - 1) & ~(ARENA_ALIGN_BYTES - 1);
  }

  /**
   * Throws LIMIT_EXCEEDED, before anything is written, when `totalBytes` more
   * might not fit the table's segments. Conservative: it assumes every new
   * segment wastes room for the largest row at its end.
   */
  checkRoom(totalBytes: number): void {
    const usable = ARENA_SEGMENT_BYTES - MAX_ROW_BYTES - VERSION_HEADER_BYTES - ARENA_ALIGN_BYTES;
    const needed = totalBytes <= ARENA_SEGMENT_BYTES - this.cursor ? 0 : Math.ceil(totalBytes / usable) + 1;
    if (this.u8s.length + needed > ARENA_MAX_SEGMENTS) this.limitReached();
  }

  private limitReached(): never {
    throw new TidemarkError(
      ErrorCode.LIMIT_EXCEEDED,
      `table "${this.tableName}" reached ${ARENA_MAX_SEGMENTS} arena segments of ${ARENA_SEGMENT_BYTES} bytes`,
    );
  }

  private addSegment(): void {
    if (this.u8s.length >= ARENA_MAX_SEGMENTS) this.limitReached();
    const sab = new SharedArrayBuffer(ARENA_SEGMENT_BYTES);
    this.u8s.push(new Uint8Array(sab));
    this.dvs.push(new DataView(sab));
    this.u32s.push(new Uint32Array(sab));
    this.f64s.push(new Float64Array(sab));
    this.segment = this.u8s.length - 1;
    this.cursor = this.segment === 0 ? FIRST_OFFSET : 0;
    assert(this.cursor % ARENA_ALIGN_BYTES === 0, 'segment cursor aligned');
  }
}
