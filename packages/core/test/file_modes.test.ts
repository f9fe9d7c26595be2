/**
 * A database's directory and files are the owner's only (0700 and 0600)
 * under the usual umask of 022, whichever thread makes them (the main
 * thread, the log writer, the streamer, a merge), and so is an export;
 * options.fileMode widens them (0640: the directory 0750).
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, isTidemarkError, open, type TableDef } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { tempDirs } from './helpers/dirs.js';

const dirs = tempDirs('tidemark-modes-');
const umask = process.umask(0o022);
test.after(() => {
  process.umask(umask);
  dirs.cleanup();
});

const table: TableDef = {
  name: 'kv',
  columns: [
    { name: 'k', type: 'int32' },
    { name: 'v', type: 'string' },
  ],
  primaryKey: ['k'],
};

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Every file in `dir` has `fileMode`, and there is at least one of each kind the engine writes. */
function expectModes(dir: string, dirMode: number, fileMode: number, kinds: string[]): void {
  assert.is(modeOf(dir).toString(8), dirMode.toString(8), dir);
  const names = readdirSync(dir);
  for (const kind of kinds)
    assert.ok(
      names.some((n) => n.startsWith(kind)),
      `a ${kind} file in ${names.join(', ')}`,
    );
  for (const name of names) assert.is(modeOf(join(dir, name)).toString(8), fileMode.toString(8), name);
}

/** Writes, checkpoints and merges, so that every thread has made files; checks while open and after close. */
async function exercise(
  dir: string,
  dirMode: number,
  fileMode: number,
  options: { fileMode?: number } = {},
): Promise<void> {
  const db = await open({ dir, tables: [table], dataFileSizeBytes: 64 * 1024, mergeIntervalMs: 0, ...options });
  const kv = db.table('kv');
  db.transactionSync((tx) => {
    for (let k = 0; k < 3000; k++) tx.insert('kv', { k, v: `value ${k}` });
  });
  await db.checkpoint();
  db.transactionSync((tx) => {
    for (let k = 0; k < 2900; k++) tx.delete('kv', k);
  });
  const merged = await db.merge();
  assert.ok(merged.merges.length > 0, 'a merge task made files');
  expectModes(dir, dirMode, fileMode, ['LOCK', 'wal-', 'data-', 'delta-', 'root-']);
  assert.is(kv.size, 100);
  await db.close();
  expectModes(dir, dirMode, fileMode, ['wal-', 'data-', 'root-']);
}

test("a new database directory and its files are the owner's only", async () => {
  await exercise(join(dirs.make(), 'db'), 0o700, 0o600);
});

test('options.fileMode widens them: 0o640 makes the directory 0o750', async () => {
  await exercise(join(dirs.make(), 'db'), 0o750, 0o640, { fileMode: 0o640 });
});

test('options.fileMode must leave the owner read and write and set no execute bit', async () => {
  for (const fileMode of [0o755, 0o400, 0o200, -1, 0o1600, 1.5, '0600']) {
    try {
      await open({ fileMode: fileMode as number });
      assert.unreachable(`fileMode ${String(fileMode)} was accepted`);
    } catch (error) {
      assert.ok(
        isTidemarkError(error, ErrorCode.INVALID_OPTION) && error.message.includes('options.fileMode'),
        String(error),
      );
    }
  }
});

test("an export is the owner's only", async () => {
  const dir = dirs.make();
  const db = await open({ dir, tables: [table] });
  await db.table('kv').insert({ k: 1, v: 'one' });
  await db.close();
  const out = join(dirs.make(), 'out');
  mkdirSync(out);
  const file = join(out, 'kv.ndjson');
  const exported = await cli('export', dir, 'kv', '--out', file);
  assert.is(exported.status, 0, exported.err);
  assert.is(modeOf(file).toString(8), '600');
});

test.run();
