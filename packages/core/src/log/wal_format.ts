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
import { alignBlock, BLOCK_ALIGN_BYTES, BLOCK_HEADER_BYTES, readBlock, sealBlock, type BlockHeader } from '../files/block.js';
import { decodeFileHeader, encodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';

export { allZero } from '../files/block.js';

export const SEGMENT_MAGIC = 'TMWAL001';
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = FILE_HEADER_BYTES;
export const BATCH_MAGIC = 0x31424d54; // "TMB1" read as little-endian u32
export const BATCH_HEADER_BYTES = BLOCK_HEADER_BYTES;
export const BATCH_ALIGN_BYTES = BLOCK_ALIGN_BYTES;

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
  return encodeFileHeader({ magic: SEGMENT_MAGIC, version: SEGMENT_VERSION, id: h.seq, databaseId: h.databaseId, size: h.segmentBytes, aux: 0 });
}

export function decodeSegmentHeader(bytes: Uint8Array, file: string): SegmentHeader {
  const h = decodeFileHeader(bytes, SEGMENT_MAGIC, SEGMENT_VERSION, file, 'WAL segment');
  return { seq: h.id, databaseId: h.databaseId, segmentBytes: h.size };
}

/** Writes a batch header for the records already at bytes[at+32, at+32+payloadBytes); returns the padded batch size. */
export function sealBatch(bytes: Uint8Array, at: number, payloadBytes: number, recordCount: number, firstTs: number, lastTs: number): number {
  return sealBlock(bytes, at, BATCH_MAGIC, payloadBytes, recordCount, firstTs, lastTs);
}

export const alignBatch = alignBlock;

/** The batch at bytes[at…] if its header and checksum hold within `limit`, else null; first/last are commit timestamps. */
export function readBatch(bytes: Uint8Array, at: number, limit: number): BlockHeader | null {
  return readBlock(bytes, at, limit, BATCH_MAGIC);
}
