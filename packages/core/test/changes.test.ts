/**
 * The change feed against a model: random transactions (inserts, updates,
 * deletes, several rows each) on a table; the feed's changes, replayed onto
 * an empty map batch by batch, equal the table's contents after each
 * commitTs. Commits made before the feed opened come from the WAL (a
 * worker), later ones from memory, and a consumer that falls more than the
 * feed's memory behind reads the WAL instead; after a crash image is
 * reopened, a feed started at the last commitTs a consumer saw goes on
 * with nothing skipped or doubled. A feed asking for commits the WAL no
 * longer holds fails with CHANGES_EXPIRED.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChangeBatch, type Database, ErrorCode, open, verify } from '../src/index.js';
import { crashImage, makeRandom, rejectsWith, tempDirs } from './helpers/dirs.js';
import { KV } from './helpers/tables.js';

const dirs = tempDirs('tidemark-changes-');

type Model = Map<number, string>;

function hashOf(model: Model): string {
  return createHash('sha256')
    .update(JSON.stringify([...model].sort((a, b) => a[0] - b[0])))
    .digest('hex');
}

/** Commits `n` random transactions; returns the model's hash after each commitTs. */
async function commitRandom(
  db: Database,
  model: Model,
  n: number,
  seed: number,
  pad = 20,
): Promise<Map<number, string>> {
  const random = makeRandom(seed);
  const hashes = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    const tx = db.begin();
    for (let w = 0; w < 1 + random(4); w++) {
      const k = random(200);
      if (model.has(k) && random(3) === 0) {
        tx.delete('kv', k);
        model.delete(k);
      } else {
        const v = `${i}:${w}`.padEnd(pad, '.');
        tx.upsert('kv', { k, v });
        model.set(k, v);
      }
    }
    const commitTs = await tx.commit();
    hashes.set(commitTs, hashOf(model));
  }
  return hashes;
}

/** Replays batches onto `replica`, checking the hash after each commitTs the model knows. */
function apply(replica: Model, batch: ChangeBatch, hashes: Map<number, string>): void {
  for (const c of batch.changes) {
    if (c.op === 'insert' || c.op === 'update') replica.set(c.key as number, c.row.v as string);
    else if (c.op === 'delete') replica.delete(c.key as number);
  }
  const expected = hashes.get(batch.commitTs);
  if (expected !== undefined) assert.is(hashOf(replica), expected, `the replica after commit ${batch.commitTs}`);
}

async function take(
  feed: AsyncIterableIterator<ChangeBatch>,
  upTo: number,
  onBatch: (b: ChangeBatch) => void,
): Promise<void> {
  for await (const batch of feed) {
    onBatch(batch);
    if (batch.commitTs >= upTo) break;
  }
}

test('the feed replayed onto a map equals the table after every commit: from the WAL, then from memory', async () => {
  const db = await open({ dir: dirs.make(), tables: [KV] });
  const model: Model = new Map();
  const before = await commitRandom(db, model, 150, 1);
  const feed = db.changes({ since: 0 });
  const replica: Model = new Map();
  const seen: number[] = [];
  const live = commitRandom(db, model, 150, 2);
  const hashes = new Map([...before, ...(await live)]);
  const last = Math.max(...hashes.keys());
  await take(feed, last, (b) => {
    assert.type(b.time, 'number', 'a batch has its time, from memory or from its WAL batch');
    seen.push(b.commitTs);
    apply(replica, b, hashes);
  });
  assert.equal(seen, [1, ...[...hashes.keys()].sort((a, b) => a - b)], 'every commit once, in order');
  assert.is(hashOf(replica), hashOf(model));
  const withTime = db.changes({ tables: ['kv'] });
  const [ts] = [await db.table('kv').upsert({ k: 1, v: 'x' })];
  const next = await withTime.next();
  assert.is(next.value!.commitTs, ts);
  assert.ok(typeof next.value!.time === 'number', 'a commit seen in memory has its time');
  assert.equal(next.value!.changes, [
    { table: 'kv', op: model.has(1) ? 'update' : 'insert', key: 1, row: { k: 1, v: 'x' } },
  ]);
  await withTime.return!();
  await db.close();
});

test('a consumer more than the feed memory behind reads the WAL and misses nothing', async () => {
  const db = await open({ dir: dirs.make(), tables: [KV], checkpointIntervalMs: 0 });
  const model: Model = new Map();
  const feed = db.changes();
  const hashes = await commitRandom(db, model, 9000, 3, 4000); // about 36 MB of records, over the 16 MiB kept
  const replica: Model = new Map();
  let batches = 0;
  await take(feed, Math.max(...hashes.keys()), (b) => {
    batches++;
    apply(replica, b, hashes);
  });
  assert.is(batches, 9000);
  assert.is(hashOf(replica), hashOf(model));
  await db.close();
});

test('after a crash, a feed from the last commit a consumer saw goes on with nothing skipped or doubled', async () => {
  const db = await open({ dir: dirs.make(), tables: [KV], checkpointIntervalMs: 0, merges: false });
  const model: Model = new Map();
  const first = await commitRandom(db, model, 60, 4);
  const replica: Model = new Map();
  let lastSeen = 0;
  await take(db.changes({ since: 0 }), Math.max(...first.keys()), (b) => {
    apply(replica, b, first);
    lastSeen = b.commitTs;
  });
  let second = new Map<number, string>();
  const image = await crashImage(db, dirs.make(), async () => {
    second = await commitRandom(db, model, 60, 5);
  });
  const again = await open({ dir: image });
  const seen: number[] = [];
  await take(again.changes({ since: lastSeen }), Math.max(...second.keys()), (b) => {
    seen.push(b.commitTs);
    apply(replica, b, second);
  });
  assert.equal(
    seen,
    [...second.keys()].sort((a, b) => a - b),
  );
  assert.is(hashOf(replica), hashOf(model));
  await again.close();
});

test('a feed asking for commits the WAL no longer holds fails with CHANGES_EXPIRED; bad options are INVALID_OPTION', async () => {
  const db = await open({
    dir: dirs.make(),
    tables: [KV],
    walSegmentBytes: 64 * 1024,
    checkpointWalBytes: 128 * 1024,
    checkpointIntervalMs: 0,
  });
  await commitRandom(db, new Map(), 400, 6, 1000);
  await db.checkpoint();
  await commitRandom(db, new Map(), 400, 7, 1000);
  await db.checkpoint();
  const feed = db.changes({ since: 1 });
  await rejectsWith(() => feed.next(), ErrorCode.CHANGES_EXPIRED, 'oldest');
  await feed.return!();
  await rejectsWith(async () => db.changes({ since: -1 }), 'TM_INVALID_OPTION');
  await rejectsWith(async () => db.changes({ tables: 'kv' as unknown as string[] }), 'TM_INVALID_OPTION');
  await rejectsWith(async () => db.changes({ sinse: 3 } as never), 'TM_INVALID_OPTION');
  await db.close();
  await rejectsWith(async () => (await open()).changes(), 'TM_NO_DIRECTORY');
});

test('a named cursor resumes after its last ack across reopens, and keeps the WAL after it from recycling, within the bound', async () => {
  const dir = dirs.make();
  const small = { walSegmentBytes: 64 * 1024, checkpointWalBytes: 128 * 1024, checkpointIntervalMs: 0 };
  let db = await open({ dir, tables: [KV], ...small });
  const model: Model = new Map();
  const first = await commitRandom(db, model, 50, 8);
  const feed = db.changes({ cursor: 'indexer', since: 0 });
  let acked = 0;
  await take(feed, Math.max(...first.keys()), (b) => {
    if (b.commitTs <= 30) acked = b.commitTs;
  });
  feed.ack(acked);
  await feed.return!();
  // Far more WAL than the checkpoints keep: only the cursor holds the segments after `acked`.
  const later = await commitRandom(db, model, 600, 9, 1000);
  await db.checkpoint();
  await db.close();
  db = await open({ dir, ...small });
  const resumed = db.changes({ cursor: 'indexer' });
  const next = await resumed.next();
  assert.ok(next.value!.commitTs > acked, 'the cursor resumes after its last ack');
  const all = [...first.keys(), ...later.keys()].filter((ts) => ts > acked).sort((a, b) => a - b);
  assert.is(next.value!.commitTs, all[0], 'with nothing skipped');
  await resumed.return!();
  assert.throws(() => db.changes().ack(1), /cursor/);
  await db.close();
  // With a bound below what the cursor would keep, the segments go and the cursor's next read says so.
  db = await open({ dir, ...small, maxRetainedWalBytes: 0 });
  await commitRandom(db, model, 400, 10, 1000);
  await db.checkpoint();
  await commitRandom(db, model, 400, 11, 1000);
  await db.checkpoint();
  const expired = db.changes({ cursor: 'indexer' });
  await rejectsWith(() => expired.next(), ErrorCode.CHANGES_EXPIRED);
  await expired.return!();
  await db.close();
});

test('a damaged cursors file: verify names it, and open fails with CORRUPT', async () => {
  const dir = dirs.make();
  const db = await open({ dir, tables: [KV] });
  const feed = db.changes({ cursor: 'audit' });
  feed.ack(1);
  await feed.return!();
  await db.close();
  assert.ok((await verify(dir)).ok, 'a good cursors file verifies');
  const path = join(dir, 'cursors');
  const bytes = readFileSync(path);
  bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0xff;
  writeFileSync(path, bytes);
  const report = await verify(dir);
  assert.ok(
    report.problems.some((p) => p.code === 'CURSORS_INVALID' && p.file === 'cursors'),
    JSON.stringify(report.problems),
  );
  await rejectsWith(() => open({ dir }), ErrorCode.CORRUPT, 'cursors');
});

test.after(() => dirs.cleanup());
test.run();
