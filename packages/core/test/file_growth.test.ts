/**
 * Pre-allocation that grows with the data: WAL segments start at 1 MiB and
 * double at each rollover up to walSegmentBytes, a record too large for the
 * planned size gets a segment that holds it, a writer going on in an
 * existing segment keeps its size and doubles from there; free segments of
 * an outgrown size are deleted (at the next rollover, or at open), same-size
 * ones recycled; a clean close ends in a segment of the first size; data
 * files start
 * at 2 MiB and double up to dataFileSizeBytes. Every commit replays, in
 * order, whatever the sizes.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open } from '../src/index.js';
import { NodeFileLayer } from '../src/files/file_layer.js';
import { OP_INSERT, RecordBuilder, visitRecord, type RecordVisitor } from '../src/log/record.js';
import { replayWal } from '../src/log/wal_reader.js';
import { WalWriter } from '../src/log/wal_writer.js';
import { KV } from './helpers/tables.js';

const MiB = 1024 * 1024;
const layer = new NodeFileLayer();
const made: string[] = [];
test.after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function fresh(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-growth-'));
  made.push(dir);
  return dir;
}

/** Sizes of the files named `prefix-*` in `dir`, in name order. */
function sizes(dir: string, prefix: string): number[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}-`) && !f.endsWith('.tmp'))
    .sort()
    .map((f) => statSync(join(dir, f)).size);
}

/** Writes `count` commits from `first` on, with bodies of `bytes(ts)` bytes, syncing every 16. */
function write(
  dir: string,
  at: { seq: number; offset: number },
  first: number,
  bytes: (ts: number) => number,
  count: number,
): void {
  const writer = new WalWriter(layer, dir, { segmentBytes: 8 * MiB, databaseId: 7n, seq: at.seq, offset: at.offset });
  const b = new RecordBuilder();
  for (let ts = first; ts < first + count; ts++) {
    const body = new Uint8Array(bytes(ts)).fill(ts & 255);
    b.begin(ts);
    b.op(OP_INSERT, 1, ts, body, 0, body.length);
    b.end();
    writer.add(b.bytes, 4, b.length - 4);
    if (ts % 16 === 0) writer.sync();
  }
  writer.sync();
  writer.close();
}

function replay(dir: string): { commits: number[]; position: ReturnType<typeof replayWal> } {
  const commits: number[] = [];
  const visitor: RecordVisitor = {
    commit: () => {},
    insert: () => {},
    delete: () => {},
    createTable: () => {},
    changeTable: () => {},
    end: (ts) => void commits.push(ts),
  };
  const position = replayWal(layer, dir, (bytes, offset, length, where) =>
    visitRecord(bytes, offset, length, visitor, where),
  );
  return { commits, position };
}

test('segments start at 1 MiB and double at each rollover up to walSegmentBytes; every commit replays', () => {
  const dir = fresh();
  write(dir, { seq: 0, offset: 0 }, 1, () => 4000, 6000); // about 24 MiB of log
  const wal = sizes(dir, 'wal');
  assert.ok(wal.length >= 5, `${wal.length} segments`);
  assert.equal(wal.slice(0, 4), [MiB, 2 * MiB, 4 * MiB, 8 * MiB]);
  assert.ok(
    wal.slice(4).every((s) => s === 8 * MiB),
    `${wal}`,
  );
  const { commits } = replay(dir);
  assert.equal(
    commits,
    Array.from({ length: 6000 }, (_, i) => i + 1),
  );
});

test('a record larger than the next planned segment gets a segment that holds it', () => {
  const dir = fresh();
  write(dir, { seq: 0, offset: 0 }, 1, (ts) => (ts === 3 ? 3 * MiB : 100), 5);
  const wal = sizes(dir, 'wal');
  assert.is(wal[0], MiB);
  assert.ok(wal[1]! >= 3 * MiB && wal[1]! % (64 * 1024) === 0, `second segment ${wal[1]} B`);
  assert.equal(replay(dir).commits, [1, 2, 3, 4, 5]);
});

test('a writer going on in an existing segment keeps its size, and the next one doubles it', () => {
  const dir = fresh();
  write(dir, { seq: 0, offset: 0 }, 1, () => 100, 10);
  const { position } = replay(dir);
  write(dir, { seq: position.seq, offset: position.offset }, 11, () => 4000, 600);
  assert.equal(sizes(dir, 'wal').slice(0, 2), [MiB, 2 * MiB]);
  assert.equal(
    replay(dir).commits,
    Array.from({ length: 610 }, (_, i) => i + 1),
  );
});

test('with checkpoints freeing segments as they grow, outgrown ones are deleted and same-size ones recycled', async () => {
  const dir = fresh();
  const options = { dir, tables: [KV], walSegmentBytes: 4 * MiB, checkpointWalBytes: 8 * MiB, checkpointIntervalMs: 0 };
  const db = await open(options);
  const v = 'y'.repeat(1000);
  for (let k = 0; k < 40_000; k += 500) {
    await db.transaction((tx) => {
      for (let i = k; i < k + 500; i++) tx.insert('kv', { k: i, v });
    });
  }
  await db.checkpoint();
  const stats = (await db.logStats()).writer!;
  const wal = sizes(dir, 'wal');
  await db.close();
  assert.ok(stats.segmentsRecycled > 0, `segments recycled: ${stats.segmentsRecycled}`);
  assert.ok(stats.segmentsDeleted > 0, `outgrown segments deleted: ${stats.segmentsDeleted}`);
  assert.ok(
    wal.every((s) => s === 4 * MiB),
    `only full-size segments are left: ${wal}`,
  );
  const again = await open(options);
  assert.is(again.table('kv').size, 40_000);
  await again.close();
});

test('a clean close ends the WAL in a small segment, and the reopen deletes the grown ones', async () => {
  const dir = fresh();
  // No checkpoint until the close: the segments grow 1, 2, 4 MiB and all stay needed until then.
  const options = {
    dir,
    tables: [KV],
    walSegmentBytes: 8 * MiB,
    checkpointWalBytes: 1024 * MiB,
    checkpointIntervalMs: 0,
  };
  const db = await open(options);
  const v = 'y'.repeat(1000);
  for (let k = 0; k < 5_000; k += 500) {
    await db.transaction((tx) => {
      for (let i = k; i < k + 500; i++) tx.insert('kv', { k: i, v });
    });
  }
  await db.close();
  const closed = sizes(dir, 'wal');
  assert.ok(closed.length >= 4 && closed[0] === MiB, `segments grew before the close: ${closed}`);
  assert.is(closed.at(-1), MiB, `the close moved on to a segment of the first size: ${closed}`);
  assert.ok(closed.at(-2)! > MiB, `from a grown one: ${closed}`);
  const again = await open(options);
  const reopened = sizes(dir, 'wal');
  assert.ok(
    reopened.every((size) => size === MiB),
    `the grown segments are deleted, the small ones kept (to write in, to recycle): ${reopened}`,
  );
  assert.is(again.table('kv').size, 5_000);
  await again.table('kv').insert({ k: -1, v: 'after' });
  await again.close();
  const third = await open(options);
  assert.is(third.table('kv').size, 5_001);
  assert.is(third.table('kv').get(-1)?.v, 'after');
  await third.close();
});

test('data files start at 2 MiB and double, up to dataFileSizeBytes', async () => {
  const dir = fresh();
  const db = await open({ dir, tables: [KV], dataFileSizeBytes: 8 * MiB, checkpointIntervalMs: 0 });
  const v = 'x'.repeat(200);
  for (let k = 0; k < 80_000; k += 1000) {
    await db.transaction((tx) => {
      for (let i = k; i < k + 1000; i++) tx.insert('kv', { k: i, v });
    });
  }
  await db.checkpoint();
  const data = sizes(dir, 'data');
  await db.close();
  assert.ok(data.length >= 3, `${data.length} data files`);
  assert.equal(data.slice(0, 3), [2 * MiB, 4 * MiB, 8 * MiB]);
  assert.ok(
    data.every((s) => s <= 8 * MiB),
    `no file past dataFileSizeBytes: ${data}`,
  );
  const again = await open({ dir, tables: [KV] });
  assert.is(again.table('kv').size, 80_000);
  await again.close();
});

test.run();
