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
 *   seal    = u32 magic "TMS1" | u32 16 | u32 crc32(bytes 12 .. 48) | u32 0
 *             | f64 lastCommitTs | f64 lastCommitTs | u64 seq | u64 seq + 1
 *
 * One batch is what the log writer writes before one fdatasync, so after a
 * crash only the last batch can be torn; batches of a segment have strictly
 * increasing commit timestamps. A version 2 segment the writer has left for
 * the next one ends with a seal, written (and synced) only once the next
 * segment exists on disk and before any batch goes there (docs/FORMAT.md,
 * "Rollover"). Version 1 segments have no seal.
 */
import { assert } from '../assert.js';
import {
  alignBlock,
  BLOCK_ALIGN_BYTES,
  BLOCK_HEADER_BYTES,
  readBlock,
  sealBlock,
  type BlockHeader,
} from '../files/block.js';
import { decodeFileHeader, encodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';

export { allZero } from '../files/block.js';

export const SEGMENT_MAGIC = 'TMWAL001';
/**
 * Version 2: segments are sealed at rollover. Version 3: a batch's payload
 * begins with the wall-clock time it was written at. A reader accepts 1 to
 * 3; the writer makes 3, and goes on in an older segment in its own version.
 */
export const SEGMENT_VERSION = 3;
export const SEGMENT_VERSIONS: readonly number[] = [1, 2, 3];

/** Bytes before a batch's first record: its f64 wall-clock time (ms since the epoch) in version 3, none before. */
export function batchTimeBytes(version: number): number {
  return version >= 3 ? 8 : 0;
}
export const SEAL_MAGIC = 0x31534d54; // "TMS1" read as little-endian u32
const SEAL_PAYLOAD_BYTES = 16;
export const SEGMENT_HEADER_BYTES = FILE_HEADER_BYTES;
export const BATCH_MAGIC = 0x31424d54; // "TMB1" read as little-endian u32
export const BATCH_HEADER_BYTES = BLOCK_HEADER_BYTES;
export const BATCH_ALIGN_BYTES = BLOCK_ALIGN_BYTES;
/** Room a segment keeps at its end for its seal. */
export const SEAL_BYTES = alignBlock(BLOCK_HEADER_BYTES + SEAL_PAYLOAD_BYTES);
assert(SEAL_BYTES === 48, 'a seal is a block header and two u64s');

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
  /** The header's format version: 1 (no seals), 2, or 3 (batches carry their time). */
  version: number;
  databaseId: bigint;
  segmentBytes: number;
}

export function encodeSegmentHeader(h: Omit<SegmentHeader, 'version'>): Uint8Array {
  return encodeFileHeader({
    magic: SEGMENT_MAGIC,
    version: SEGMENT_VERSION,
    id: h.seq,
    databaseId: h.databaseId,
    size: h.segmentBytes,
    aux: 0,
  });
}

export function decodeSegmentHeader(bytes: Uint8Array, file: string): SegmentHeader {
  const h = decodeFileHeader(bytes, SEGMENT_MAGIC, SEGMENT_VERSIONS, file, 'WAL segment');
  return { seq: h.id, version: h.version, databaseId: h.databaseId, segmentBytes: h.size };
}

/** Writes a batch header for the records already at bytes[at+32, at+32+payloadBytes); returns the padded batch size. */
export function sealBatch(
  bytes: Uint8Array,
  at: number,
  payloadBytes: number,
  recordCount: number,
  firstTs: number,
  lastTs: number,
): number {
  return sealBlock(bytes, at, BATCH_MAGIC, payloadBytes, recordCount, firstTs, lastTs);
}

export const alignBatch = alignBlock;

/** The batch at bytes[at…] if its header and checksum hold within `limit`, else null; first/last are commit timestamps. */
export function readBatch(bytes: Uint8Array, at: number, limit: number): BlockHeader | null {
  return readBlock(bytes, at, limit, BATCH_MAGIC);
}

/** Writes segment `seq`'s seal at bytes[at…] (its last commitTs, and the segment it continues in); returns SEAL_BYTES. */
export function writeSeal(bytes: Uint8Array, at: number, seq: number, lastTs: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setBigUint64(at + BATCH_HEADER_BYTES, BigInt(seq), true);
  v.setBigUint64(at + BATCH_HEADER_BYTES + 8, BigInt(seq + 1), true);
  return sealBlock(bytes, at, SEAL_MAGIC, SEAL_PAYLOAD_BYTES, 0, lastTs, lastTs);
}

/** The seal at bytes[at…] if it is one, valid, and names segment `seq` and its successor: the sealed segment's last commitTs; else null. */
export function readSeal(bytes: Uint8Array, at: number, limit: number, seq: number): number | null {
  const block = readBlock(bytes, at, limit, SEAL_MAGIC);
  if (block === null || block.payloadBytes !== SEAL_PAYLOAD_BYTES || block.count !== 0) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sealed = v.getBigUint64(at + BATCH_HEADER_BYTES, true);
  const next = v.getBigUint64(at + BATCH_HEADER_BYTES + 8, true);
  return sealed === BigInt(seq) && next === BigInt(seq + 1) ? block.last : null;
}
