/**
 * `tidemark verify` and `inspect` against what a user points them at: a
 * database with files of their own beside it (verify warns and exits 0,
 * as open() loads it), and paths that hold no database (one line naming
 * the path, exit 1; nothing made there).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, verify } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { tempDirs } from './helpers/dirs.js';

const dirs = tempDirs('tidemark-cli-verify-');
test.after(() => dirs.cleanup());

async function smallDatabase(): Promise<string> {
  const dir = dirs.make();
  const db = await open({ dir, tables: [{ name: 'kv', columns: [{ name: 'k', type: 'int32' }], primaryKey: ['k'] }] });
  await db.table('kv').insert({ k: 1 });
  await db.close();
  return dir;
}

test('files the engine did not make are warnings: verify exits 0, as open() loads the directory; each name printed once', async () => {
  const dir = await smallDatabase();
  writeFileSync(join(dir, 'notes.txt'), 'mine\n');
  writeFileSync(join(dir, 'TIDEMARK_DEMO'), 'made by the Tidemark demo\n');
  const run = await cli('verify', dir);
  assert.is(run.status, 0, run.out);
  assert.match(
    run.out,
    /^warning: notes\.txt: not a file the engine makes; open\(\) leaves it alone \[UNKNOWN_FILE\]$/m,
  );
  assert.match(run.out, /^warning: TIDEMARK_DEMO: /m);
  assert.match(run.out, /^ok: .*kv 1 rows.*2 warnings\)$/m);
  for (const line of run.out.split('\n')) {
    const name = /^(?:problem|warning): (\S+?)(?::| at offset)/.exec(line)?.[1];
    if (name !== undefined) assert.is(line.split(name).length - 1, 1, `named once: ${line}`);
  }
  const db = await open({ dir });
  assert.is(db.table('kv').size, 1);
  await db.close();
  assert.ok(existsSync(join(dir, 'notes.txt')), 'open() leaves it alone');
});

test('a damaged file is named once, with its offset', async () => {
  const dir = await smallDatabase();
  const root = readdirSync(dir).find((n) => n.startsWith('root-'))!;
  writeFileSync(join(dir, root), 'not a root');
  const run = await cli('verify', dir);
  assert.is(run.status, 1, run.out);
  const line = run.out.split('\n').find((l) => l.startsWith('problem: '))!;
  assert.is(line.split(root).length - 1, 1, line);
});

test('no database there: verify and inspect say so in one line naming the path, and exit 1', async () => {
  const empty = dirs.make();
  const unrelated = dirs.make();
  for (let i = 0; i < 20; i++) writeFileSync(join(unrelated, `file-${i}.txt`), 'x');
  mkdirSync(join(unrelated, 'sub'));
  const missing = join(dirs.make(), 'nothing-here');
  const cases: Array<[string, RegExp]> = [
    [missing, /no such directory/],
    [empty, /no LOCK, root file, WAL segment or pair file \(it is empty\)/],
    [unrelated, /no LOCK, root file, WAL segment or pair file \(it holds 21 other files\)/],
    [join(unrelated, 'file-0.txt'), /it is a file, not a directory/],
  ];
  for (const [path, why] of cases) {
    for (const command of ['verify', 'inspect']) {
      const run = await cli(command, path);
      assert.is(run.status, 1, `${command} ${path}`);
      assert.is(run.out, '', `${command} ${path}: nothing on standard output`);
      assert.not.match(run.err, /\n/, `${command} ${path}: one line`);
      assert.ok(run.err.startsWith(`tidemark: no database at ${path}: `), run.err);
      assert.match(run.err, why);
      assert.match(run.err, /\[TM_NO_DATABASE\]$/);
    }
  }
  assert.equal(readdirSync(empty), [], 'nothing was made');
  assert.not.ok(existsSync(missing));
});

test('verify(): a path without a database is one NO_DATABASE problem', async () => {
  const report = await verify(dirs.make());
  assert.not.ok(report.ok);
  assert.equal(
    report.problems.map((p) => p.code),
    ['NO_DATABASE'],
  );
  assert.equal(
    (await verify(join(dirs.make(), 'missing'))).problems.map((p) => p.code),
    ['NO_DATABASE'],
  );
});

test.run();
