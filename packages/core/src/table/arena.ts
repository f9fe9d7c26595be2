/**
 * An arena holds one table's row versions as bytes in SharedArrayBuffer
 * segments, appended to. The segment cleaner (table/cleaner.ts) copies the
 * live versions out of a sparse segment and frees it; its number is reused
 * by the next segment the arena opens.
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
 * segment; `bytesInUse` counts the bytes of every version in a segment not
 * freed, and `deadBytes` those of them no snapshot can see any more (per
 * segment too: `segmentUsed`, `segmentDead`). A freed segment's views are
 * empty, and no pointer into it is left anywhere.
 */
import { assert } from '../assert.js';
import {
  ARENA_ALIGN_BYTES,
  ARENA_MAX_SEGMENTS,
  ARENA_SEGMENT_BYTES,
  ARENA_UNITS_PER_SEGMENT_LOG2,
  MAX_ROW_BYTES,
  VERSION_FLAG_DELETED,
  VERSION_FLAG_RETIRED,
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

/** The pointer of the version at byte `offset` of `segment`. */
export function pointerOf(segment: number, offset: number): number {
  return ((segment << ARENA_UNITS_PER_SEGMENT_LOG2) | (offset / ARENA_ALIGN_BYTES)) >>> 0;
}

/** Segment number of a pointer. */
export function segmentOf(ptr: number): number {
  return ptr >>> ARENA_UNITS_PER_SEGMENT_LOG2;
}

const EMPTY_SAB = new SharedArrayBuffer(0);
const EMPTY_U8 = new Uint8Array(EMPTY_SAB);
const EMPTY_DV = new DataView(EMPTY_SAB);
const EMPTY_U32 = new Uint32Array(EMPTY_SAB);
const EMPTY_F64 = new Float64Array(EMPTY_SAB);

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
  /** Per segment: bytes of versions appended to it, and of those dead. */
  readonly segmentUsed: number[] = [];
  readonly segmentDead: number[] = [];
  /** Segment numbers freed by the cleaner, reused first. */
  private readonly free: number[] = [];
  /**
   * The memory of the last segment freed, kept for the next segment opened:
   * a fresh SharedArrayBuffer is zero pages the kernel maps in one page
   * fault at a time as versions are first written to it, which under the
   * cleaner (one segment freed for about every one opened) cost more main
   * thread time than the cleaning did. Counted in `reservedBytes`.
   */
  private spare: SharedArrayBuffer | null = null;
  private segment = -1;
  private cursor = ARENA_SEGMENT_BYTES;
  /**
   * Where the cleaner's copies go: a segment of their own, so versions that
   * survived a cleaning (cold) are not mixed with new ones (hot) and the
   * segments of each stay uniformly live or uniformly dead.
   */
  private coldSegment = -1;
  private coldCursor = ARENA_SEGMENT_BYTES;

  constructor(private readonly tableName: string) {}

  /** A view of an arena of another thread, for reading: its segments' memory (empty for a freed one) and bytes used. */
  static view(segments: readonly SharedArrayBuffer[], used: readonly number[]): Arena {
    const arena = new Arena('');
    segments.forEach((sab, seg) => {
      arena.u8s[seg] = new Uint8Array(sab);
      arena.dvs[seg] = new DataView(sab);
      arena.u32s[seg] = new Uint32Array(sab);
      arena.f64s[seg] = new Float64Array(sab);
      arena.segmentUsed[seg] = used[seg]!;
      arena.segmentDead[seg] = 0;
    });
    return arena;
  }

  /** Each segment's memory (for view()). */
  get buffers(): SharedArrayBuffer[] {
    return this.u8s.map((u8) => u8.buffer as SharedArrayBuffer);
  }

  /** Segment numbers in use so far (freed ones included: the views of those are empty). */
  get segmentCount(): number {
    return this.u8s.length;
  }

  /** Whether versions are being appended to `segment` (new ones, or the cleaner's copies): not one to clean or free. */
  isAppendTarget(segment: number): boolean {
    return segment === this.segment || segment === this.coldSegment;
  }

  isFree(segment: number): boolean {
    return this.u8s[segment]!.length === 0;
  }

  /** Bytes reserved from the system: whole segments, freed ones not counted but the spare kept for reuse. */
  get reservedBytes(): number {
    return (this.u8s.length - this.free.length + (this.spare === null ? 0 : 1)) * ARENA_SEGMENT_BYTES;
  }

  /** Where a segment's versions start (segment 0 keeps its first 16 bytes). */
  static firstOffset(segment: number): number {
    return segment === 0 ? FIRST_OFFSET : 0;
  }

  /** Counts a version as dead (no snapshot reaches it) and flags it, so the cleaner skips it. */
  retire(ptr: number): void {
    const seg = segmentOf(ptr);
    const word = (offsetOf(ptr) >>> 2) + 1;
    const u32 = this.u32s[seg]!;
    u32[word] = u32[word]! | (VERSION_FLAG_RETIRED << 24);
    const size = this.sizeOf(ptr);
    this.deadBytes += size;
    this.segmentDead[seg]! += size;
  }

  isRetired(ptr: number): boolean {
    return ((this.u32s[segmentOf(ptr)]![(offsetOf(ptr) >>> 2) + 1]! >>> 24) & VERSION_FLAG_RETIRED) !== 0;
  }

  /** Copies the version at `ptr` to the end of the arena (the cleaner moving it out); returns the copy's pointer. The old copy counts as dead. */
  copy(ptr: number): number {
    const size = this.sizeOf(ptr);
    const seg = segmentOf(ptr);
    const from = offsetOf(ptr);
    if (this.coldCursor + size > ARENA_SEGMENT_BYTES) {
      this.coldSegment = this.newSegment();
      this.coldCursor = Arena.firstOffset(this.coldSegment);
    }
    const cold = this.coldSegment;
    const to = this.coldCursor;
    this.coldCursor += size;
    this.bytesInUse += size;
    this.segmentUsed[cold]! += size;
    // Word by word: a version is a few dozen bytes, where subarray().set() costs more than the copy.
    const src = this.u32s[seg]!;
    const dst = this.u32s[cold]!;
    for (let i = from >>> 2, j = to >>> 2, end = (from + size) >>> 2; i < end; i++, j++) dst[j] = src[i]!;
    this.deadBytes += size;
    this.segmentDead[seg]! += size;
    return ((cold << ARENA_UNITS_PER_SEGMENT_LOG2) | (to / ARENA_ALIGN_BYTES)) >>> 0;
  }

  /** Gives the spare segment's memory back to the system (nothing if none is held). */
  releaseSpare(): void {
    this.spare = null;
  }

  /** Frees a segment whose versions are all dead; its number is reused, its memory kept as the spare if none is held. */
  freeSegment(segment: number): void {
    assert(!this.isAppendTarget(segment) && !this.isFree(segment), `segment ${segment} cannot be freed`);
    assert(this.segmentDead[segment] === this.segmentUsed[segment], `segment ${segment} still holds live versions`);
    this.bytesInUse -= this.segmentUsed[segment]!;
    this.deadBytes -= this.segmentDead[segment]!;
    this.segmentUsed[segment] = 0;
    this.segmentDead[segment] = 0;
    this.spare ??= this.u8s[segment]!.buffer as SharedArrayBuffer;
    this.u8s[segment] = EMPTY_U8;
    this.dvs[segment] = EMPTY_DV;
    this.u32s[segment] = EMPTY_U32;
    this.f64s[segment] = EMPTY_F64;
    this.free.push(segment);
  }

  /**
   * Appends a version with room for `payloadBytes` and writes its header.
   * Returns its pointer; the caller writes the payload at `offsetOf(ptr) + 16`.
   */
  append(payloadBytes: number, versionId: number, older: number, flags: number): number {
    const size = (VERSION_HEADER_BYTES + payloadBytes + ARENA_ALIGN_BYTES - 1) & ~(ARENA_ALIGN_BYTES - 1);
    const offset = this.reserve(size);
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
    const offset = this.reserve(bytes);
    this.u8s[this.segment]!.set(src.subarray(from, to), offset);
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
    if (this.u8s.length - this.free.length + needed > ARENA_MAX_SEGMENTS) this.limitReached();
  }

  private limitReached(): never {
    throw new TidemarkError(
      ErrorCode.LIMIT_EXCEEDED,
      `table "${this.tableName}" reached ${ARENA_MAX_SEGMENTS} arena segments of ${ARENA_SEGMENT_BYTES} bytes`,
    );
  }

  /** Room for `size` bytes at the end of the arena (a new segment if the current one is full); returns their offset in the current segment. */
  private reserve(size: number): number {
    if (this.cursor + size > ARENA_SEGMENT_BYTES) this.addSegment();
    const offset = this.cursor;
    this.cursor += size;
    this.bytesInUse += size;
    this.segmentUsed[this.segment]! += size;
    return offset;
  }

  private addSegment(): void {
    this.segment = this.newSegment();
    this.cursor = Arena.firstOffset(this.segment);
    assert(this.cursor % ARENA_ALIGN_BYTES === 0, 'segment cursor aligned');
  }

  /** A fresh segment (a freed number reused first); returns its number. */
  private newSegment(): number {
    const reused = this.free.pop();
    if (reused === undefined && this.u8s.length >= ARENA_MAX_SEGMENTS) this.limitReached();
    // The spare holds stale versions: harmless, as nothing reads a segment past the versions appended to it.
    const sab = this.spare ?? new SharedArrayBuffer(ARENA_SEGMENT_BYTES);
    this.spare = null;
    const seg = reused ?? this.u8s.length;
    this.u8s[seg] = new Uint8Array(sab);
    this.dvs[seg] = new DataView(sab);
    this.u32s[seg] = new Uint32Array(sab);
    this.f64s[seg] = new Float64Array(sab);
    this.segmentUsed[seg] = 0;
    this.segmentDead[seg] = 0;
    return seg;
  }
}
