/**
 * open({ dir, readOnly: true }): a crash image (a root, pair files with bytes
 * past their valid lengths, a WAL tail to replay) opens read-only with the
 * same rows a normal open finds, serves reads, refuses every write with
 * READ_ONLY, and leaves every file's bytes and mtime as they were, with no
 * LOCK made. Options that make no sense with it are INVALID_OPTION.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, open } from '../src/index.js';
import { contentHash, crashImage, rejectsWith, tempDirs } from './helpers/dirs.js';

const dirs = tempDirs('tidemark-read-only-');
const ACCOUNTS = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' as const },
    { name: 'balance', type: 'int64' as const },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byBalance', columns: ['balance'], kind: 'ordered' as const }],
};

/** Every file's bytes and mtime. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    files.set(name, `${statSync(path).mtimeMs}:${readFileSync(path).toString('base64')}`);
  }
  return files;
}

test('a crash image opens read-only with the rows a normal open finds, and no file changes', async () => {
  const db = await open({ dir: dirs.make(), tables: [ACCOUNTS], checkpointIntervalMs: 0, merges: false });
  for (let id = 0; id < 500; id++)
    await db.table('accounts').insert({ id, balance: BigInt(id) }, { durability: 'delayed' });
  const image = await crashImage(db, dirs.make(), async () => {
    for (let id = 0; id < 100; id++) await db.table('accounts').update(id, { balance: -1n }, { durability: 'delayed' });
    await db.table('accounts').delete(499);
  });
  const before = snapshot(image);
  assert.not.ok(before.has('LOCK'), 'the image has no LOCK');
  const ro = await open({ dir: image, readOnly: true });
  assert.ok(ro.recovery!.root !== null, 'loaded from a checkpoint');
  assert.ok(ro.recovery!.records > 0, 'and replayed a WAL tail');
  const t = ro.table('accounts');
  assert.is(t.size, 499);
  assert.equal(t.get(5), { id: 5, balance: -1n });
  assert.is(t.count({ index: 'byBalance', lte: -1n }), 100);
  await rejectsWith(() => t.insert({ id: 1000, balance: 0n }), ErrorCode.READ_ONLY);
  await rejectsWith(() => t.update(1, { balance: 3n }), ErrorCode.READ_ONLY);
  await rejectsWith(async () => ro.transactionSync((tx) => tx.delete('accounts', 2)), ErrorCode.READ_ONLY);
  await rejectsWith(() => t.addColumn({ name: 'x', type: 'int32', nullable: true }), ErrorCode.READ_ONLY);
  await rejectsWith(() => ro.dropTable('accounts'), ErrorCode.READ_ONLY);
  await rejectsWith(async () => ro.createTable({ ...ACCOUNTS, name: 'other' }), ErrorCode.READ_ONLY);
  await rejectsWith(() => ro.checkpoint(), ErrorCode.READ_ONLY);
  await rejectsWith(() => ro.merge(), ErrorCode.READ_ONLY);
  const hash = contentHash(ro);
  await ro.close();
  assert.equal(snapshot(image), before, 'every file is as it was, and no LOCK was made');
  const rw = await open({ dir: image });
  assert.is(contentHash(rw), hash, 'a normal open finds the same rows');
  await rw.close();
});

test('readOnly needs an existing database directory and takes no migrate', async () => {
  await rejectsWith(() => open({ readOnly: true }), 'TM_INVALID_OPTION', 'options.dir');
  await rejectsWith(
    () => open({ dir: join(dirs.make(), 'none'), readOnly: true }),
    'TM_INVALID_OPTION',
    'no such directory',
  );
  await rejectsWith(() => open({ dir: dirs.make(), readOnly: true }), 'TM_INVALID_OPTION', 'no database');
  await rejectsWith(() => open({ dir: dirs.make(), readOnly: true, migrate: true }), 'TM_INVALID_OPTION', 'migrate');
  await rejectsWith(() => open({ dir: dirs.make(), readOnly: 'yes' as unknown as boolean }), 'TM_INVALID_OPTION');
});

test.after(() => dirs.cleanup());
test.run();
