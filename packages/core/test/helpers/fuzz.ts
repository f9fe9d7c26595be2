/**
 * What the parser fuzz tests share: the run count (TIDEMARK_SOAK=1 runs 20
 * times as many cases) and the fixed seed, the check that anything thrown is
 * a TidemarkError with a known code, arbitrary edits of valid encodings, the
 * resealing that makes their checksums right again, and a valid root and pair.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import {
  DATA_BLOCK_MAGIC,
  DATA_MAGIC,
  dataFileName,
  DELTA_BLOCK_MAGIC,
  DELTA_MAGIC,
  deltaFileName,
} from '../../src/checkpoint/cfp_format.js';
import type { CfpEntry, RootBody } from '../../src/checkpoint/root_format.js';
import { ErrorCode, TidemarkError } from '../../src/errors.js';
import { sealBlock } from '../../src/files/block.js';
import { encodeFileHeader, FILE_HEADER_BYTES } from '../../src/files/file_header.js';
import type { RecordVisitor } from '../../src/log/record.js';
import type { Files } from './mutations.js';

export const RUNS = process.env.TIDEMARK_SOAK === '1' ? 60 : 3;
// A fixed seed, so CI runs the same cases every time (a failure prints its seed and path); a soak explores new ones.
if (process.env.TIDEMARK_SOAK !== '1') fc.configureGlobal({ seed: Number(process.env.TIDEMARK_FUZZ_SEED ?? 20261122) });
export const CODES = new Set<string>(Object.values(ErrorCode));
export const DIR = '/fuzz';
export const DB_ID = 77n;

/** Runs `parse`; anything thrown must be a TidemarkError with a known code. */
export function typed(parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof TidemarkError) || !CODES.has(error.code))
      throw new Error(`not a typed error: ${String(error)}`, { cause: error });
  }
}

export const noop: RecordVisitor = {
  commit() {},
  insert() {},
  delete() {},
  createTable() {},
  changeTable() {},
  end() {},
};

/** Arbitrary edits of a valid encoding: bit flips, overwritten bytes, a cut, bytes appended. */
export const edits = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('grow' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
    fc.record({
      kind: fc.constant('huge' as const),
      at: fc.nat(),
      value: fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff, 0x10000000),
    }),
  ),
  { minLength: 1, maxLength: 6 },
);
export type Edit = typeof edits extends fc.Arbitrary<Array<infer E>> ? E : never;

export function applyEdits(source: Uint8Array, list: Edit[], from = 0): Uint8Array {
  let bytes: Uint8Array = source.slice();
  for (const e of list) {
    const span = Math.max(1, bytes.length - from);
    if (e.kind === 'flip' && bytes.length > from) bytes[from + (e.at % span)]! ^= 1 << e.bit;
    else if (e.kind === 'set' && bytes.length > from)
      bytes.set(e.bytes.subarray(0, bytes.length - from - (e.at % span)), from + (e.at % span));
    else if (e.kind === 'cut') bytes = bytes.slice(0, e.at % (bytes.length + 1));
    else if (e.kind === 'grow') bytes = concat(bytes, e.bytes);
    else if (e.kind === 'huge' && bytes.length >= from + 4)
      new DataView(bytes.buffer).setUint32((from + (e.at % (bytes.length - from - 3))) & ~3, e.value, true);
  }
  return bytes;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Makes a file header's checksum (and a root's body checksum) right again after edits. */
export function resealHeader(bytes: Uint8Array): Uint8Array {
  if (bytes.length < FILE_HEADER_BYTES) return bytes;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(60, crc32(bytes.subarray(0, 60)), true);
  return bytes;
}

export function validRoot(cfps: CfpEntry[] = []): RootBody {
  return {
    seq: 3,
    databaseId: String(DB_ID),
    checkpointTs: 10,
    wal: { seq: 0, offset: 64 },
    nextFileId: 2,
    catalog: [
      {
        name: 't',
        columns: [
          { name: 'id', type: 'int32' },
          { name: 'v', type: 'string' },
        ],
        primaryKey: ['id'],
        indexes: [],
        durability: 'durable',
      },
    ],
    tableRows: [1],
    cfps,
    walBytesStreamed: 0,
    writtenAt: 1,
  };
}

/** A valid pair: one data block of rows of table 0 (id int32, v string), one delta block deleting the first. */
export function validPair(): { files: Files; cfp: CfpEntry } {
  const header = (magic: string): Uint8Array =>
    encodeFileHeader({ magic, version: 1, id: 1, databaseId: DB_ID, size: 0, aux: 0 });
  const block = new Uint8Array(32 + 3 * 24);
  const v = new DataView(block.buffer);
  for (let i = 0; i < 3; i++) {
    const at = 32 + i * 24;
    v.setUint16(at, 0, true);
    v.setUint32(at + 4, 6, true);
    v.setFloat64(at + 8, i + 1, true);
    v.setInt32(at + 16, i, true);
    block[at + 20] = 1;
    block[at + 21] = 0x61;
  }
  sealBlock(block, 0, DATA_BLOCK_MAGIC, 3 * 24, 3, 1, 3);
  const delta = new Uint8Array(40);
  new DataView(delta.buffer).setFloat64(32, 1, true);
  sealBlock(delta, 0, DELTA_BLOCK_MAGIC, 8, 1, 1, 1);
  const data = concat(header(DATA_MAGIC), block);
  const deltaFile = concat(header(DELTA_MAGIC), delta);
  const cfp: CfpEntry = {
    id: 1,
    state: 'ACTIVE',
    minVersion: 1,
    maxVersion: 3,
    firstCommitTs: 1,
    lastCommitTs: 3,
    capacity: data.length,
    dataLength: data.length,
    deltaLength: deltaFile.length,
    rows: 3,
    tombstones: 1,
    sinceCheckpoint: 1,
  };
  return {
    files: new Map([
      [dataFileName(1), data],
      [deltaFileName(1), deltaFile],
    ]),
    cfp,
  };
}

/** Re-seals every block it can find at its place after edits, so the edits reach the entries. */
export function resealBlocks(bytes: Uint8Array, magic: number): Uint8Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = FILE_HEADER_BYTES;
  while (at + 32 <= bytes.length) {
    const payload = v.getUint32(at + 4, true);
    if (payload > bytes.length - at - 32) break;
    sealBlock(
      bytes,
      at,
      magic,
      payload,
      v.getUint32(at + 12, true),
      v.getFloat64(at + 16, true),
      v.getFloat64(at + 24, true),
    );
    at += (32 + payload + 7) & ~7;
  }
  return resealHeader(bytes);
}
