/**
 * A damaged newest root makes open() fall back to the older root, which may
 * need WAL segments recycled once the newer root was written. Open then
 * fails, and both open() and verify() name the damaged root as the cause,
 * not only the missing segment.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect, open, verify, type TableDef } from '../src/index.js';
import { segmentName } from '../src/log/wal_format.js';
import { rejectsWith, tempDirs } from './helpers/dirs.js';

const kv: TableDef = {
  name: 'kv',
  columns: [
    { name: 'k', type: 'int32' },
    { name: 'v', type: 'string' },
  ],
  primaryKey: ['k'],
};
const dirs = tempDirs('tidemark-root-fallback-');
test.after(() => dirs.cleanup());

/** Two roots, the older one's first WAL segment recycled after the newer was written; copied while open, as a crash leaves it. */
async function recycledBehindOlderRoot(): Promise<{ image: string; older: string; newer: string; olderSeq: number }> {
  const dir = dirs.make();
  // Checkpoints only when asked: the two roots are the two checkpoints below.
  const db = await open({
    dir,
    tables: [kv],
    walSegmentBytes: 64 * 1024,
    checkpointWalBytes: 64 * 1024 * 1024,
    checkpointIntervalMs: 3_600_000,
    merges: false,
  });
  let k = 0;
  const write = async (rows: number): Promise<void> => {
    for (let i = 0; i < rows; i++) db.transactionSync((tx) => tx.insert('kv', { k: k++, v: 'x'.repeat(100) }));
    await db.flush();
  };
  await write(2000);
  await db.checkpoint();
  const olderSeq = inspect(dir).root!.wal.seq;
  await write(2000);
  await db.checkpoint();
  for (let round = 0; existsSync(join(dir, segmentName(olderSeq))); round++) {
    assert.ok(round < 50, `segment ${olderSeq} was never recycled`);
    await write(500);
  }
  const image = dirs.make();
  for (const name of readdirSync(dir)) if (name !== 'LOCK') copyFileSync(join(dir, name), join(image, name));
  await db.close();
  const roots = readdirSync(image)
    .filter((n) => n.startsWith('root-'))
    .sort();
  assert.is(roots.length, 2, roots.join(' '));
  return { image, older: roots[0]!, newer: roots[1]!, olderSeq };
}

test('a damaged newest root with the WAL behind the older root recycled: the damaged root is named as the cause', async () => {
  const { image, older, newer, olderSeq } = await recycledBehindOlderRoot();
  const path = join(image, newer);
  const bytes = readFileSync(path);
  bytes[bytes.length - 5]! ^= 0xff;
  writeFileSync(path, bytes);
  const expected = new RegExp(
    `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged \\(root file body fails its checksum.*\\); the older ${older} needs WAL segment ${olderSeq}, which is missing: it was recycled after the newer root was written$`,
  );
  const error = await rejectsWith(() => open({ dir: image }), 'TM_CORRUPT');
  assert.match(error.message, expected);
  const report = await verify(image);
  assert.not.ok(report.ok);
  assert.is(report.problems.length, 1, JSON.stringify(report.problems));
  assert.is(report.problems[0]!.file, newer);
  assert.match(report.problems[0]!.message, expected);
  assert.ok(
    report.warnings.some((w) => w.code === 'ROOT_INVALID' && w.file === newer),
    'the damaged root itself, which open() skips',
  );
});

test.run();
