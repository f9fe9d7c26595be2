/**
 * Online schema changes: each change's effect on reads and writes, that it
 * survives a reopen from the log alone and from a checkpoint (and a merge),
 * its refusals (with nothing changed), an index built while commits go on,
 * a dropped table that never comes back, and open() with a different
 * definition: every difference listed, `migrate` making the additive ones.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Database, ErrorCode, type IndexDef, isTidemarkError, open, type TableDef } from '../src/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INDEX_WORKER_ROWS } from '../src/table/index_build.js';
import { cli } from './helpers/cli.js';
import { tempDirs } from './helpers/dirs.js';
import { USERS } from './helpers/tables.js';

const dirs = tempDirs('tidemark-schema-change-');

async function withUsers(dir: string | undefined, rows: number): Promise<Database> {
  const db = await open({ ...(dir === undefined ? {} : { dir }), tables: [USERS] });
  await db.transaction((tx) => {
    for (let id = 0; id < rows; id++) tx.insert('users', { id, email: `u${id}@x`, age: id % 4 === 0 ? null : id });
  });
  return db;
}

async function rejects(promise: Promise<unknown>, code: string, what: string): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isTidemarkError(error), `${what}: a TidemarkError`);
    assert.is((error as { code: string }).code, code, `${what}: ${(error as Error).message}`);
    return (error as Error).message;
  }
  assert.unreachable(`${what}: resolved`);
  return '';
}

test('addColumn: rows written before read the default or null, new rows the value; no rewrite', async () => {
  const db = await withUsers(undefined, 10);
  const t = db.table('users');
  const before = db.stats().tables[0]!.bytesInUse;
  await t.addColumn({ name: 'plan', type: 'string', default: 'free' });
  await t.addColumn({ name: 'score', type: 'int64', nullable: true });
  await t.addColumn({ name: 'meta', type: 'json', default: { a: [1] } });
  assert.is(db.stats().tables[0]!.bytesInUse, before, 'no row was rewritten');
  assert.equal(t.get(1), { id: 1, email: 'u1@x', age: 1, plan: 'free', score: null, meta: { a: [1] } });
  (t.get(1)!.meta as { a: number[] }).a.push(2);
  assert.equal(t.get(1)!.meta, { a: [1] }, 'each read gets its own copy of a json default');
  assert.equal(t.get(2, { columns: ['score', 'plan'] }), { score: null, plan: 'free' });
  await t.insert({ id: 100, email: 'n', plan: 'pro', score: 5n });
  assert.equal(t.get(100), { id: 100, email: 'n', age: null, plan: 'pro', score: 5n, meta: { a: [1] } });
  await t.update(3, { score: 9n });
  assert.equal(t.get(3, { columns: ['score', 'age'] }), { score: 9n, age: 3 });
  assert.is(t.schema.version, 4);
  await rejects(t.addColumn({ name: 'req', type: 'int32' }), ErrorCode.SCHEMA_CHANGE_REFUSED, 'a required column');
  await rejects(
    t.addColumn({ name: 'email', type: 'string', nullable: true }),
    ErrorCode.INVALID_SCHEMA,
    'a taken name',
  );
  await rejects(
    t.addColumn({ name: 'x', type: 'nope' as 'int32', nullable: true }),
    ErrorCode.INVALID_SCHEMA,
    'a bad type',
  );
  assert.is(t.schema.version, 4, 'refused changes change nothing');
  await db.close();
});

test('dropColumn and renameColumn: reads, writes and indexes follow; refusals leave the schema as it was', async () => {
  const db = await withUsers(undefined, 10);
  const t = db.table('users');
  await t.addIndex({ name: 'byEmail', columns: ['email'], unique: true });
  await rejects(t.dropColumn('id'), ErrorCode.SCHEMA_CHANGE_REFUSED, 'a key column');
  await rejects(t.dropColumn('email'), ErrorCode.SCHEMA_CHANGE_REFUSED, 'an indexed column');
  await rejects(t.dropColumn('nope'), ErrorCode.UNKNOWN_COLUMN, 'an unknown column');
  await t.dropColumn('age');
  assert.equal(t.get(5), { id: 5, email: 'u5@x' });
  await rejects(t.insert({ id: 50, email: 'e', age: 3 }), ErrorCode.UNKNOWN_COLUMN, 'writing a dropped column');
  await t.insert({ id: 50, email: 'e' });
  await t.renameColumn('email', 'mail');
  assert.equal(t.find('byEmail', 'u7@x'), [{ id: 7, mail: 'u7@x' }]);
  assert.equal(t.get(50), { id: 50, mail: 'e' });
  await rejects(t.renameColumn('mail', 'id'), ErrorCode.INVALID_SCHEMA, 'renaming onto a taken name');
  await t.addColumn({ name: 'age', type: 'string', nullable: true });
  assert.equal(t.get(5), { id: 5, mail: 'u5@x', age: null }, "a new column of a dropped one's name starts empty");
  await rejects(t.dropIndex('nope'), ErrorCode.UNKNOWN_INDEX, 'an unknown index');
  await t.dropIndex('byEmail');
  await rejects(
    Promise.resolve().then(() => t.find('byEmail', 'e')),
    ErrorCode.UNKNOWN_INDEX,
    'a dropped index',
  );
  await db.close();
});

test('every change survives a reopen from the log, from a checkpoint, and after a merge', async () => {
  for (const between of ['log', 'checkpoint', 'merge'] as const) {
    const dir = dirs.make();
    const db = await withUsers(dir, 200);
    const t = db.table('users');
    await t.addColumn({ name: 'plan', type: 'string', default: 'free' });
    if (between !== 'log') await db.checkpoint();
    await t.insert({ id: 1000, email: 'late', plan: 'pro' });
    await t.dropColumn('age');
    await t.renameColumn('email', 'mail');
    await t.addIndex({ name: 'byPlan', columns: ['plan'], kind: 'ordered' });
    db.createTable({ name: 'tmp', columns: [{ name: 'k', type: 'int32' }], primaryKey: ['k'] });
    await db.table('tmp').insert({ k: 1 });
    if (between !== 'log') await db.checkpoint();
    await db.dropTable('tmp');
    for (let id = 0; id < 200; id += 2) await t.delete(id, { durability: 'delayed' });
    if (between === 'merge') await db.merge();
    await db.close();
    const again = await open({ dir });
    const u = again.table('users');
    assert.equal(again.tableNames(), ['users'], `${between}: the dropped table stays dropped`);
    assert.is(u.schema.version, 5, between);
    assert.equal(u.get(1), { id: 1, mail: 'u1@x', plan: 'free' }, between);
    assert.equal(u.get(1000), { id: 1000, mail: 'late', plan: 'pro' }, between);
    assert.is(u.count({ index: 'byPlan', gte: 'free', lte: 'free' }), 100, `${between}: the index was rebuilt`);
    await again.close();
  }
});

test('addIndex is built over several event-loop turns while commits go on, and is used once it resolves', async () => {
  const db = await withUsers(undefined, 60_000);
  const t = db.table('users');
  let turns = 0;
  let building = true;
  const ticker = (): void => {
    turns++;
    if (building) setImmediate(ticker);
  };
  setImmediate(ticker);
  const build = t.addIndex({ name: 'byAge', columns: ['age'], kind: 'ordered' }).finally(() => (building = false));
  let written = 0;
  while (building) {
    // In memory a write resolves at once: the writer yields a turn as a client's I/O would.
    await t.insert({ id: 100_000 + written, email: `w${written}`, age: 7 });
    written++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await build;
  assert.ok(turns > 1, `the build let the event loop turn (${turns} turns)`);
  assert.ok(written > 0, 'commits landed during the build');
  assert.is(
    t.count({ index: 'byAge', gte: 7, lte: 7 }),
    1 + written,
    'the index holds rows from before and during the build',
  );
  assert.is(t.count({ index: 'byAge' }), 60_000 + written);
  await db.close();
});

test('a unique index meeting a duplicate fails with DUPLICATE_KEY naming it and leaves no index', async () => {
  const db = await withUsers(undefined, 100);
  const t = db.table('users');
  await t.update(50, { email: 'u7@x' });
  const message = await rejects(
    t.addIndex({ name: 'byEmail', columns: ['email'], unique: true }),
    ErrorCode.DUPLICATE_KEY,
    'a duplicate among existing rows',
  );
  assert.match(message, 'u7@x');
  assert.is(t.schema.indexes.length, 0, 'no index is left');
  await t.insert({ id: 200, email: 'u7@x' }); // nothing checks a unique index that does not exist
  await t.delete(50);
  await t.delete(200);
  await t.addIndex({ name: 'byEmail', columns: ['email'], unique: true });
  await rejects(t.insert({ id: 201, email: 'u7@x' }), ErrorCode.DUPLICATE_KEY, 'the built index is checked');
  await db.close();
});

test('an index built on a worker, while rows are updated and deleted, holds exactly the live rows; a duplicate fails it', async () => {
  const rows = INDEX_WORKER_ROWS + 5_000;
  const db = await withUsers(undefined, rows);
  const t = db.table('users');
  let k = 0; // across the builds: ids and emails written are never reused
  const builds: Array<[IndexDef, boolean]> = [
    [{ name: 'byAge', columns: ['age'], kind: 'ordered' }, false],
    [{ name: 'byEmail', columns: ['email'] }, false],
    [{ name: 'byEmailUnique', columns: ['email'], unique: true }, true],
  ];
  for (const [def, dupe] of builds) {
    if (dupe) for (const id of [-1, -2]) await t.insert({ id, email: 'dupe@x', age: null });
    let building = true;
    const build = t.addIndex(def).finally(() => (building = false));
    build.catch(() => {}); // looked at after the loop
    let n = 0;
    while (building) {
      // Each turn retires versions the worker may have read: an update, a delete, an insert.
      const id = (k * 7919) % rows;
      if (t.get(id) !== undefined) await t.update(id, { age: 1000 + k, email: `x${k}@x` });
      if (t.get((id + 1) % rows) !== undefined) await t.delete((id + 1) % rows);
      await t.insert({ id: rows + k, email: `new${k}@x`, age: k % 5 === 0 ? null : k });
      k++;
      n++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (dupe) {
      assert.match(await rejects(build, ErrorCode.DUPLICATE_KEY, 'the duplicate'), 'dupe@x');
      assert.not.ok(
        t.schema.indexes.some((ix) => ix.name === def.name),
        'no index is left',
      );
      continue;
    }
    await build;
    assert.ok(n > 1, `commits landed during the build (${n})`);
    const live = t.scan();
    // No snapshot was open: every version but the live ones was retired, and none may keep an entry.
    const stats = db.stats().tables[0]!.indexes.find((ix) => ix.name === def.name)!;
    assert.equal(stats, {
      name: def.name,
      kind: def.name === 'byAge' ? 'ordered' : 'hash',
      entries: live.length,
      building: false,
    });
    if (def.name === 'byAge') {
      const byAge = t.scan({ index: 'byAge' });
      assert.is(byAge.length, live.length, 'one entry per live row');
      const ages = byAge.map((r) => r.age as number | null);
      const sorted = live.map((r) => r.age as number | null).sort((a, b) => (a ?? -1) - (b ?? -1));
      assert.equal(ages, sorted, 'in order');
    } else {
      for (const row of live.filter((_, i) => i % 97 === 0))
        assert.ok(
          t.find('byEmail', row.email).some((r) => r.id === row.id),
          `finds ${String(row.email)}`,
        );
      assert.is(t.find('byEmail', 'x0@x').length, t.scan().filter((r) => r.email === 'x0@x').length);
    }
  }
  await db.close();
});

test('an index built on a worker reads rows written under every earlier schema version', async () => {
  const db = await withUsers(undefined, INDEX_WORKER_ROWS + 1_000);
  const t = db.table('users');
  await t.addColumn({ name: 'score', type: 'int32', default: 7 });
  await t.dropColumn('age');
  await t.addColumn({ name: 'tag', type: 'string', nullable: true });
  for (let id = 0; id < INDEX_WORKER_ROWS; id += 3) await t.update(id, { score: id % 11, tag: `t${id % 5}` });
  await t.addIndex({ name: 'byScore', columns: ['score'], kind: 'ordered' });
  await t.addIndex({ name: 'byTag', columns: ['tag'] });
  const rows = t.scan();
  const scores = rows.map((r) => r.score as number).sort((a, b) => a - b);
  assert.equal(
    t.scan({ index: 'byScore' }).map((r) => r.score),
    scores,
    'every row, in order, the defaulted ones too',
  );
  for (const tag of ['t3', null])
    assert.is(t.find('byTag', tag).length, rows.filter((r) => r.tag === tag).length, `rows tagged ${String(tag)}`);
  await db.close();
});

test('closing the database during a build on a worker rejects the build with CLOSED', async () => {
  const db = await withUsers(undefined, INDEX_WORKER_ROWS);
  const build = db.table('users').addIndex({ name: 'byAge', columns: ['age'], kind: 'ordered' });
  await db.close();
  await rejects(build, ErrorCode.CLOSED, 'the build');
});

test('a dropped table: handles and transactions staged before fail with UNKNOWN_TABLE; the name can be used again', async () => {
  const db = await withUsers(undefined, 10);
  const t = db.table('users');
  const tx = db.begin();
  tx.insert('users', { id: 99, email: 'tx' });
  await db.dropTable('users');
  await rejects(tx.commit(), ErrorCode.UNKNOWN_TABLE, 'a transaction staged before the drop');
  await rejects(
    Promise.resolve().then(() => t.get(1)),
    ErrorCode.UNKNOWN_TABLE,
    'a handle taken before',
  );
  await rejects(t.addColumn({ name: 'x', type: 'int32', nullable: true }), ErrorCode.UNKNOWN_TABLE, 'a change');
  await rejects(db.dropTable('users'), ErrorCode.UNKNOWN_TABLE, 'dropped twice');
  assert.equal(db.tableNames(), []);
  db.createTable(USERS);
  assert.is(db.table('users').size, 0, 'a new table of the same name starts empty');
  await db.close();
});

test('a table dropped while the segment cleaner works on it: the cleaner lets its job go', async () => {
  const db = await open({ tables: [USERS], cleaner: false });
  const t = db.table('users');
  await db.transaction((tx) => {
    for (let id = 0; id < 20_000; id++) tx.insert('users', { id, email: `${id}`.padEnd(200, '.') });
  });
  for (let round = 0; round < 3; round++)
    await db.transaction((tx) => {
      for (let id = 0; id < 20_000; id += 2) tx.update('users', id, { age: round });
    });
  const cleaning = db.clean();
  await db.dropTable('users');
  await cleaning;
  await rejects(
    Promise.resolve().then(() => t.get(1)),
    ErrorCode.UNKNOWN_TABLE,
    'the dropped table',
  );
  await db.close();
});

test('a transaction that wrote before addColumn commits after it, its rows taking the default', async () => {
  const db = await withUsers(undefined, 3);
  const tx = db.begin();
  tx.insert('users', { id: 10, email: 'before' });
  await db.table('users').addColumn({ name: 'plan', type: 'string', default: 'free' });
  await tx.commit();
  assert.equal(db.table('users').get(10), { id: 10, email: 'before', age: null, plan: 'free' });
  await db.close();
});

test('open() with a different definition lists every difference; migrate makes the additive ones and drops only what it names', async () => {
  const dir = dirs.make();
  await (await withUsers(dir, 20)).close();
  const wider: TableDef = {
    ...USERS,
    columns: [...USERS.columns, { name: 'plan', type: 'string', default: 'free' }],
    indexes: [{ name: 'byEmail', columns: ['email'], unique: true }],
  };
  const listed = await rejects(open({ dir, tables: [wider] }), ErrorCode.INVALID_SCHEMA, 'without migrate');
  assert.match(listed, 'column "plan"');
  assert.match(listed, 'index "byEmail"');
  let db = await open({ dir, tables: [wider], migrate: true });
  assert.equal(db.table('users').get(3), { id: 3, email: 'u3@x', age: 3, plan: 'free' });
  assert.equal(db.table('users').find('byEmail', 'u4@x').length, 1);
  await db.close();
  const narrower: TableDef = { ...wider, columns: wider.columns.filter((c) => c.name !== 'age') };
  const kept = await rejects(
    open({ dir, tables: [narrower], migrate: true }),
    ErrorCode.SCHEMA_CHANGE_REFUSED,
    'a drop not named',
  );
  assert.match(kept, 'users.age');
  const retyped: TableDef = {
    ...wider,
    columns: wider.columns.map((c) => (c.name === 'age' ? { ...c, type: 'int64' as const } : c)),
  };
  await rejects(open({ dir, tables: [retyped], migrate: true }), ErrorCode.SCHEMA_CHANGE_REFUSED, 'a type change');
  await rejects(
    open({ dir, migrate: { drop: 'x' as unknown as string[] } }),
    ErrorCode.INVALID_OPTION,
    'a bad migrate',
  );
  db = await open({ dir, tables: [narrower], migrate: { drop: ['users.age'] } });
  assert.equal(db.table('users').get(3), { id: 3, email: 'u3@x', plan: 'free' });
  assert.is(db.table('users').schema.version, 4);
  await db.close();
  db = await open({ dir, tables: [narrower], migrate: { drop: ['users.age'] } });
  assert.is(db.table('users').schema.version, 4, 'a migration already made makes nothing');
  await db.close();
  db = await open({ dir, migrate: { drop: ['users'] } });
  assert.equal(db.tableNames(), []);
  await db.close();
});

test('tidemark schema prints definitions import --schema takes; inspect shows each schema version', async () => {
  const dir = dirs.make();
  const db = await withUsers(dir, 3);
  await db.table('users').addColumn({ name: 'big', type: 'int64', default: 1n << 60n });
  await db.checkpoint();
  await db.close();
  const all = await cli('schema', dir);
  assert.is(all.status, 0, all.err);
  const definitions = JSON.parse(all.out) as TableDef[];
  assert.equal(
    definitions.map((d) => d.name),
    ['users'],
  );
  const file = join(dirs.make(), 'schema.json');
  writeFileSync(file, all.out);
  const rows = join(dirs.make(), 'rows.ndjson');
  writeFileSync(rows, '{"id":1,"email":"a"}\n');
  const copy = join(dirs.make(), 'copy');
  const imported = await cli('import', copy, 'users', rows, '--schema', file);
  assert.is(imported.status, 0, imported.err);
  const one = await cli('schema', copy, 'users');
  assert.equal(JSON.parse(one.out), definitions[0], 'the copy has the same definition');
  const inspected = await cli('inspect', dir);
  assert.match(inspected.out, 'users (schema version 2');
});

test.after(() => dirs.cleanup());
test.run();
