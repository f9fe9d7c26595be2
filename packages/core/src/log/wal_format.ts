/**
 * WAL segment files: `wal-<seq, 16 hex digits>`, pre-allocated (zero-filled,
 * so the space is really reserved), a 64-byte header, then batches. Layout in
 * docs/FORMAT.md ("WAL segment").
 *
 *   segment = header (64 B), batch*, zeros
 *   header  = "TMWAL001" | u32 version | u32 headerBytes | u64 seq | u64 databaseId | u32 segmentBytes | 0… | u32 crc32(bytes 0..60)
 *   batch   = u32 magic "TMB1" | u32 payloadBytes | u32 crc32(bytes 12 .. 32+payload) | u32 recordCount
 *             | f64 firstCommitTs | f64 lastCommitTs | records (u32 length, body)* | zeros to 8-byte boundary
 *
 * One batch is what the log writer writes before one fdatasync, so after a
 * crash only the last batch can be torn; batches of a segment have strictly
 * increasing commit timestamps.
 */
import { crc32 } from 'node:zlib';
import { ErrorCode, TidemarkError } from '../errors.js';

export const SEGMENT_MAGIC = 'TMWAL001';
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 64;
export const BATCH_MAGIC = 0x31424d54; // "TMB1" read as little-endian u32
export const BATCH_HEADER_BYTES = 32;
export const BATCH_ALIGN_BYTES = 8;

export function segmentName(seq: number): string {
  return `wal-${seq.toString(16).padStart(16, '0')}`;
}

/** The sequence number of a segment file name, or -1 if the name is not a segment's. */
export function segmentSeq(name: string): number {
  const m = /^wal-([0-9a-f]{16})$/.exec(name);
  return m === null ? -1 : Number.parseInt(m[1]!, 16);
}

export interface SegmentHeader {
  seq: number;
  databaseId: bigint;
  segmentBytes: number;
}

export function encodeSegmentHeader(h: SegmentHeader): Uint8Array {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = SEGMENT_MAGIC.charCodeAt(i);
  v.setUint32(8, SEGMENT_VERSION, true);
  v.setUint32(12, SEGMENT_HEADER_BYTES, true);
  v.setBigUint64(16, BigInt(h.seq), true);
  v.setBigUint64(24, h.databaseId, true);
  v.setUint32(32, h.segmentBytes, true);
  v.setUint32(60, crc32(bytes.subarray(0, 60)), true);
  return bytes;
}

export function decodeSegmentHeader(bytes: Uint8Array, file: string): SegmentHeader {
  const bad = (what: string, offset: number): TidemarkError =>
    new TidemarkError(ErrorCode.CORRUPT, `${file}: WAL segment header ${what} (offset ${offset})`);
  if (bytes.length < SEGMENT_HEADER_BYTES) throw bad('is truncated', bytes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  for (let i = 0; i < 8; i++) if (bytes[i] !== SEGMENT_MAGIC.charCodeAt(i)) throw bad('has a wrong magic number', 0);
  if (v.getUint32(60, true) !== crc32(bytes.subarray(0, 60))) throw bad('fails its checksum', 60);
  if (v.getUint32(8, true) !== SEGMENT_VERSION) throw bad(`has unknown version ${v.getUint32(8, true)}`, 8);
  return { seq: Number(v.getBigUint64(16, true)), databaseId: v.getBigUint64(24, true), segmentBytes: v.getUint32(32, true) };
}

/** Writes a batch header for the records already at bytes[at+32, at+32+payloadBytes); returns the padded batch size. */
export function sealBatch(bytes: Uint8Array, at: number, payloadBytes: number, recordCount: number, firstTs: number, lastTs: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(at, BATCH_MAGIC, true);
  v.setUint32(at + 4, payloadBytes, true);
  v.setUint32(at + 12, recordCount, true);
  v.setFloat64(at + 16, firstTs, true);
  v.setFloat64(at + 24, lastTs, true);
  const end = at + BATCH_HEADER_BYTES + payloadBytes;
  const padded = alignBatch(BATCH_HEADER_BYTES + payloadBytes);
  bytes.fill(0, end, at + padded);
  v.setUint32(at + 8, crc32(bytes.subarray(at + 12, end)), true);
  return padded;
}

export function alignBatch(size: number): number {
  return (size + BATCH_ALIGN_BYTES - 1) & ~(BATCH_ALIGN_BYTES - 1);
}

export interface BatchHeader {
  payloadBytes: number;
  recordCount: number;
  firstTs: number;
  lastTs: number;
}

/** The batch at bytes[at…] if its header and checksum hold within `limit`, else null. */
export function readBatch(bytes: Uint8Array, at: number, limit: number): BatchHeader | null {
  if (at + BATCH_HEADER_BYTES > limit) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(at, true) !== BATCH_MAGIC) return null;
  const payloadBytes = v.getUint32(at + 4, true);
  if (payloadBytes > limit - at - BATCH_HEADER_BYTES) return null;
  if (v.getUint32(at + 8, true) !== crc32(bytes.subarray(at + 12, at + BATCH_HEADER_BYTES + payloadBytes))) return null;
  return {
    payloadBytes,
    recordCount: v.getUint32(at + 12, true),
    firstTs: v.getFloat64(at + 16, true),
    lastTs: v.getFloat64(at + 24, true),
  };
}

/** Whether bytes[from, to) are all zero (the unwritten, pre-allocated end of a segment). */
export function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}
