/**
 * Every error code a caller can cause is raised by a test here, and the
 * database is checked unchanged afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, open, TidemarkError, type Database, type TableDef } from '../src/index.js';
import { Clock } from '../src/txn/snapshots.js';
import { MAX_ROW_BYTES, MAX_VERSION_ID } from '../src/constants.js';

const accounts: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'email', type: 'string' },
    { name: 'balance', type: 'float64', default: 0 },
    { name: 'note', type: 'bytes', nullable: true },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byEmail', columns: ['email'], unique: true }],
};

async function seeded(): Promise<Database> {
  const db = await open({ tables: [accounts] });
  await db.table('accounts').insert({ id: 1, email: 'a@x', balance: 10 });
  await db.table('accounts').insert({ id: 2, email: 'b@x', balance: 20 });
  return db;
}

/** Everything a caller can observe of the data. */
function contents(db: Database): string {
  const rows = db
    .table('accounts')
    .scan()
    .sort((a, b) => (a.id as number) - (b.id as number));
  return JSON.stringify({ rows, names: db.tableNames(), commitTs: db.stats().commitTs });
}

async function rejects(action: () => unknown, code: string, mentions?: string): Promise<TidemarkError> {
  try {
    await action();
  } catch (error) {
    assert.instance(error, TidemarkError);
    const e = error as TidemarkError;
    assert.is(e.code, code, e.message);
    if (mentions !== undefined) assert.match(e.message, mentions);
    return e;
  }
  throw new assert.Assertion({
    message: `expected ${code}`,
    operator: 'rejects',
    expects: code,
    actual: 'no error',
    generated: false,
  });
}

/** Runs a failing action and checks the data did not change. */
async function unchanged(db: Database, action: () => unknown, code: string, mentions?: string): Promise<void> {
  const before = contents(db);
  await rejects(action, code, mentions);
  assert.is(contents(db), before, `data unchanged after ${code}`);
}

test('INVALID_OPTION names the option', async () => {
  await rejects(() => open({ isolation: 'chaos' as never }), ErrorCode.INVALID_OPTION, 'options.isolation');
  await rejects(() => open({ retries: -1 }), ErrorCode.INVALID_OPTION, 'options.retries');
  await rejects(() => open({ colour: 'blue' } as never), ErrorCode.INVALID_OPTION, 'options.colour');
  await rejects(() => open({ tables: {} as never }), ErrorCode.INVALID_OPTION, 'options.tables');
  const db = await seeded();
  await unchanged(db, () => db.begin({ isolation: 'x' as never }), ErrorCode.INVALID_OPTION, 'options.isolation');
  await unchanged(db, () => db.transaction(() => 1, { retries: 1.5 }), ErrorCode.INVALID_OPTION, 'options.retries');
});

test('INVALID_SCHEMA and TABLE_EXISTS leave the tables as they were', async () => {
  const db = await seeded();
  await unchanged(db, () => db.createTable({ name: 'x', columns: [], primaryKey: [] }), ErrorCode.INVALID_SCHEMA);
  await unchanged(
    db,
    () => db.createTable({ name: 'x', columns: [{ name: 'a', type: 'int32' }], primaryKey: ['b'] }),
    ErrorCode.INVALID_SCHEMA,
    'b',
  );
  await unchanged(db, () => db.createTable(accounts), ErrorCode.TABLE_EXISTS, 'accounts');
});

test('SCHEMA_VIOLATION names the column', async () => {
  const db = await seeded();
  const t = db.table('accounts');
  await unchanged(db, () => t.insert({ id: 3, email: 7 }), ErrorCode.SCHEMA_VIOLATION, 'email');
  await unchanged(db, () => t.insert({ id: 3.5, email: 'c@x' }), ErrorCode.SCHEMA_VIOLATION, 'id');
  await unchanged(db, () => t.insert({ id: 3 }), ErrorCode.SCHEMA_VIOLATION, 'email');
  await unchanged(db, () => t.insert({ id: 3, email: null }), ErrorCode.SCHEMA_VIOLATION, 'email');
  await unchanged(db, () => t.update(1, { id: 9 }), ErrorCode.SCHEMA_VIOLATION, 'primary key');
  await unchanged(db, () => t.get('one'), ErrorCode.SCHEMA_VIOLATION, 'id');
});

test('DUPLICATE_KEY for primary keys and unique indexes', async () => {
  const db = await seeded();
  const t = db.table('accounts');
  await unchanged(db, () => t.insert({ id: 1, email: 'new@x' }), ErrorCode.DUPLICATE_KEY, '1');
  await unchanged(db, () => t.insert({ id: 3, email: 'a@x' }), ErrorCode.DUPLICATE_KEY, 'byEmail');
  await unchanged(db, () => t.update(2, { email: 'a@x' }), ErrorCode.DUPLICATE_KEY, 'byEmail');
  await unchanged(
    db,
    () =>
      db.transaction((tx) => {
        tx.insert('accounts', { id: 3, email: 'same@x' });
        tx.insert('accounts', { id: 4, email: 'same@x' });
      }),
    ErrorCode.DUPLICATE_KEY,
    'byEmail',
  );
  // Swapping unique values inside one transaction is fine.
  await db.transaction((tx) => {
    tx.update('accounts', 1, { email: 'tmp' });
    tx.update('accounts', 2, { email: 'a@x' });
    tx.update('accounts', 1, { email: 'b@x' });
  });
  assert.is(t.find('byEmail', 'a@x')[0]!.id, 2);
});

test('NOT_FOUND for updates and deletes of missing rows', async () => {
  const db = await seeded();
  await unchanged(db, () => db.table('accounts').update(99, { balance: 1 }), ErrorCode.NOT_FOUND, '99');
  await unchanged(db, () => db.table('accounts').delete(99), ErrorCode.NOT_FOUND, '99');
});

test('UNKNOWN_TABLE, UNKNOWN_COLUMN, UNKNOWN_INDEX', async () => {
  const db = await seeded();
  const t = db.table('accounts');
  await unchanged(db, () => db.table('nope'), ErrorCode.UNKNOWN_TABLE, 'nope');
  await unchanged(db, () => db.transaction((tx) => tx.insert('nope', {})), ErrorCode.UNKNOWN_TABLE, 'nope');
  await unchanged(db, () => t.insert({ id: 5, email: 'e@x', colour: 'red' }), ErrorCode.UNKNOWN_COLUMN, 'colour');
  await unchanged(db, () => t.get(1, { columns: ['colour'] }), ErrorCode.UNKNOWN_COLUMN, 'colour');
  await unchanged(db, () => t.find('byColour', 'red'), ErrorCode.UNKNOWN_INDEX, 'byColour');
  await unchanged(db, () => t.scan({ index: 'byEmail' }), ErrorCode.UNKNOWN_INDEX, 'hash index');
});

test('CONFLICT is retryable and the loser changes nothing', async () => {
  const db = await seeded();
  const a = db.begin();
  const b = db.begin();
  a.update('accounts', 1, { balance: 11 });
  b.update('accounts', 1, { balance: 12 });
  await a.commit();
  const error = await rejects(() => b.commit(), ErrorCode.CONFLICT);
  assert.ok(error.retryable);
  assert.is(b.state, 'aborted');
  assert.is(db.table('accounts').get(1)!.balance, 11);
  // transaction() runs the callback again after a conflict.
  let runs = 0;
  const blocker = db.begin();
  await db.transaction((tx) => {
    runs++;
    tx.update('accounts', 2, { balance: (tx.get('accounts', 2)!.balance as number) + 1 });
    if (runs === 1) {
      blocker.update('accounts', 2, { balance: 100 });
      blocker.commitSync();
    }
  });
  assert.is(runs, 2);
  assert.is(db.table('accounts').get(2)!.balance, 101);
  const stats = db.stats();
  assert.is(stats.conflicts, 2);
});

test('ROW_TOO_LARGE for rows past the limit', async () => {
  const db = await seeded();
  await unchanged(
    db,
    () => db.table('accounts').insert({ id: 9, email: 'z', note: new Uint8Array(MAX_ROW_BYTES + 1) }),
    ErrorCode.ROW_TOO_LARGE,
  );
});

test('TXN_FINISHED and TXN_NOT_SYNC', async () => {
  const db = await seeded();
  const tx = db.begin();
  tx.insert('accounts', { id: 3, email: 'c@x' });
  await tx.commit();
  await unchanged(db, () => tx.insert('accounts', { id: 4, email: 'd@x' }), ErrorCode.TXN_FINISHED, 'committed');
  await unchanged(db, () => tx.commitSync(), ErrorCode.TXN_FINISHED);
  await unchanged(
    db,
    () =>
      db.transactionSync((t) => {
        t.insert('accounts', { id: 5, email: 'e@x' });
        return Promise.resolve(1);
      }),
    ErrorCode.TXN_NOT_SYNC,
  );
});

test('CLOSED after close, for every kind of call', async () => {
  const db = await seeded();
  const t = db.table('accounts');
  const open1 = db.begin();
  await db.close();
  assert.ok(db.closed);
  await rejects(() => t.get(1), ErrorCode.CLOSED);
  await rejects(() => t.insert({ id: 9, email: 'z' }), ErrorCode.CLOSED);
  await rejects(() => db.table('accounts'), ErrorCode.CLOSED);
  await rejects(() => db.begin(), ErrorCode.CLOSED);
  await rejects(() => open1.commit(), ErrorCode.CLOSED);
  await rejects(() => db.flush(), ErrorCode.CLOSED);
  await rejects(() => db.transaction(() => 1), ErrorCode.CLOSED);
  await db.close(); // closing twice is harmless
});

test('LIMIT_EXCEEDED when the commit clock would pass the safe-integer range', () => {
  const clock = new Clock();
  clock.now = MAX_VERSION_ID - 1;
  clock.checkRoom(1);
  try {
    clock.checkRoom(2);
    assert.unreachable('should throw');
  } catch (error) {
    assert.is((error as TidemarkError).code, ErrorCode.LIMIT_EXCEEDED);
  }
});

test('every error code is raised by a test of this package', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const dir = new URL('.', import.meta.url);
  const sources = readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => readFileSync(new URL(f, dir), 'utf8'))
    .join('\n');
  for (const name of Object.keys(ErrorCode))
    assert.ok(sources.includes(`ErrorCode.${name}`), `ErrorCode.${name} is tested`);
});

test.run();
