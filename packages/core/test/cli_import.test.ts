/**
 * `tidemark import` when something is wrong: nothing is made before the
 * inputs are checked, a failed import into a new database removes it, a
 * missing `--schema` is named, a refused row is reported with its file and
 * its own line; progress ends on the real count; every usage mistake in a
 * command's options exits 2.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, type TableDef } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { tempDirs } from './helpers/dirs.js';

const items: TableDef = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'name', type: 'string' },
  ],
  primaryKey: ['id'],
};
const dirs = tempDirs('tidemark-cli-import-');
test.after(() => dirs.cleanup());

function file(name: string, text: string): string {
  const path = join(dirs.make(), name);
  writeFileSync(path, text);
  return path;
}

const rows = (from: number, to: number): string =>
  Array.from({ length: to - from }, (_, i) => `{"id":${from + i},"name":"n${from + i}"}\n`).join('');

test('a bad definition or no --schema for a new database: refused before anything is made', async () => {
  const input = file('items.ndjson', rows(0, 5));
  const badType = file(
    'bad.json',
    JSON.stringify({
      ...items,
      columns: [
        { name: 'id', type: 'int33' },
        { name: 'name', type: 'string' },
      ],
    }),
  );
  const missing = join(dirs.make(), 'new-db');
  const empty = dirs.make();
  for (const dir of [missing, empty]) {
    const bad = await cli('import', dir, 'items', input, '--schema', badType);
    assert.is(bad.status, 1, bad.err);
    assert.match(bad.err, /^tidemark: .*bad\.json: .*int33.*\[TM_INVALID_SCHEMA\]$/);
    const noSchema = await cli('import', dir, 'items', input);
    assert.is(noSchema.status, 2, noSchema.err);
    assert.match(noSchema.err, /holds no database yet: --schema FILE is needed to create table "items"/);
  }
  assert.not.ok(existsSync(missing), 'no directory made');
  assert.equal(readdirSync(empty), [], 'nothing made in the empty directory');
});

test('a failed import into a new database removes it; into an existing one, keeps the batches before', async () => {
  const schema = file('items.json', JSON.stringify(items));
  const bad = file('bad.ndjson', `${rows(0, 30)}{"id":"x","name":"bad"}\n`);
  const missing = join(dirs.make(), 'new-db');
  const empty = dirs.make();
  for (const dir of [missing, empty]) {
    const run = await cli('import', dir, 'items', bad, '--schema', schema, '--batch', '10');
    assert.is(run.status, 1, run.err);
    assert.match(run.err, /bad\.ndjson line 31: .*\(nothing imported: the new database at .* is removed\)/);
  }
  assert.not.ok(existsSync(missing), 'the directory it made is removed');
  assert.equal(readdirSync(empty), [], 'what it made in the empty directory is removed');
  const stray = dirs.make();
  writeFileSync(join(stray, 'notes.txt'), 'mine');
  const refused = await cli('import', stray, 'items', bad, '--schema', schema);
  assert.is(refused.status, 1);
  assert.match(refused.err, /no database at .*: .*import makes a new database only in a new or empty directory/);
  assert.equal(readdirSync(stray), ['notes.txt']);
});

test('no such table and no --schema: says --schema is needed; a duplicate key names the file and its own line', async () => {
  const dir = dirs.make();
  const db = await open({
    dir,
    tables: [{ name: 'other', columns: [{ name: 'k', type: 'int32' }], primaryKey: ['k'] }],
  });
  await db.close();
  const input = file('items.ndjson', rows(0, 30));
  const noTable = await cli('import', dir, 'items', input);
  assert.is(noTable.status, 2, noTable.err);
  assert.match(noTable.err, /has no table "items": --schema FILE is needed to create it \[TM_USAGE\]$/);
  const schema = file('items.json', JSON.stringify(items));
  assert.is((await cli('import', dir, 'items', input, '--schema', schema)).status, 0);
  // Lines 1-20 are new keys, line 22 repeats key 5: its batch (lines 21-30) starts a line earlier.
  const duplicate = file(
    'dup.ndjson',
    `${rows(100, 120)}{"id":200,"name":"a"}\n{"id":5,"name":"again"}\n${rows(300, 308)}`,
  );
  const run = await cli('import', dir, 'items', duplicate, '--batch', '10');
  assert.is(run.status, 1);
  assert.match(
    run.err,
    /^tidemark: .*dup\.ndjson line 22: .*\(import stopped: 20 rows before that batch are imported and durable\) \[TM_DUPLICATE_KEY\]$/m,
  );
});

test('progress without a terminal ends on the real count', async () => {
  const dir = dirs.make();
  const db = await open({ dir, tables: [items] });
  db.transactionSync((tx) => {
    for (let id = 0; id < 10_000; id++) tx.insert('items', { id, name: `n${id}` });
  });
  await db.close();
  const out = join(dirs.make(), 'items.ndjson');
  const run = await cli('export', dir, 'items', '--out', out);
  assert.is(run.status, 0, run.err);
  assert.match(run.err, /^export items: 10,000 of 10,000 rows, done$/m);
  const copy = dirs.make();
  const schema = file('items.json', JSON.stringify(items));
  const imported = await cli('import', copy, 'items', out, '--schema', schema);
  assert.match(imported.err, /^import items: ([\d,]+) of \1 bytes, done$/m);
});

test("usage mistakes in any command's options exit 2, naming the option", async () => {
  const dir = dirs.make();
  mkdirSync(dir, { recursive: true });
  const input = file('items.ndjson', rows(0, 2));
  const cases: Array<[string[], RegExp]> = [
    [['recover', dir, '--workers', 'abc'], /--workers must be an integer from 0 to 64, not "abc"/],
    [['recover', dir, '--workers', '65'], /--workers must be an integer/],
    [['recover', dir, '--workers', '1.5'], /--workers must be an integer/],
    [['import', dir, 'items', input, '--batch', 'abc'], /--batch must be an integer from 1 to 1,000,000/],
    [['import', dir, 'items', input, '--batch', '0'], /--batch must be an integer/],
    [['import', dir, 'items', input, '--format', 'xml'], /--format must be ndjson or csv, not "xml"/],
    [['export', dir], /missing required argument/],
    [['verify', dir, '--nope'], /unknown option/],
  ];
  for (const [argv, pattern] of cases) {
    const run = await cli(...argv);
    assert.is(run.status, 2, `${argv.join(' ')}: ${run.err}`);
    assert.match(run.err, pattern);
  }
  assert.equal(readdirSync(dir), [], 'nothing made');
});

test.run();
