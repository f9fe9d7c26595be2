/**
 * A replica applies a primary's records (replica/apply_record.ts) through the
 * replication port, with no transport: the records a primary's port hands
 * out, applied in order to a database made a replica, give the same content
 * at the same commitTs (rows, schema changes, a dropped and re-created
 * table), survive the replica's own restart, are skipped when applied twice,
 * and leave a snapshot opened before them unchanged. Writes on a replica are
 * READ_ONLY; a record that does not fit the replica's tables is CORRUPT.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Database, ErrorCode, open, type RecordBatch, replicationPort, TidemarkError } from '../src/index.js';
import { contentHash, makeRandom, rejectsWith, tempDirs } from './helpers/dirs.js';
import { KV } from './helpers/tables.js';

const dirs = tempDirs('tidemark-replica-apply-');

/** Every durable record of `db` after `since`, up to its newest commit. */
async function recordsOf(db: Database, since: number): Promise<RecordBatch[]> {
  const port = replicationPort(db);
  const feed = port.records(since, 'test');
  const out: RecordBatch[] = [];
  const last = port.commitTs;
  if (last <= since) return out;
  for await (const batch of feed) {
    out.push(batch);
    if (batch.commitTs >= last) break;
  }
  return out;
}

async function workload(db: Database, seed: number, n: number): Promise<void> {
  const random = makeRandom(seed);
  const kv = db.table('kv');
  for (let i = 0; i < n; i++) {
    const k = random(200);
    const roll = random(10);
    if (roll < 6) await kv.upsert({ k, v: `v${i}` });
    else if (roll < 8 && kv.get(k) !== undefined) await kv.delete(k);
    else
      await db.transaction((tx) => {
        tx.upsert('kv', { k, v: `t${i}` });
        tx.upsert('kv', { k: (k + 1) % 200, v: `u${i}` });
      });
  }
}

test('records applied in order give the primary content at every commit, and survive a restart', async () => {
  const primary = await open({ dir: dirs.make() });
  const replicaDir = dirs.make();
  let replica = await open({ dir: replicaDir });
  try {
    const port = replicationPort(replica);
    port.becomeReplica('a replica of the test primary');
    primary.createTable(KV);
    await workload(primary, 1, 300);
    await primary.table('kv').addColumn({ name: 'n', type: 'int32', nullable: true });
    await primary.table('kv').addIndex({ name: 'by_v', columns: ['v'], kind: 'ordered' });
    await workload(primary, 2, 100);
    primary.createTable({ ...KV, name: 'gone' });
    await primary.table('gone').insert({ k: 1, v: 'x' });
    await primary.dropTable('gone');
    primary.createTable({ ...KV, name: 'gone' });
    await primary.table('gone').insert({ k: 2, v: 'y' });
    await primary.table('kv').dropColumn('n');
    const records = await recordsOf(primary, 0);
    assert.ok(records.length > 400, `${records.length} records`);
    // A snapshot on the replica taken midway sees only what was applied before it.
    const half = records.length >> 1;
    for (let i = 0; i < half; i++) port.apply(records[i]!.body);
    const midHash = contentHash(replica);
    let seenMid = '';
    const reading = replica.transaction(async (tx) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seenMid = String(tx.scan('kv').length);
    });
    const midRows = replica.table('kv').scan().length;
    for (let i = half; i < records.length; i++) assert.is(port.apply(records[i]!.body), records[i]!.commitTs);
    await reading;
    assert.is(seenMid, String(midRows));
    assert.is.not(contentHash(replica), midHash);
    assert.is(contentHash(replica), contentHash(primary));
    assert.is(port.commitTs, replicationPort(primary).commitTs);
    assert.equal(replica.table('kv').find('by_v', 'v5'), primary.table('kv').find('by_v', 'v5'));
    // The replica's change feed hands out the applied commits, as the primary's does.
    const feed = replica.changes({ since: records[records.length - 3]!.commitTs });
    const fed: number[] = [];
    for await (const batch of feed) {
      fed.push(batch.commitTs);
      if (fed.length === 2) break;
    }
    assert.equal(fed, [records[records.length - 2]!.commitTs, records[records.length - 1]!.commitTs]);
    // Applied twice: skipped.
    assert.is(port.apply(records[3]!.body), 0);
    // Writes are refused.
    await rejectsWith(() => replica.table('kv').insert({ k: 999, v: 'no' }), ErrorCode.READ_ONLY, 'replica');
    await port.whenDurable(port.commitTs);
    await replica.close();
    replica = await open({ dir: replicaDir });
    assert.is(contentHash(replica), contentHash(primary));
    assert.is(replicationPort(replica).commitTs, replicationPort(primary).commitTs);
  } finally {
    await primary.close();
    if (!replica.closed) await replica.close();
    dirs.cleanup();
  }
});

test('a record that does not fit the replica is CORRUPT and changes nothing', async () => {
  const primary = await open({ dir: dirs.make() });
  const replica = await open({ dir: dirs.make() });
  try {
    primary.createTable(KV);
    await primary.table('kv').insert({ k: 1, v: 'a' });
    await primary.table('kv').update(1, { v: 'b' });
    const records = await recordsOf(primary, 0);
    const port = replicationPort(replica);
    assert.throws(
      () => port.apply(records[0]!.body),
      (e: Error) => /replica/.test(e.message),
    );
    port.becomeReplica('a replica');
    port.apply(records[0]!.body);
    // The update's record ends version 2, which the replica never got: CORRUPT, and nothing applied.
    assert.throws(
      () => port.apply(records[2]!.body),
      (e: { code?: string }) => e.code === ErrorCode.CORRUPT,
    );
    assert.is(replica.table('kv').scan().length, 0);
    port.apply(records[1]!.body);
    port.apply(records[2]!.body);
    assert.equal(replica.table('kv').get(1), { k: 1, v: 'b' });
  } finally {
    await primary.close();
    await replica.close();
    dirs.cleanup();
  }
});

test('a replicated commit waits for the attached replicator, and fails without one; a read check refuses reads; a fenced primary refuses writes', async () => {
  const db = await open({ dir: dirs.make() });
  try {
    db.createTable(KV);
    const kv = db.table('kv');
    // No replication attached: the commit is applied and durable, and the caller is told it was not replicated.
    await rejectsWith(
      () => kv.insert({ k: 1, v: 'a' }, { durability: 'replicated' }),
      ErrorCode.REPLICATION_UNAVAILABLE,
    );
    assert.equal(kv.get(1), { k: 1, v: 'a' });
    const port = replicationPort(db);
    const asked: number[] = [];
    let release = (): void => {};
    port.attach({
      whenReplicated: (commitTs) => {
        asked.push(commitTs);
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    let resolved = false;
    const pending = kv.insert({ k: 2, v: 'b' }, { durability: 'replicated' }).then((ts) => {
      resolved = true;
      return ts;
    });
    while (asked.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.is(resolved, false);
    release();
    assert.is(await pending, asked[0]);
    // A fenced replication fails the commit with its code.
    port.attach({
      whenReplicated: () => Promise.reject(new TidemarkError(ErrorCode.REPLICATION_FENCED, 'fenced')),
    });
    await rejectsWith(() => kv.insert({ k: 3, v: 'c' }, { durability: 'replicated' }), ErrorCode.REPLICATION_FENCED);
    port.attach(null);
    assert.is(await kv.insert({ k: 4, v: 'd' }), port.commitTs);
    // A read check (a replica's staleness bound) refuses table reads and transactions, and nothing else changes.
    port.setReadCheck(() => {
      throw new TidemarkError(ErrorCode.STALE, 'stale');
    });
    const stale = (e: unknown) => (e as TidemarkError).code === ErrorCode.STALE;
    assert.throws(() => kv.get(4), stale);
    assert.throws(() => kv.scan(), stale);
    assert.throws(() => kv.count(), stale);
    await rejectsWith(() => db.transaction((tx) => tx.get('kv', 4)), ErrorCode.STALE);
    port.setReadCheck(null);
    assert.equal(kv.get(4), { k: 4, v: 'd' });
    // A fenced primary refuses writes from then on; made primary again, it takes them.
    port.refuseWrites('fenced off');
    await rejectsWith(() => kv.insert({ k: 5, v: 'e' }), ErrorCode.READ_ONLY, 'fenced off');
    port.becomePrimary();
    assert.is(await kv.insert({ k: 5, v: 'e' }), port.commitTs);
  } finally {
    await db.close();
    dirs.cleanup();
  }
});

test.run();
