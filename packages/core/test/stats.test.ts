/**
 * db.stats(): the engine's counters, memory per table, and the durable log's
 * figures the workers publish into shared cells (WAL bytes and syncs,
 * checkpoints, merges, pairs per state, durable lag, ring fill), plus what
 * the last open recovered. Each figure is checked against what the test did.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, type TableDef } from '../src/index.js';
import { tempDirs } from './helpers/dirs.js';
import { eventually, streamedUp } from './helpers/wait.js';

const items: TableDef = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'label', type: 'string' },
  ],
  primaryKey: ['id'],
};

const dirs = tempDirs('tidemark-stats-');
test.after(() => dirs.cleanup());

test('an in-memory database has engine and table figures, no durability or recovery', async () => {
  const db = await open({ tables: [items] });
  try {
    await db.table('items').insert({ id: 1, label: 'a' });
    const stats = db.stats();
    assert.is(stats.commits, 1);
    assert.is(stats.durability, null);
    assert.is(stats.recovery, null);
    assert.is(stats.tables[0]!.rows, 1);
  } finally {
    await db.close();
  }
});

test('the durable log publishes WAL, checkpoint, merge, pair and lag figures', async () => {
  const dir = dirs.make();
  const db = await open({ dir, tables: [items], dataFileSizeBytes: 64 * 1024 });
  try {
    const t = db.table('items');
    for (let i = 0; i < 200; i++) await t.insert({ id: i, label: `row ${i}`.padEnd(700, '.') });
    let s = db.stats().durability!;
    assert.ok(s !== null);
    assert.is(s.durableTs, db.stats().commitTs, 'every durable commit is durable');
    assert.is(s.lagTs, 0);
    assert.is(s.waiting, 0, 'no commit waits once each was awaited');
    assert.ok(s.wal.bytes > 200 * 700, `wal bytes ${s.wal.bytes}`);
    // At most one per commit, and one for the schema record the new database logs at open.
    assert.ok(s.wal.syncs >= 1 && s.wal.syncs <= 201, `syncs ${s.wal.syncs}`);
    assert.ok(s.wal.batches >= s.wal.syncs, 'at least a batch per sync');
    assert.is(s.disk, 'ok');
    assert.is(s.ring.usedBytes, 0, 'the writer took everything durable');
    assert.ok(s.ring.capacityBytes > 0);
    const before = s.checkpoints.count;
    const result = await db.checkpoint();
    assert.ok(result !== null);
    await eventually(() => db.stats().durability!.checkpoints.count >= before + 1, 'the checkpoint is counted');
    s = db.stats().durability!;
    assert.is(s.checkpoints.checkpointTs, db.stats().commitTs);
    assert.is(s.checkpoints.streamedTs, db.stats().commitTs);
    assert.ok(s.checkpoints.totalMs > 0);
    assert.ok(s.cfps.ACTIVE + s.cfps.UNDER_CONSTRUCTION >= 2, `pairs: ${JSON.stringify(s.cfps)}`);
    // The streamer tops the pool up once the pair being written is three quarters full: write until
    // it is, letting it catch up after each row (it publishes the pool after the step that streamed
    // the row). Without that wait a lagging streamer may close the pair with rows not yet streamed
    // and take the pooled one, and the next pair is not topped up until it is three quarters full.
    let extra = 200;
    let pooled = false;
    while (!pooled && extra < 400) {
      await t.insert({ id: extra++, label: 'p'.repeat(700) });
      await streamedUp(db);
      pooled = db.stats().durability!.cfps.PRECREATED >= 1;
    }
    assert.ok(pooled, 'the pool of pre-created pairs is topped up');
    for (let i = 0; i < extra; i++) await t.delete(i);
    await db.merge();
    // Every merge, db.merge()'s own and any the timed policy check ran while the deletes went on.
    const merged = (await db.logStats()).streamer!.merge.merges;
    await eventually(() => db.stats().durability!.merges.installed === merged, 'merges are counted');
    assert.ok(merged >= 1, 'deleting every row leaves pairs to merge');
    // A transaction of 3 row writes moves commitTs by 3: the lag counts row writes.
    db.transactionSync(
      (tx) => {
        for (let id = 10; id < 13; id++) tx.insert('items', { id, label: 'x' });
      },
      { durability: 'delayed' },
    );
    const lag = db.stats().durability!.lagTs;
    assert.ok(lag === 0 || lag === 3, `lag ${lag}: all of the transaction's writes or none`);
    const flushed = db.flush();
    assert.ok(db.stats().durability!.waiting <= 1, 'the flush waits (unless already durable)');
    await flushed;
    assert.is(db.stats().durability!.lagTs, 0, 'flush leaves no lag');
    assert.is(db.stats().durability!.waiting, 0);
  } finally {
    await db.close();
  }
  const again = await open({ dir, tables: [items] });
  try {
    const recovery = again.stats().recovery!;
    assert.ok(recovery !== null && recovery.root !== null, 'recovered from a root');
    assert.ok(recovery.durationMs > 0);
    assert.is(again.stats().tables[0]!.rows, 3);
  } finally {
    await again.close();
  }
});

test.run();
