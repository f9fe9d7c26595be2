/**
 * The checksummed block every appended file is made of (WAL batches, data
 * and delta file blocks). Layout in docs/FORMAT.md ("Block"):
 *
 *   u32 magic | u32 payloadBytes | u32 crc32(bytes 12 .. 32+payload) | u32 count
 *   | f64 first | f64 last | payload | zeros to an 8-byte boundary
 *
 * `first`/`last` are the commitTs (WAL) or versionId (data, delta) range of
 * the entries; `count` how many there are.
 */
import { crc32 } from 'node:zlib';

export const BLOCK_HEADER_BYTES = 32;
export const BLOCK_ALIGN_BYTES = 8;

export interface BlockHeader {
  payloadBytes: number;
  count: number;
  first: number;
  last: number;
}

/** Writes a block header for the payload already at bytes[at+32, at+32+payloadBytes); returns the padded block size. */
export function sealBlock(
  bytes: Uint8Array,
  at: number,
  magic: number,
  payloadBytes: number,
  count: number,
  first: number,
  last: number,
): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(at, magic, true);
  v.setUint32(at + 4, payloadBytes, true);
  v.setUint32(at + 12, count, true);
  v.setFloat64(at + 16, first, true);
  v.setFloat64(at + 24, last, true);
  const end = at + BLOCK_HEADER_BYTES + payloadBytes;
  const padded = alignBlock(BLOCK_HEADER_BYTES + payloadBytes);
  bytes.fill(0, end, at + padded);
  v.setUint32(at + 8, crc32(bytes.subarray(at + 12, end)), true);
  return padded;
}

export function alignBlock(size: number): number {
  return (size + BLOCK_ALIGN_BYTES - 1) & ~(BLOCK_ALIGN_BYTES - 1);
}

/** The block at bytes[at…] if its magic, bounds and checksum hold within `limit`, else null. */
export function readBlock(bytes: Uint8Array, at: number, limit: number, magic: number): BlockHeader | null {
  if (at + BLOCK_HEADER_BYTES > limit) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(at, true) !== magic) return null;
  const payloadBytes = v.getUint32(at + 4, true);
  if (payloadBytes > limit - at - BLOCK_HEADER_BYTES) return null;
  if (v.getUint32(at + 8, true) !== crc32(bytes.subarray(at + 12, at + BLOCK_HEADER_BYTES + payloadBytes))) return null;
  return {
    payloadBytes,
    count: v.getUint32(at + 12, true),
    first: v.getFloat64(at + 16, true),
    last: v.getFloat64(at + 24, true),
  };
}

/** Whether bytes[from, to) are all zero (the unwritten, pre-allocated end of a file). */
export function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}
