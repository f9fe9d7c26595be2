/**
 * The 64-byte header every Tidemark file begins with (WAL segments, data and
 * delta files, root files). Layout in docs/FORMAT.md ("File header"):
 *
 *   magic (8 ASCII bytes) | u32 version | u32 headerBytes (64) | u64 id | u64 databaseId
 *   | u32 size | u32 aux | zeros | u32 crc32(bytes 0..60)
 *
 * `id` is the file's identity (a WAL segment's seq, a CFP's file id, a root's
 * seq); `size` and `aux` mean what each file kind says.
 */
import { crc32 } from 'node:zlib';
import { ErrorCode, TidemarkError } from '../errors.js';

export const FILE_HEADER_BYTES = 64;
const CRC_AT = 60;

export interface FileHeader {
  magic: string;
  version: number;
  id: number;
  databaseId: bigint;
  size: number;
  aux: number;
}

export function encodeFileHeader(h: FileHeader): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_BYTES);
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = h.magic.charCodeAt(i);
  v.setUint32(8, h.version, true);
  v.setUint32(12, FILE_HEADER_BYTES, true);
  v.setBigUint64(16, BigInt(h.id), true);
  v.setBigUint64(24, h.databaseId, true);
  v.setUint32(32, h.size, true);
  v.setUint32(36, h.aux >>> 0, true);
  v.setUint32(CRC_AT, crc32(bytes.subarray(0, CRC_AT)), true);
  return bytes;
}

/** Decodes and checks a header (`version`: the one, or the ones, a reader accepts): CORRUPT naming `file` and the offset of what is wrong. */
export function decodeFileHeader(
  bytes: Uint8Array,
  magic: string,
  version: number | readonly number[],
  file: string,
  what: string,
): FileHeader {
  const bad = (why: string, offset: number): TidemarkError =>
    new TidemarkError(ErrorCode.CORRUPT, `${file}: ${what} header ${why} (offset ${offset})`);
  if (bytes.length < FILE_HEADER_BYTES) throw bad('is truncated', bytes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  for (let i = 0; i < 8; i++) if (bytes[i] !== magic.charCodeAt(i)) throw bad('has a wrong magic number', 0);
  if (v.getUint32(CRC_AT, true) !== crc32(bytes.subarray(0, CRC_AT))) throw bad('fails its checksum', CRC_AT);
  const found = v.getUint32(8, true);
  if (typeof version === 'number' ? found !== version : !version.includes(found))
    throw bad(`has unknown version ${found}`, 8);
  return {
    magic,
    version: found,
    id: Number(v.getBigUint64(16, true)),
    databaseId: v.getBigUint64(24, true),
    size: v.getUint32(32, true),
    aux: v.getUint32(36, true),
  };
}
