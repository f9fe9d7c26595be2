import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, open, type OpenOptions } from '../src/index.js';
import { contentHash, makeRandom, rejectsWith } from './helpers/dirs.js';
import {
  assertNoOrphans,
  cfpFiles,
  diskBytes,
  dirs,
  FILE_BYTES,
  items,
  type Model,
  modelHash,
  small,
} from './helpers/merge.js';

test.after(dirs.cleanup);

for (const kind of ['update-heavy', 'delete-heavy'] as const) {
  test(`${kind} random workload with small files: contents equal the model through merges and restarts; pairs and disk bytes stay bounded`, async () => {
    const dir = dirs.make();
    const random = makeRandom(kind === 'update-heavy' ? 11 : 23);
    const model: Model = new Map();
    // Background merges often, so they run while commits go on.
    const options = { ...small, dir, mergeIntervalMs: 5 };
    let db = await open(options);
    let merges = 0;
    let written = 0;
    let mostPairs = 0;
    const KEYS = 400;
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 600; i++) {
        const id = random(KEYS);
        const remove = kind === 'update-heavy' ? random(10) === 0 : random(2) === 0;
        if (remove && model.has(id)) {
          void db.table('items').delete(id);
          model.delete(id);
        } else {
          const row = { id, label: `${round}:${i}:`.padEnd(60 + random(200), '-'), qty: round * i };
          void db.table('items').upsert(row);
          model.set(id, row);
        }
      }
      const action = random(4);
      if (action === 0) await db.merge();
      if (action === 1 || round === 29) {
        // Streamed up to here first, so the counts include this round (close's own streaming is not counted).
        await db.checkpoint();
        const stats = (await db.logStats()).streamer!;
        merges += stats.merge.merges;
        written += stats.bytesWritten;
        await db.close();
        db = await open(options);
        assert.is(contentHash(db), await modelHash(model), `round ${round}: contents after a restart`);
      }
      if (action === 2) await db.checkpoint();
      mostPairs = Math.max(mostPairs, cfpFiles(dir).length / 2);
    }
    const report = await db.merge();
    const stats = (await db.logStats()).streamer!;
    merges += stats.merge.merges;
    const live = [...model.values()].reduce((sum, r) => sum + 32 + r.label.length, 0);
    await db.close();
    db = await open({ ...options, merges: false });
    assert.is(contentHash(db), await modelHash(model), 'contents at the end');
    await db.close();
    written += stats.bytesWritten;
    // Live rows fit about one or two data files; the pool keeps one ready and one is being written.
    const pairBound = Math.ceil(live / FILE_BYTES) + 4;
    assert.ok(report.cfps <= pairBound, `${report.cfps} pairs hold rows at the end, over ${pairBound}`);
    assert.ok(cfpFiles(dir).length / 2 <= pairBound + 1, `${cfpFiles(dir).length / 2} pairs on disk at the end`);
    assert.ok(diskBytes(dir) <= (pairBound + 1) * FILE_BYTES, `${diskBytes(dir)} bytes of pairs on disk`);
    assert.ok(mostPairs <= 24, `at most ${mostPairs} pairs on disk during the run`);
    assert.ok(
      written >= 8 * diskBytes(dir),
      `the run wrote ${written} bytes to pairs, far more than the ${diskBytes(dir)} on disk`,
    );
    assert.ok(merges >= 3, `${merges} merges`);
    assertNoOrphans(dir, 'after the run');
  });
}

test('massive deletions: after deleting 90% of the rows and merging, recovery reads about the surviving data', async () => {
  const dir = dirs.make();
  let db = await open({ ...small, dir, merges: false });
  const N = 10_000;
  for (let from = 0; from < N; from += 200) {
    db.transactionSync((tx) => {
      for (let id = from; id < from + 200; id++)
        tx.insert('items', { id, label: `row ${id}`.padEnd(100, '.'), qty: id });
    });
  }
  await db.checkpoint();
  for (let from = 0; from < N; from += 1000) {
    db.transactionSync((tx) => {
      for (let id = from; id < from + 1000; id++) if (id % 10 !== 0) tx.delete('items', id);
    });
  }
  await db.close();
  db = await open({ ...small, dir, merges: false });
  const unmerged = db.recovery!.checkpoint!;
  await db.close();
  // No timed policy check: every merge is db.merge()'s own, so its report counts all of them.
  db = await open({ ...small, dir, mergeIntervalMs: 0 });
  const report = await db.merge();
  assert.ok(report.merges.length >= 1, 'merged');
  assert.ok(report.filesDeleted >= 2, `${report.filesDeleted} files deleted`);
  const dropped = report.merges.reduce((sum, m) => sum + m.rowsDropped, 0);
  await db.close();
  db = await open({ ...small, dir });
  const merged = db.recovery!.checkpoint!;
  assert.is(db.table('items').scan().length, N / 10);
  await db.close();
  assert.ok(dropped >= 0.85 * N, `the merges left ${dropped} deleted rows behind`);
  assert.ok(
    merged.bytes <= 0.2 * unmerged.bytes,
    `recovery read ${merged.bytes} bytes after the merge, ${unmerged.bytes} before`,
  );
  // The pair still being written is never merged: its tombstones are still read.
  assert.ok(
    merged.skipped <= 0.05 * N,
    `recovery skipped ${merged.skipped} deleted rows after the merge (${unmerged.skipped} before)`,
  );
});

test('db.merge(): NO_DIRECTORY in memory, INVALID_OPTION with checkpoints off; merge options are validated', async () => {
  const memory = await open({ tables: [items] });
  await rejectsWith(() => memory.merge(), ErrorCode.NO_DIRECTORY);
  await memory.close();
  const off = await open({ dir: dirs.make(), checkpoints: false });
  await rejectsWith(() => off.merge(), ErrorCode.INVALID_OPTION, 'checkpoints');
  await off.close();
  const nothing = await open({ ...small, dir: dirs.make() });
  const report = await nothing.merge();
  assert.equal(report.merges, []);
  assert.is(report.error, null);
  await nothing.close();
  for (const [key, value] of [
    ['merges', 'yes'],
    ['mergeDeadFraction', 0],
    ['mergeDeadFraction', 1.5],
    ['mergeIntervalMs', -1],
    ['cleaner', 1],
    ['cleanerLiveFraction', 0.99],
  ] as const) {
    await rejectsWith(() => open({ [key]: value } as OpenOptions), ErrorCode.INVALID_OPTION, `options.${key}`);
  }
});

test.run();
