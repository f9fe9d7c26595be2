/**
 * Transaction semantics beyond the model test: serializable validation
 * (write skew, phantoms), snapshot stability, async interactive
 * transactions, composite keys, ordered scans and garbage collection.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, isTidemarkError, open, type Database } from '../src/index.js';

async function oncall(): Promise<Database> {
  const db = await open({
    tables: [
      {
        name: 'doctors',
        columns: [
          { name: 'ward', type: 'string' },
          { name: 'name', type: 'string' },
          { name: 'onCall', type: 'boolean' },
          { name: 'shift', type: 'int64' },
        ],
        primaryKey: ['ward', 'name'],
        indexes: [{ name: 'byShift', columns: ['ward', 'shift'], kind: 'ordered' }],
      },
    ],
  });
  db.transactionSync((tx) => {
    tx.insert('doctors', { ward: 'a', name: 'alice', onCall: true, shift: 1n });
    tx.insert('doctors', { ward: 'a', name: 'bob', onCall: true, shift: 2n });
    tx.insert('doctors', { ward: 'b', name: 'cy', onCall: true, shift: 1n });
  });
  return db;
}

function goOffCall(db: Database, name: string, isolation: 'snapshot' | 'serializable') {
  const tx = db.begin({ isolation });
  const onCall = tx.scan('doctors', { index: 'byShift', gte: ['a'], lte: ['a'] }).filter((d) => d.onCall);
  if (onCall.length >= 2) tx.update('doctors', ['a', name], { onCall: false });
  return tx;
}

test('write skew: snapshot isolation allows it, serializable refuses the second commit', async () => {
  const snap = await oncall();
  const a = goOffCall(snap, 'alice', 'snapshot');
  const b = goOffCall(snap, 'bob', 'snapshot');
  await a.commit();
  await b.commit();
  assert.is(
    snap
      .table('doctors')
      .scan()
      .filter((d) => d.onCall && d.ward === 'a').length,
    0,
    'both went off call',
  );

  const ser = await oncall();
  const c = goOffCall(ser, 'alice', 'serializable');
  const d = goOffCall(ser, 'bob', 'serializable');
  await c.commit();
  try {
    await d.commit();
    assert.unreachable('second commit must conflict');
  } catch (error) {
    assert.ok(isTidemarkError(error, ErrorCode.CONFLICT));
  }
  assert.is(
    ser
      .table('doctors')
      .scan()
      .filter((x) => x.onCall && x.ward === 'a').length,
    1,
  );
});

test('serializable: a phantom inserted into a scanned range is a conflict; unrelated writes are not', async () => {
  const db = await oncall();
  const tx = db.begin({ isolation: 'serializable' });
  assert.is(tx.scan('doctors', { index: 'byShift', gte: ['b'], lte: ['b'] }).length, 1);
  tx.insert('doctors', { ward: 'c', name: 'dee', onCall: false, shift: 3n });
  await db.table('doctors').insert({ ward: 'a', name: 'eve', onCall: true, shift: 9n }); // outside the range
  const ok = db.begin({ isolation: 'serializable' });
  ok.get('doctors', ['a', 'alice']);
  ok.insert('doctors', { ward: 'c', name: 'fay', onCall: false, shift: 1n });
  await ok.commit();
  await tx.commit(); // the scanned range did not change
  const late = db.begin({ isolation: 'serializable' });
  late.scan('doctors', { index: 'byShift', gte: ['b'], lte: ['b'] });
  late.insert('doctors', { ward: 'c', name: 'gus', onCall: false, shift: 1n });
  await db.table('doctors').insert({ ward: 'b', name: 'hal', onCall: true, shift: 5n }); // a phantom
  try {
    await late.commit();
    assert.unreachable('phantom must conflict');
  } catch (error) {
    assert.ok(isTidemarkError(error, ErrorCode.CONFLICT));
  }
  assert.is(db.table('doctors').get(['c', 'gus']), undefined);
});

test('a snapshot stays put while others commit, and old versions are retired once it ends', async () => {
  const db = await oncall();
  const t = db.table('doctors');
  const reader = db.begin();
  for (let i = 0; i < 100; i++) await t.update(['a', 'alice'], { shift: BigInt(i + 10) });
  await t.delete(['b', 'cy']);
  assert.is(reader.get('doctors', ['a', 'alice'])!.shift, 1n);
  assert.ok(reader.get('doctors', ['b', 'cy']), 'deleted row still visible to the old snapshot');
  assert.is(t.get(['b', 'cy']), undefined);
  const before = db.stats().tables[0]!.deadBytes;
  reader.abort();
  const after = db.stats().tables[0]!.deadBytes;
  assert.ok(after > before, `old versions retired when the snapshot ended (${before} -> ${after})`);
  assert.is(
    t
      .scan({ index: 'byShift', gte: ['a', 100n] })
      .map((r) => r.name)
      .join(),
    'alice',
  );
});

test('async interactive transactions interleave across awaits', async () => {
  const db = await oncall();
  const order: string[] = [];
  const tick = () => new Promise((r) => setTimeout(r, 1));
  await Promise.all([
    db.transaction(async (tx) => {
      order.push('t1 start');
      const row = tx.get('doctors', ['a', 'alice'])!;
      await tick();
      tx.update('doctors', ['a', 'alice'], { shift: (row.shift as bigint) + 1n });
      order.push('t1 end');
    }),
    db.transaction(async (tx) => {
      order.push('t2 start');
      const row = tx.get('doctors', ['a', 'alice'])!;
      await tick();
      tx.update('doctors', ['a', 'alice'], { shift: (row.shift as bigint) + 1n });
      order.push('t2 end');
    }),
  ]);
  // Both increments land: the loser of the conflict ran again with a fresh snapshot.
  assert.is(db.table('doctors').get(['a', 'alice'])!.shift, 3n);
  assert.ok(order.length >= 5, order.join(', '));
  assert.is(db.stats().conflicts, 1);
});

test('ordered scans: prefix bounds, exclusive bounds, limit and reverse, with own writes merged in order', async () => {
  const db = await oncall();
  const tx = db.begin();
  tx.insert('doctors', { ward: 'a', name: 'zed', onCall: false, shift: 0n });
  tx.delete('doctors', ['a', 'bob']);
  const names = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.name).join();
  assert.is(names(tx.scan('doctors', { index: 'byShift', gte: ['a'], lte: ['a'] })), 'zed,alice');
  assert.is(names(tx.scan('doctors', { index: 'byShift', gt: ['a', 0n], lt: ['b'] })), 'alice');
  assert.is(names(tx.scan('doctors', { index: 'byShift', reverse: true, limit: 2 })), 'cy,alice');
  assert.is(names(db.table('doctors').scan({ index: 'byShift', gte: ['a'], lte: ['a'] })), 'alice,bob');
  assert.equal(tx.get('doctors', ['a', 'zed'], { columns: ['shift', 'ward'] }), { shift: 0n, ward: 'a' });
  await tx.commit();
  assert.is(names(db.table('doctors').scan({ index: 'byShift', gte: ['a'], lte: ['a'] })), 'zed,alice');
});

test.run();
