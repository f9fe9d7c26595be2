/**
 * The WAL on the main thread, over the real file layer: records round-trip
 * across segments; a torn last batch is cut and reported; a bad batch with
 * valid newer ones after it, a missing segment or a damaged header are
 * CORRUPT errors naming the file and offset; writing resumes after a cut.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeFileLayer } from '../src/files/file_layer.js';
import { OP_INSERT, RecordBuilder, visitRecord, type RecordVisitor } from '../src/log/record.js';
import { replayWal, type WalPosition } from '../src/log/wal_reader.js';
import { segmentName } from '../src/log/wal_format.js';
import { WalWriter } from '../src/log/wal_writer.js';
import { ErrorCode, isTidemarkError } from '../src/errors.js';

const layer = new NodeFileLayer();
const SEGMENT = 64 * 1024;

function payload(ts: number): Uint8Array {
  return new Uint8Array(ts % 700).fill(ts & 255);
}

/** Writes commits first..last, `perBatch` per fdatasync. */
function write(dir: string, first: number, last: number, perBatch: number, at?: WalPosition): void {
  const writer = new WalWriter(layer, dir, {
    segmentBytes: SEGMENT,
    databaseId: 7n,
    seq: at?.seq ?? 0,
    offset: at?.offset ?? 0,
  });
  const b = new RecordBuilder();
  for (let ts = first; ts <= last; ts++) {
    b.begin(ts);
    const p = payload(ts);
    b.op(OP_INSERT, 1, ts, p, 0, p.length);
    b.end();
    writer.add(b.bytes, 4, b.length - 4);
    if ((ts - first + 1) % perBatch === 0) writer.sync();
  }
  writer.sync();
  writer.close();
}

function replay(dir: string): { commits: number[]; position: WalPosition } {
  const commits: number[] = [];
  const visitor: RecordVisitor = {
    commit: () => {},
    insert: (_t, versionId, bytes, offset, length) => {
      const expected = payload(versionId);
      assert.is(length, expected.length);
      assert.ok(bytes.subarray(offset, offset + length).every((x) => x === (versionId & 255)));
    },
    delete: () => {},
    createTable: () => {},
    changeTable: () => {},
    end: (ts) => void commits.push(ts),
  };
  const position = replayWal(
    layer,
    dir,
    (bytes, offset, length, where) => void visitRecord(bytes, offset, length, visitor, where),
  );
  return { commits, position };
}

function fresh(): string {
  return mkdtempSync(join(tmpdir(), 'tidemark-wal-'));
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Byte offset of the last batch of a segment (walks the batch headers). */
function lastBatchOffset(bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  let at = 64;
  let last = -1;
  while (at + 32 <= bytes.length && v.getUint32(at, true) !== 0) {
    last = at;
    at += (32 + v.getUint32(at + 4, true) + 7) & ~7;
  }
  return last;
}

test('records round-trip across several segments, in order', () => {
  const dir = fresh();
  write(dir, 1, 600, 7);
  const { commits, position } = replay(dir);
  assert.equal(commits, range(1, 600));
  assert.ok(position.segments >= 3, `${position.segments} segments`);
  assert.is(position.lastCommitTs, 600);
  assert.is(position.tornTail, null);
  assert.ok(
    readdirSync(dir).every((f) => !f.endsWith('.tmp')),
    'no temporary files left',
  );
  rmSync(dir, { recursive: true });
});

test('a torn last batch is cut and reported; writing resumes after it', () => {
  const dir = fresh();
  write(dir, 1, 50, 5);
  const path = join(dir, segmentName(0));
  const bytes = new Uint8Array(readFileSync(path));
  const tornAt = lastBatchOffset(bytes);
  bytes[tornAt + 40]! ^= 0xff; // a damaged byte inside the last batch, nothing valid after it
  writeFileSync(path, bytes);
  const first = replay(dir);
  assert.equal(first.commits, range(1, 45));
  assert.equal(first.position.tornTail, { file: path, offset: tornAt });
  write(dir, 46, 80, 3, first.position);
  const second = replay(dir);
  assert.equal(second.commits, range(1, 80));
  assert.is(second.position.tornTail, null);
  rmSync(dir, { recursive: true });
});

test('a bad batch followed by valid newer batches is CORRUPT, naming file and offset', () => {
  const dir = fresh();
  write(dir, 1, 40, 4);
  const path = join(dir, segmentName(0));
  const bytes = new Uint8Array(readFileSync(path));
  bytes[64 + 40]! ^= 0x01; // inside the first batch
  writeFileSync(path, bytes);
  try {
    replay(dir);
    assert.unreachable('must refuse');
  } catch (error) {
    assert.ok(isTidemarkError(error, ErrorCode.CORRUPT), String(error));
    assert.match((error as Error).message, `${path}: bad WAL batch at offset 64`);
  }
  rmSync(dir, { recursive: true });
});

test('a missing middle segment and a damaged segment header are CORRUPT', () => {
  const dir = fresh();
  write(dir, 1, 600, 10);
  const header = join(dir, segmentName(2));
  const bytes = new Uint8Array(readFileSync(header));
  bytes[20]! ^= 0x10;
  writeFileSync(header, bytes);
  assert.throws(
    () => replay(dir),
    (e: Error) => isTidemarkError(e, ErrorCode.CORRUPT) && e.message.includes(header) && /checksum/.test(e.message),
  );
  rmSync(join(dir, segmentName(1)));
  assert.throws(
    () => replay(dir),
    (e: Error) => isTidemarkError(e, ErrorCode.CORRUPT) && /segment 1 is missing/.test(e.message),
  );
  rmSync(dir, { recursive: true });
});

test('arbitrary bytes given to the record decoder give CORRUPT errors only', () => {
  const visitor: RecordVisitor = {
    commit: () => {},
    insert: () => {},
    delete: () => {},
    createTable: () => {},
    changeTable: () => {},
    end: () => {},
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        visitRecord(bytes, 0, bytes.length, visitor, () => 'fuzz');
      } catch (error) {
        assert.ok(isTidemarkError(error, ErrorCode.CORRUPT), String(error));
      }
    }),
    { numRuns: 3000 },
  );
});

test.run();
