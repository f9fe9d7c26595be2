/**
 * Parser fuzzing: every parser that reads bytes from disk — file header,
 * block, root body, data and delta files, WAL segment header, batch and
 * record, LOCK, a stored table definition — fed arbitrary bytes and
 * arbitrary mutations of valid encodings (with their checksums made right
 * again, so the bytes reach the parsing behind them) may only return or
 * throw a TidemarkError with a stable code; never another exception, never
 * a hang, never an allocation sized by a length it has not checked.
 * TIDEMARK_SOAK=1 runs 20 times as many cases.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDelta, scanCfp } from '../src/checkpoint/cfp_reader.js';
import {
  DATA_BLOCK_MAGIC,
  DATA_MAGIC,
  dataFileName,
  DELTA_BLOCK_MAGIC,
  DELTA_MAGIC,
  deltaFileName,
} from '../src/checkpoint/cfp_format.js';
import { decodeRoot, encodeRoot, rootName, type CfpEntry, type RootBody } from '../src/checkpoint/root_format.js';
import { ErrorCode, TidemarkError } from '../src/errors.js';
import { readBlock, sealBlock } from '../src/files/block.js';
import { decodeFileHeader, encodeFileHeader, FILE_HEADER_BYTES } from '../src/files/file_header.js';
import { RecordBuilder, visitRecord, type RecordVisitor } from '../src/log/record.js';
import { decodeSegmentHeader, encodeSegmentHeader, sealBatch, segmentName } from '../src/log/wal_format.js';
import { replayWal } from '../src/log/wal_reader.js';
import { checkStoredDefinition, definitionFromJson } from '../src/schema/definition_json.js';
import { verify } from '../src/verify.js';
import { MemoryLayer, type Files } from './helpers/mutations.js';

const RUNS = process.env.TIDEMARK_SOAK === '1' ? 60 : 3;
// A fixed seed, so CI runs the same cases every time (a failure prints its seed and path); a soak explores new ones.
if (process.env.TIDEMARK_SOAK !== '1') fc.configureGlobal({ seed: Number(process.env.TIDEMARK_FUZZ_SEED ?? 20261122) });
const CODES = new Set<string>(Object.values(ErrorCode));
const DIR = '/fuzz';
const DB_ID = 77n;

/** Runs `parse`; anything thrown must be a TidemarkError with a known code. */
function typed(parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof TidemarkError) || !CODES.has(error.code))
      throw new Error(`not a typed error: ${String(error)}`, { cause: error });
  }
}

const noop: RecordVisitor = { commit() {}, insert() {}, delete() {}, createTable() {}, end() {} };

/** Arbitrary edits of a valid encoding: bit flips, overwritten bytes, a cut, bytes appended. */
const edits = fc.array(
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
type Edit = typeof edits extends fc.Arbitrary<Array<infer E>> ? E : never;

function applyEdits(source: Uint8Array, list: Edit[], from = 0): Uint8Array {
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

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Makes a file header's checksum (and a root's body checksum) right again after edits. */
function resealHeader(bytes: Uint8Array): Uint8Array {
  if (bytes.length < FILE_HEADER_BYTES) return bytes;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(60, crc32(bytes.subarray(0, 60)), true);
  return bytes;
}

function validRoot(cfps: CfpEntry[] = []): RootBody {
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

test('file header: arbitrary bytes and edited headers give typed errors only', () => {
  const valid = encodeFileHeader({ magic: DATA_MAGIC, version: 1, id: 5, databaseId: DB_ID, size: 65536, aux: 0 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) =>
      typed(() => decodeFileHeader(bytes, DATA_MAGIC, 1, 'f', 'data file')),
    ),
    { numRuns: 2000 * RUNS },
  );
  fc.assert(
    fc.property(edits, fc.boolean(), (list, reseal) => {
      const bytes = applyEdits(valid, list);
      typed(() => decodeFileHeader(reseal ? resealHeader(bytes) : bytes, DATA_MAGIC, 1, 'f', 'data file'));
      typed(() => decodeSegmentHeader(reseal ? resealHeader(bytes) : bytes, 'f'));
    }),
    { numRuns: 2000 * RUNS },
  );
});

test('block: arbitrary bytes never throw, and a payload length past the buffer is refused before it is used', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(300), (bytes, at) => {
      const block = readBlock(bytes, at, bytes.length, DATA_BLOCK_MAGIC);
      if (block !== null) assert.ok(at + 32 + block.payloadBytes <= bytes.length);
    }),
    { numRuns: 3000 * RUNS },
  );
  const bytes = new Uint8Array(64);
  sealBlock(bytes, 0, DATA_BLOCK_MAGIC, 8, 1, 1, 1);
  new DataView(bytes.buffer).setUint32(4, 0x7fffffff, true);
  assert.is(readBlock(bytes, 0, bytes.length, DATA_BLOCK_MAGIC), null);
});

test('root file: arbitrary bytes, edited roots and arbitrary JSON bodies with right checksums give typed errors only', () => {
  const valid = encodeRoot(validRoot());
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => typed(() => decodeRoot(bytes, 'root'))),
    { numRuns: 1000 * RUNS },
  );
  fc.assert(
    fc.property(edits, (list) => typed(() => decodeRoot(applyEdits(valid, list), 'root'))),
    { numRuns: 1000 * RUNS },
  );
  // A body whose checksum is right but whose JSON is anything: a forger's or a bug's root.
  const bodies = fc.oneof(
    fc.jsonValue(),
    fc.record({
      seq: fc.constant(3),
      databaseId: fc.constant(String(DB_ID)),
      checkpointTs: fc.jsonValue(),
      wal: fc.jsonValue(),
      nextFileId: fc.jsonValue(),
      catalog: fc.jsonValue(),
      cfps: fc.jsonValue(),
      walBytesStreamed: fc.jsonValue(),
      writtenAt: fc.jsonValue(),
    }),
    fc.record({
      ...Object.fromEntries(Object.entries(validRoot()).map(([k, v]) => [k, fc.constant(v)])),
      cfps: fc.array(
        fc.dictionary(
          fc.constantFrom(
            'id',
            'state',
            'minVersion',
            'maxVersion',
            'dataLength',
            'deltaLength',
            'rows',
            'tombstones',
            'capacity',
          ),
          fc.oneof(fc.jsonValue(), fc.constantFrom(2 ** 31, 2 ** 53, -1, 'ACTIVE')),
        ),
      ),
    }),
  );
  fc.assert(
    fc.property(bodies, (body) => {
      const json = new TextEncoder().encode(JSON.stringify(body) ?? 'null');
      const header = encodeFileHeader({
        magic: 'TMROOT01',
        version: 1,
        id: 3,
        databaseId: DB_ID,
        size: json.length,
        aux: crc32(json),
      });
      typed(() => decodeRoot(concat(header, json), 'root'));
    }),
    { numRuns: 2000 * RUNS },
  );
});

test('a root body holding objects whose toString is not a function is CORRUPT, not a TypeError (found by the fuzzer)', () => {
  const forged = JSON.parse('{"toString": ""}') as unknown;
  for (const cfps of [[{ id: [forged] }], [{ ...validRoot([]).cfps, id: 1, state: forged }], [forged]]) {
    const json = new TextEncoder().encode(JSON.stringify({ ...validRoot(), cfps }));
    const header = encodeFileHeader({
      magic: 'TMROOT01',
      version: 1,
      id: 3,
      databaseId: DB_ID,
      size: json.length,
      aux: crc32(json),
    });
    assert.throws(
      () => decodeRoot(concat(header, json), 'root'),
      (error: unknown) => error instanceof TidemarkError && error.code === ErrorCode.CORRUPT,
    );
  }
});

test('a root naming counts its files cannot hold is CORRUPT before anything is allocated for them', () => {
  const cfp: CfpEntry = {
    id: 1,
    state: 'ACTIVE',
    minVersion: 1,
    maxVersion: 10,
    firstCommitTs: 1,
    lastCommitTs: 10,
    capacity: 65536,
    dataLength: 64,
    deltaLength: 64,
    rows: 0,
    tombstones: 2 ** 31,
    sinceCheckpoint: 1,
  };
  typed(() => decodeRoot(encodeRoot(validRoot([cfp])), 'root'));
  assert.throws(() => decodeRoot(encodeRoot(validRoot([cfp])), 'root'), /counts its files cannot hold/);
});

/** A valid pair: one data block of rows of table 0 (id int32, v string), one delta block deleting the first. */
function validPair(): { files: Files; cfp: CfpEntry } {
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
function resealBlocks(bytes: Uint8Array, magic: number): Uint8Array {
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

test('data and delta files: edited files, checksums made right, give typed errors only', () => {
  const { files, cfp } = validPair();
  const row = { row() {}, blockEnd() {} };
  typed(() => scanCfp(new MemoryLayer(DIR, files), DIR, cfp, DB_ID, row));
  fc.assert(
    fc.property(edits, fc.boolean(), fc.boolean(), (list, onData, reseal) => {
      const name = onData ? dataFileName(1) : deltaFileName(1);
      let bytes = applyEdits(files.get(name)!, list, reseal ? FILE_HEADER_BYTES : 0);
      if (reseal) bytes = resealBlocks(bytes, onData ? DATA_BLOCK_MAGIC : DELTA_BLOCK_MAGIC);
      const edited = new Map(files).set(name, bytes);
      const entry = {
        ...cfp,
        dataLength: Math.min(cfp.dataLength, edited.get(dataFileName(1))!.length),
        deltaLength: Math.min(cfp.deltaLength, edited.get(deltaFileName(1))!.length),
      };
      typed(() => scanCfp(new MemoryLayer(DIR, edited), DIR, entry, DB_ID, row));
      typed(() => readDelta(new MemoryLayer(DIR, edited), DIR, entry, DB_ID));
    }),
    { numRuns: 3000 * RUNS },
  );
});

function record(commitTs: number, tableId: number, payload: Uint8Array): Uint8Array {
  const b = new RecordBuilder();
  b.begin(commitTs);
  b.op(1, tableId, commitTs, payload, 0, payload.length);
  b.end();
  return b.bytes.slice(0, b.length);
}

test('log records: arbitrary bytes and edited records give typed errors only', () => {
  const valid = record(5, 0, new Uint8Array([1, 0, 0, 0, 1, 0x61]));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) =>
      typed(() => visitRecord(bytes, 0, bytes.length, noop, () => 'r')),
    ),
    { numRuns: 3000 * RUNS },
  );
  fc.assert(
    fc.property(edits, (list) => {
      const bytes = applyEdits(valid, list, 4);
      typed(() => visitRecord(bytes, 4, bytes.length - 4, noop, () => 'r'));
    }),
    { numRuns: 3000 * RUNS },
  );
  // Read in place through a view (as the streamer and replay do), on a buffer that does not start at byte 0 of its ArrayBuffer,
  // with lengths that may run past it: still only typed errors, never a RangeError.
  fc.assert(
    fc.property(edits, fc.integer({ min: -8, max: 8 }), (list, slack) => {
      const edited = applyEdits(valid, list, 4);
      const backing = new Uint8Array(edited.length + 16);
      backing.set(edited, 8);
      const bytes = backing.subarray(8, 8 + edited.length);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      typed(() => visitRecord(bytes, 4, bytes.length - 4 + slack, noop, () => 'r', view));
    }),
    { numRuns: 3000 * RUNS },
  );
});

test('log records: on a buffer that does not start at byte 0 of its ArrayBuffer, with its view or none, a record gives the same, right visits', () => {
  const payload = new Uint8Array([1, 0, 0, 0, 2, 0x61, 0x62]);
  const rec = record(123_456_789_012, 3, payload);
  const backing = new Uint8Array(rec.length + 8);
  backing.set(rec, 5);
  const bytes = backing.subarray(5, 5 + rec.length);
  const seen = (view?: DataView): unknown[] => {
    const calls: unknown[] = [];
    const visitor = {
      commit: (ts: number) => calls.push(['commit', ts]),
      insert: (tableId: number, versionId: number, b: Uint8Array, offset: number, length: number) =>
        calls.push(['insert', tableId, versionId, [...b.subarray(offset, offset + length)]]),
      delete: (tableId: number, versionId: number) => calls.push(['delete', tableId, versionId]),
      createTable: (tableId: number) => calls.push(['create', tableId]),
      end: (ts: number) => calls.push(['end', ts]),
    };
    visitRecord(bytes, 4, bytes.length - 4, visitor, () => 'r', view);
    return calls;
  };
  const inPlace = seen(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  assert.equal(inPlace, seen());
  assert.equal(inPlace, [
    ['commit', 123_456_789_012],
    ['insert', 3, 123_456_789_012, [...payload]],
    ['end', 123_456_789_012],
  ]);
});

test('WAL segments: edited segments, batch checksums made right, give typed errors only', () => {
  const size = 65536;
  const segment = new Uint8Array(size);
  segment.set(encodeSegmentHeader({ seq: 0, databaseId: DB_ID, segmentBytes: size }));
  let at = 64;
  for (let ts = 1; ts <= 4; ts++) {
    const r = record(ts, 0, new Uint8Array([ts, 0, 0, 0, 1, 0x61]));
    segment.set(r, at + 32);
    at += sealBatch(segment, at, r.length, 1, ts, ts);
  }
  const end = at + 64;
  fc.assert(
    fc.property(edits, fc.boolean(), (list, reseal) => {
      const head = applyEdits(segment.subarray(0, end), list, reseal ? 64 : 0);
      const bytes = new Uint8Array(Math.max(size, head.length));
      bytes.set(head);
      if (reseal) {
        const v = new DataView(bytes.buffer);
        for (let b = 64; b + 32 <= end; b += 8) {
          if (v.getUint32(b, true) !== 0x31424d54) continue;
          const payload = v.getUint32(b + 4, true);
          if (payload <= bytes.length - b - 32)
            sealBatch(
              bytes,
              b,
              payload,
              v.getUint32(b + 12, true),
              v.getFloat64(b + 16, true),
              v.getFloat64(b + 24, true),
            );
        }
      }
      // With no view given (visitRecord makes one per record) and with the segment's own view, as replay and the streamer pass it.
      typed(() =>
        replayWal(new MemoryLayer(DIR, new Map([[segmentName(0), bytes]])), DIR, (r, o, l, where) =>
          visitRecord(r, o, l, noop, where),
        ),
      );
      typed(() =>
        replayWal(new MemoryLayer(DIR, new Map([[segmentName(0), bytes]])), DIR, (r, o, l, where, view) =>
          visitRecord(r, o, l, noop, where, view),
        ),
      );
    }),
    { numRuns: 500 * RUNS },
  );
});

test('stored table definitions: any JSON value gives a problem or a definition, never another exception', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue(),
        fc.record({
          name: fc.jsonValue(),
          columns: fc.array(fc.dictionary(fc.constantFrom('name', 'type', 'nullable', 'default'), fc.jsonValue())),
          primaryKey: fc.jsonValue(),
          indexes: fc.jsonValue(),
        }),
      ),
      (value) => {
        assert.type(checkStoredDefinition(value) ?? '', 'string');
        typed(() => definitionFromJson(value));
      },
    ),
    { numRuns: 3000 * RUNS },
  );
});

test('verify: a directory of arbitrary files (LOCK, roots, pairs, segments) reports problems, never throws', async () => {
  const { files: pair, cfp } = validPair();
  const root = encodeRoot(validRoot([cfp]));
  const names = fc.constantFrom('LOCK', rootName(3), dataFileName(1), deltaFileName(1), segmentName(0), 'junk');
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(names, fc.uint8Array({ maxLength: 200 })), { maxLength: 4 }),
      edits,
      async (extra, list) => {
        const files: Files = new Map([...pair, [rootName(3), applyEdits(root, list)]]);
        for (const [name, bytes] of extra) files.set(name, bytes);
        const report = await verify(DIR, { layer: new MemoryLayer(DIR, files) });
        assert.ok(!report.problems.some((p) => p.code === 'UNEXPECTED_ERROR'), JSON.stringify(report.problems));
      },
    ),
    { numRuns: 300 * RUNS },
  );
});

test.run();
