/**
 * The segment cleaner: after random updates, deletes and inserts — with
 * snapshots held open across cleanings — every read path (primary key, hash
 * index, ordered index, snapshots opened before the cleaning) gives what the
 * model says; memory in use falls back within the stated bound of live data;
 * the background runner works in slices; a serializable scan is not failed
 * by versions that only moved; a durable database restarts with the same
 * contents.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ARENA_SEGMENT_BYTES } from '../src/constants.js';
import { open, type Database, type TableDef } from '../src/index.js';
import { contentHash, makeRandom, tempDirs } from './helpers/dirs.js';

const accounts: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'owner', type: 'string' },
    { name: 'balance', type: 'float64' },
  ],
  primaryKey: ['id'],
  indexes: [
    { name: 'byOwner', columns: ['owner'], kind: 'hash' },
    { name: 'byBalance', columns: ['balance'], kind: 'ordered' },
  ],
};

type Row = { id: number; owner: string; balance: number };

const dirs = tempDirs('tidemark-cleaner-');
test.after(dirs.cleanup);

function sortedRows(rows: Iterable<Row>): Row[] {
  return [...rows].sort((a, b) => a.id - b.id);
}

/** Every read path against the model. */
function checkAgainst(db: Database, model: Map<number, Row>, context: string): void {
  const t = db.table('accounts');
  assert.is(t.size, model.size, `${context}: row count`);
  assert.equal(sortedRows(t.scan() as Row[]), sortedRows(model.values()), `${context}: scan`);
  for (const owner of ['o1', 'o7', 'o42']) {
    const expected = sortedRows([...model.values()].filter((r) => r.owner === owner));
    assert.equal(sortedRows(t.find('byOwner', owner) as Row[]), expected, `${context}: byOwner ${owner}`);
  }
  const byBalance = (t.scan({ index: 'byBalance' }) as Row[]).map((r) => r.balance);
  assert.equal(
    byBalance,
    [...model.values()].map((r) => r.balance).sort((a, b) => a - b),
    `${context}: byBalance order`,
  );
}

test('random workload with snapshots held open: reads equal the model after every cleaning; memory falls back within the bound', async () => {
  const db = await open({ tables: [accounts], cleaner: false, cleanerLiveFraction: 0.6 });
  const t = db.table('accounts');
  const random = makeRandom(99);
  const model = new Map<number, Row>();
  const KEYS = 60_000;
  for (let from = 0; from < KEYS; from += 1000) {
    db.transactionSync((tx) => {
      for (let id = from; id < from + 1000; id++) {
        const row = { id, owner: `o${id % 50000}`, balance: id };
        tx.insert('accounts', row);
        model.set(id, row);
      }
    });
  }
  let moved = 0;
  for (let round = 0; round < 6; round++) {
    // A snapshot held across the round's writes and the cleaning: its versions must stay readable.
    const reader = db.begin();
    const seen = new Map<number, Row>(model);
    for (let i = 0; i < 120_000; i++) {
      const id = random(KEYS + 5000);
      const pick = random(10);
      if (pick === 0 && model.has(id)) {
        void t.delete(id);
        model.delete(id);
      } else if (model.has(id)) {
        const row = { id, owner: `o${random(50000)}`, balance: random(1_000_000) + i / 100_000 };
        void t.update(id, { owner: row.owner, balance: row.balance });
        model.set(id, row);
      } else {
        const row = { id, owner: `o${random(50000)}`, balance: random(1_000_000) };
        void t.insert(row);
        model.set(id, row);
      }
    }
    const stats = await db.clean();
    moved = stats.versionsMoved;
    checkAgainst(db, model, `round ${round}`);
    for (const id of [0, 1, 17, 4242, 59_999]) {
      assert.equal(
        reader.get('accounts', id),
        seen.get(id),
        `round ${round}: the old snapshot still reads row ${id} as it was`,
      );
    }
    assert.is(reader.scan('accounts').length, seen.size, `round ${round}: the old snapshot's scan`);
    reader.abort();
  }
  await db.clean(); // with no snapshot open, the versions the last readers kept are dead now
  const table = db.stats().tables[0]!;
  const bound = table.liveBytes / 0.6 + 2 * ARENA_SEGMENT_BYTES;
  assert.ok(moved > 0, 'the cleaner moved versions');
  assert.ok(db.stats().cleaner.segmentsFreed > 0, 'segments were freed');
  assert.ok(
    table.reservedBytes <= bound,
    `${table.reservedBytes} bytes reserved for ${table.liveBytes} live (bound ${bound})`,
  );
  checkAgainst(db, model, 'at the end');
  await db.close();
});

test('in the background, the cleaner works in slices between commits and keeps memory near the live data', async () => {
  const db = await open({ tables: [accounts] });
  const t = db.table('accounts');
  const KEYS = 100_000;
  for (let from = 0; from < KEYS; from += 1000) {
    db.transactionSync((tx) => {
      for (let id = from; id < from + 1000; id++) tx.insert('accounts', { id, owner: `o${id % 50000}`, balance: id });
    });
  }
  const random = makeRandom(5);
  let mostReserved = 0;
  for (let turn = 0; turn < 400; turn++) {
    for (let i = 0; i < 2000; i++) void t.update(random(KEYS), { balance: turn * 10_000 + i });
    mostReserved = Math.max(mostReserved, db.stats().tables[0]!.reservedBytes);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await db.clean();
  const stats = db.stats();
  const table = stats.tables[0]!;
  assert.ok(
    stats.cleaner.slices > stats.cleaner.segmentsFreed,
    `${stats.cleaner.slices} slices for ${stats.cleaner.segmentsFreed} segments`,
  );
  // 800,000 updates of ~40-byte versions wrote about 30 MiB; live data is about 4 MiB.
  assert.ok(
    table.reservedBytes <= table.liveBytes / 0.75 + 2 * ARENA_SEGMENT_BYTES,
    `${table.reservedBytes} reserved for ${table.liveBytes} live`,
  );
  assert.ok(stats.cleaner.segmentsFreed >= 1, `${stats.cleaner.segmentsFreed} segments freed`);
  assert.is(t.size, KEYS);
  await db.close();
});

test('a serializable scan is not failed by versions that only moved', async () => {
  const db = await open({ tables: [accounts], cleaner: false, cleanerLiveFraction: 0.9 });
  const t = db.table('accounts');
  for (let id = 0; id < 20_000; id++) void t.insert({ id, owner: `o${id}`, balance: id });
  for (let round = 0; round < 60; round++)
    for (let id = 0; id < 20_000; id += 2) void t.update(id, { balance: round * 100_000 + id });
  const tx = db.begin({ isolation: 'serializable' });
  const before = tx.scan('accounts', { index: 'byBalance', gte: 0, lt: 5_000 }).length;
  const stats = await db.clean();
  assert.ok(stats.versionsMoved > 0, 'versions moved under the open transaction');
  tx.update('accounts', 1, { owner: 'y' });
  await tx.commit();
  assert.is(before, 2_500);
  assert.is(t.get(1)!.owner, 'y');
  await db.close();
});

test('large rows that pack a segment poorly: cleaning ends (no segment moved that would free nothing)', async () => {
  const blobs: TableDef = {
    name: 'blobs',
    columns: [
      { name: 'id', type: 'int32' },
      { name: 'data', type: 'bytes' },
    ],
    primaryKey: ['id'],
  };
  const db = await open({ tables: [blobs], cleaner: false, cleanerLiveFraction: 0.9 });
  const t = db.table('blobs');
  const data = new Uint8Array(850_000).fill(7);
  // Four such rows fill a 4 MiB segment to 81%: below the fraction even when all of it is live.
  for (let id = 0; id < 60; id++) void t.insert({ id, data });
  for (let id = 0; id < 60; id += 4) void t.update(id, { data: new Uint8Array(850_000).fill(8) });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('db.clean() did not finish in 20 s')), 20_000);
  });
  try {
    const stats = await Promise.race([db.clean(), timeout]);
    assert.ok(stats.versionsMoved < 1000, `${stats.versionsMoved} versions moved`);
  } finally {
    clearTimeout(timer);
  }
  assert.is(t.size, 60);
  assert.equal(t.get(4)!.data, new Uint8Array(850_000).fill(8));
  assert.equal(t.get(5)!.data, data);
  await db.close();
});

test('a durable database cleaned while it runs restarts with the same contents', async () => {
  const dir = dirs.make();
  let db = await open({ dir, tables: [accounts], durability: 'delayed', cleanerLiveFraction: 0.9 });
  const t = db.table('accounts');
  for (let id = 0; id < 30_000; id++) void t.insert({ id, owner: `o${id % 50000}`, balance: id });
  for (let round = 0; round < 40; round++)
    for (let id = round % 2; id < 30_000; id += 2) void t.update(id, { balance: -round - id });
  for (let id = 0; id < 30_000; id += 7) void t.delete(id);
  const stats = await db.clean();
  assert.ok(stats.segmentsFreed > 0);
  const hash = contentHash(db);
  await db.close();
  db = await open({ dir, tables: [accounts] });
  assert.is(contentHash(db), hash);
  await db.close();
});

test.run();
