/**
 * The WAL archive and restores to a point in time. A database with
 * options.archiveDir, small segments and frequent checkpoints (so segments
 * are recycled, which they may be only once archived) is backed up early;
 * the backup plus the archive then restores to 20 random commits, each
 * holding exactly the commits up to it. An archive that fails (its
 * directory missing) blocks no commit, says so in the statistics, and
 * catches up once the directory is there.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { makeRandom, tempDirs, keysIn } from './helpers/dirs.js';
import { eventually } from './helpers/wait.js';

const dirs = tempDirs('tidemark-archive-');
const ITEMS = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32' as const },
    { name: 'v', type: 'string' as const },
  ],
  primaryKey: ['id'],
};
const SMALL = { walSegmentBytes: 64 * 1024, checkpointWalBytes: 128 * 1024, checkpointIntervalMs: 0 };

const idsIn = (dir: string): Promise<number[]> => keysIn(dir, 'items', 'id');

test('a backup and the archive restore to 20 random commits, each exactly', async () => {
  const dir = dirs.make();
  const archive = dirs.make();
  const db = await open({ dir, tables: [ITEMS], archiveDir: archive, ...SMALL });
  const committedAt: number[] = [];
  const insert = async (id: number): Promise<void> => {
    committedAt[id] = await db.table('items').insert({ id, v: `row ${id}`.padEnd(300, '.') });
  };
  for (let id = 0; id < 50; id++) await insert(id);
  const backup = join(dirs.make(), 'backup');
  const taken = await db.backup(backup);
  assert.is(taken.commitTs, committedAt[49], 'the backup holds the first 50 commits');
  for (let id = 50; id < 1500; id++) {
    await insert(id);
    if (id % 200 === 0) await db.checkpoint();
  }
  assert.ok((await db.logStats()).writer!.segmentsRecycled > 0, 'segments were recycled (each once archived)');
  assert.is(db.stats().durability!.archive!.failing, false);
  await db.close();
  const whole = join(dirs.make(), 'whole');
  const all = await cli('restore', backup, whole, '--archive', archive);
  assert.is(all.status, 0, all.err);
  const reached = Number(/commitTs (\d+)/.exec(all.out)![1]);
  const archived = committedAt.filter((ts) => ts <= reached).length;
  assert.ok(archived > 1000, `the archive holds the log up to commit ${reached} (${archived} rows)`);
  const random = makeRandom(Number(process.env.TIDEMARK_SEED ?? 27));
  for (let i = 0; i < 20; i++) {
    // The backup holds the first 50 commits: a restore starts there.
    const to = committedAt[49 + random(archived - 49)]!;
    const dest = join(dirs.make(), `at-${to}`);
    const run = await cli('restore', backup, dest, '--archive', archive, '--to', String(to));
    assert.is(run.status, 0, run.err);
    const expected = committedAt.flatMap((ts, id) => (ts <= to ? [id] : []));
    assert.equal(await idsIn(dest), expected, `restored to commit ${to}`);
  }
});

test('a failing archive blocks no commit, shows in the statistics, and catches up', async () => {
  const archive = join(dirs.make(), 'not-yet');
  const db = await open({ dir: dirs.make(), tables: [ITEMS], archiveDir: archive, ...SMALL });
  for (let id = 0; id < 600; id++) await db.table('items').insert({ id, v: 'x'.padEnd(300) });
  await db.checkpoint();
  await eventually(() => db.stats().durability!.archive!.failing, 'the archive reports its failure');
  const stuck = db.stats().durability!.archive!.archivedBefore;
  assert.is((await db.logStats()).writer!.segmentsRecycled, 0, 'no unarchived segment was recycled');
  mkdirSync(archive);
  await eventually(
    () => !db.stats().durability!.archive!.failing && db.stats().durability!.archive!.archivedBefore > stuck,
    'the archive catches up',
    10_000,
  );
  await db.close();
});

test.after(() => dirs.cleanup());
test.run();
