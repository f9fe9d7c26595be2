/**
 * One test per detection gap the corruption matrix found, each a damage
 * that used to load a silently different database and now fails with
 * CORRUPT naming the file (and is reported by verify): a zeroed batch
 * header in the middle of a segment, an older batch copied over a later
 * one, a segment replaced by an older copy of itself with a later segment
 * after it, a truncated segment, a root renamed over another, a root whose
 * body has the wrong shape behind a right checksum, and a pre-created pair
 * file missing.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeFileLayer } from '../src/files/file_layer.js';
import { encodeFileHeader } from '../src/files/file_header.js';
import { decodeRoot, rootName } from '../src/checkpoint/root_format.js';
import { OP_INSERT, RecordBuilder, visitRecord, type RecordVisitor } from '../src/log/record.js';
import { replayWal } from '../src/log/wal_reader.js';
import { segmentName } from '../src/log/wal_format.js';
import { WalWriter } from '../src/log/wal_writer.js';
import { verify } from '../src/verify.js';

const layer = new NodeFileLayer();
const SEGMENT = 64 * 1024;
const made: string[] = [];

/** A WAL of `commits` one-record batches of 200-byte rows, over 64 KiB segments; returns the directory. */
function wal(commits: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-detect-'));
  made.push(dir);
  const writer = new WalWriter(layer, dir, { segmentBytes: SEGMENT, databaseId: 9n, seq: 0, offset: 0 });
  const b = new RecordBuilder();
  const create = new TextEncoder().encode(
    JSON.stringify({
      name: 't',
      columns: [
        { name: 'id', type: 'int32' },
        { name: 'v', type: 'string' },
      ],
      primaryKey: ['id'],
    }),
  );
  b.begin(1);
  b.op(3, 0, 0, create, 0, create.length);
  b.end();
  writer.add(b.bytes, 4, b.length - 4);
  writer.sync();
  for (let ts = 2; ts <= commits; ts++) {
    const row = new Uint8Array(4 + 2 + 200).fill(0x61);
    new DataView(row.buffer).setInt32(0, ts, true);
    row[4] = (200 & 0x7f) | 0x80;
    row[5] = 1;
    b.begin(ts);
    b.op(OP_INSERT, 0, ts, row, 0, row.length);
    b.end();
    writer.add(b.bytes, 4, b.length - 4);
    writer.sync();
  }
  writer.close();
  return dir;
}

const noop: RecordVisitor = { commit() {}, insert() {}, delete() {}, createTable() {}, changeTable() {}, end() {} };
const replay = (dir: string): unknown =>
  replayWal(layer, dir, (bytes, offset, length, where) => void visitRecord(bytes, offset, length, noop, where));

/** Offsets of the batches of a segment. */
function batches(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const out: number[] = [];
  for (
    let at = 64;
    at + 32 <= bytes.length && v.getUint32(at, true) !== 0;
    at += (32 + v.getUint32(at + 4, true) + 7) & ~7
  )
    out.push(at);
  return out;
}

async function rejected(dir: string, file: string, pattern: RegExp): Promise<void> {
  assert.throws(
    () => replay(dir),
    (e: Error) => (e as { code?: string }).code === 'TM_CORRUPT' && e.message.includes(file) && pattern.test(e.message),
  );
  const report = await verify(dir);
  assert.not.ok(report.ok);
  assert.ok(
    report.problems.some((p) => p.file === file),
    JSON.stringify(report.problems),
  );
}

test('a zeroed batch header in the middle of the last segment is CORRUPT, not the end of the log', async () => {
  const dir = wal(40);
  const path = join(dir, segmentName(0));
  const bytes = readFileSync(path);
  const at = batches(bytes)[10]!;
  bytes.fill(0, at, at + 32);
  writeFileSync(path, bytes);
  await rejected(dir, segmentName(0), /followed by a valid batch/);
});

test('an older batch copied over a later one (a misdirected write) is CORRUPT', async () => {
  const dir = wal(40);
  const path = join(dir, segmentName(0));
  const bytes = readFileSync(path);
  const list = batches(bytes);
  bytes.copyWithin(list[20]!, list[5]!, list[6]!); // same size: a stale-looking batch where batch 20 was
  writeFileSync(path, bytes);
  await rejected(dir, segmentName(0), /followed by a valid batch/);
});

test('a segment replaced by an older copy of itself, a later segment after it, is CORRUPT', async () => {
  const dir = wal(500);
  const path = join(dir, segmentName(0));
  const bytes = readFileSync(path);
  const list = batches(bytes);
  bytes.fill(0, list[list.length - 20]!); // the copy taken 20 batches before the segment was full
  writeFileSync(path, bytes);
  await rejected(dir, segmentName(0), /without its seal/);
});

test('a truncated WAL segment is CORRUPT, even where the cut leaves whole batches', async () => {
  const dir = wal(40);
  const path = join(dir, segmentName(0));
  truncateSync(path, batches(readFileSync(path))[30]!);
  await rejected(dir, segmentName(0), /truncated/);
});

/** Root file 1 of an empty database (id 9) with a right checksum, its body's fields replaced by `patch`. */
function rootFile(patch: Record<string, unknown>): Buffer {
  const body = {
    seq: 1,
    databaseId: '9',
    checkpointTs: 0,
    wal: { seq: 0, offset: 64 },
    nextFileId: 0,
    catalog: [],
    cfps: [],
    walBytesStreamed: 0,
    writtenAt: 0,
    ...patch,
  };
  const json = new TextEncoder().encode(JSON.stringify(body));
  const header = encodeFileHeader({
    magic: 'TMROOT01',
    version: 1,
    id: 1,
    databaseId: 9n,
    size: json.length,
    aux: crc32(json),
  });
  return Buffer.concat([header, json]);
}

test('a root renamed over another is CORRUPT, and open falls back as for any bad root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-detect-'));
  made.push(dir);
  writeFileSync(join(dir, rootName(1)), rootFile({}));
  copyFileSync(join(dir, rootName(1)), join(dir, rootName(2)));
  assert.throws(
    () => decodeRoot(readFileSync(join(dir, rootName(2))), rootName(2), 2),
    /header names root 1, its file name 2/,
  );
  assert.is(decodeRoot(readFileSync(join(dir, rootName(1))), rootName(1), 1).seq, 1);
});

test('a root body with a right checksum but the wrong shape is CORRUPT (no TypeError, no allocation from its counts)', () => {
  const bad = [
    {
      cfps: [
        {
          id: 1,
          state: 'ACTIVE',
          minVersion: 1,
          maxVersion: 2,
          firstCommitTs: 1,
          lastCommitTs: 2,
          capacity: 1,
          dataLength: 64,
          deltaLength: 64,
          rows: 2 ** 40,
          tombstones: 0,
          sinceCheckpoint: 1,
        },
      ],
    },
    { cfps: [{ id: 1, state: 'NOPE' }] },
    { catalog: [7] },
    { wal: null },
  ];
  for (const patch of bad) {
    assert.throws(
      () => decodeRoot(rootFile(patch), 'root-1'),
      (e: Error) => (e as { code?: string }).code === 'TM_CORRUPT',
      JSON.stringify(patch),
    );
  }
});

test('a missing WAL segment in the middle names the missing segment', async () => {
  const dir = wal(500);
  unlinkSync(join(dir, segmentName(1)));
  await rejected(dir, segmentName(1), /is missing/);
});

test.after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
test.run();
