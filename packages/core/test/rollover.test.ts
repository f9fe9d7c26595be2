/**
 * Crashes around a WAL segment rollover, in real processes: a writer killed
 * after it made the next segment but before it wrote there, then a second
 * process that commits once and is killed too. Every later open must load
 * the directory with every acknowledged commit (the rollover protocol in
 * docs/FORMAT.md), and `verify` must find nothing wrong.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, verify } from '../src/index.js';
import { rejectsWith, tempDirs } from './helpers/dirs.js';

const CHILD = fileURLToPath(new URL('./fixtures/rollover_child.mjs', import.meta.url));
const SEGMENT_BYTES = 64 * 1024;
const TABLES = [
  {
    name: 'rows',
    columns: [
      { name: 'id', type: 'int32' as const },
      { name: 'pad', type: 'string' as const },
    ],
    primaryKey: ['id'],
  },
];
const dirs = tempDirs('tidemark-rollover-');

/** Runs a step of the child to its SIGKILL; returns the ids it was told are durable. */
function step(name: 'fill' | 'more' | 'many', dir: string): number[] {
  const run = spawnSync(process.execPath, [CHILD, name, dir], { encoding: 'utf8', timeout: 120_000 });
  assert.is(run.signal, 'SIGKILL', `${name}: killed as planned (status ${run.status}); stderr:\n${run.stderr}`);
  return [...run.stdout.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1]));
}

const segment = (dir: string, seq: number): string => join(dir, `wal-${seq.toString(16).padStart(16, '0')}`);

test('killed after making the next segment, then killed again after one commit: the directory opens with every acknowledged commit', async () => {
  const dir = dirs.make();
  const filled = step('fill', dir);
  assert.ok(filled.length > 100, `the first segment was filled (${filled.length} commits)`);
  assert.ok(existsSync(segment(dir, 1)), 'the next segment was made before the kill');
  const more = step('more', dir);
  assert.is(more.length, 1, 'the second process committed once');
  const report = await verify(dir);
  assert.ok(report.ok, `verify: ${JSON.stringify(report.problems)}`);
  for (let round = 0; round < 2; round++) {
    const db = await open({ dir, tables: TABLES, walSegmentBytes: SEGMENT_BYTES });
    try {
      for (const id of [...filled, ...more])
        assert.ok(db.table('rows').get(id) !== undefined, `acknowledged row ${id} is there`);
    } finally {
      await db.close();
    }
  }
});

test('the newest WAL segment deleted, after its predecessor was sealed for it: CORRUPT naming the segment', async () => {
  const dir = dirs.make();
  assert.is(step('many', dir).length, 300, 'every commit acknowledged before the kill');
  let newest = 0;
  while (existsSync(segment(dir, newest + 1))) newest++;
  assert.ok(newest >= 1, `the log rolled over (${newest + 1} segments)`);
  unlinkSync(segment(dir, newest));
  await rejectsWith(
    () => open({ dir, tables: TABLES, walSegmentBytes: SEGMENT_BYTES }),
    'TM_CORRUPT',
    `WAL segment ${newest} is missing`,
  );
  const report = await verify(dir);
  assert.not.ok(report.ok, 'verify reports the missing segment');
});

test('a segment sealed, its successor emptied back to its header: the acknowledged batches there are missing, not silently dropped', async () => {
  const dir = dirs.make();
  assert.is(step('many', dir).length, 300, 'every commit acknowledged before the kill');
  // An older, empty copy of segment 1 in place of the real one, with segment 2 after it: the seal of 1 is gone.
  assert.ok(existsSync(segment(dir, 2)), 'three segments');
  const bytes = readFileSync(segment(dir, 1));
  bytes.fill(0, 64);
  writeFileSync(segment(dir, 1), bytes);
  await rejectsWith(
    () => open({ dir, tables: TABLES, walSegmentBytes: SEGMENT_BYTES }),
    'TM_CORRUPT',
    'without its seal',
  );
});

test('a clean close leaves no temporary file, the spare segment included', async () => {
  const dir = dirs.make();
  for (let round = 0; round < 3; round++) {
    const db = await open({ dir, tables: TABLES, walSegmentBytes: SEGMENT_BYTES });
    // Past half a segment: the log writer reserves the next one's space as wal-spare.tmp.
    for (let i = 0; i < 100; i++) await db.table('rows').upsert({ id: i, pad: `${round}`.padEnd(400, 'r') });
    await db.close();
    const temps = readdirSync(dir).filter((name) => name.endsWith('.tmp'));
    assert.equal(temps, [], `round ${round}: no temporary file after close`);
  }
});

test.after(() => dirs.cleanup());
test.run();
