/**
 * Parser fuzzing: every parser that reads bytes from disk — file header,
 * block, root body, data and delta files, WAL segment header, batch and
 * record, LOCK, a stored table definition — fed arbitrary bytes and
 * arbitrary mutations of valid encodings (with their checksums made right
 * again, so the bytes reach the parsing behind them) may only return or
 * throw a TidemarkError with a stable code; never another exception, never
 * a hang, never an allocation sized by a length it has not checked.
 * TIDEMARK_SOAK=1 runs 20 times as many cases. This file: file headers,
 * blocks and root files; fuzz_pairs, fuzz_log and fuzz_verify.test.ts the rest.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DATA_BLOCK_MAGIC, DATA_MAGIC } from '../src/checkpoint/cfp_format.js';
import { decodeRoot, encodeRoot, type CfpEntry } from '../src/checkpoint/root_format.js';
import { ErrorCode, TidemarkError } from '../src/errors.js';
import { readBlock, sealBlock } from '../src/files/block.js';
import { decodeFileHeader, encodeFileHeader } from '../src/files/file_header.js';
import { decodeSegmentHeader } from '../src/log/wal_format.js';
import { applyEdits, concat, DB_ID, edits, resealHeader, RUNS, typed, validRoot } from './helpers/fuzz.js';

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

test.run();
