import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CfpState, open } from '../src/index.js';
import { CheckpointWriter } from '../src/checkpoint/checkpoint_writer.js';
import { mergeCfps } from '../src/checkpoint/merge_task.js';
import { readNewestRoot, type CfpEntry, type RootBody } from '../src/checkpoint/root_format.js';
import { NodeFileLayer } from '../src/files/file_layer.js';
import { contentHash } from './helpers/dirs.js';
import {
  assertNoOrphans,
  baseDirectory,
  cfpFiles,
  dirs,
  FILE_BYTES,
  mergeOnce,
  modelHash,
  small,
} from './helpers/merge.js';

test.after(dirs.cleanup);

test("three pairs into two: the targets split the sources' versionId range between them, the first filled to a data file, every row kept", async () => {
  const base = await baseDirectory('three into two');
  const layer = new NodeFileLayer();
  const { root } = readNewestRoot(layer, base.dir);
  const holding = (r: RootBody): CfpEntry[] =>
    r.cfps
      .filter((c) => c.state === CfpState.ACTIVE || c.state === CfpState.UNDER_CONSTRUCTION)
      .sort((a, b) => a.minVersion - b.minVersion);
  mergeOnce(layer, base.dir, root!, 0, 'three into two');
  const after = readNewestRoot(layer, base.dir).root!;
  const old = new Set(root!.cfps.map((c) => c.id));
  const targets = holding(after).filter((c) => !old.has(c.id));
  const sources = holding(root!).slice(0, 3);
  assert.is(targets.length, 2);
  assert.is(targets[0]!.minVersion, sources[0]!.minVersion, 'the first target starts where the sources start');
  assert.is(targets[1]!.minVersion, targets[0]!.maxVersion! + 1, 'the second starts right after the first');
  assert.is(targets[1]!.maxVersion, sources[2]!.maxVersion, 'the second ends where the sources end');
  assert.ok(
    targets[0]!.dataLength <= FILE_BYTES && targets[0]!.dataLength > FILE_BYTES - 1024,
    `the first target holds ${targets[0]!.dataLength} bytes`,
  );
  const live = sources.reduce((sum, c) => sum + c.rows - c.tombstones, 0);
  assert.is(targets[0]!.rows + targets[1]!.rows, live, 'every live row is in one of them');
  // Ranges stay contiguous over all pairs holding rows, so every later delete routes to one pair.
  const all = holding(after);
  for (let i = 1; i < all.length; i++)
    assert.is(
      all[i]!.minVersion,
      all[i - 1]!.maxVersion! + 1,
      `pairs ${all[i - 1]!.id} and ${all[i]!.id} are adjacent`,
    );
  const db = await open({ ...small, dir: base.dir, merges: false });
  assert.is(contentHash(db), await modelHash(base.model));
  await db.close();
});

for (const [what, fileBytes] of [
  ['rows that fit one target: the second is not made', 16 * FILE_BYTES],
  ['rows that overflow two targets: the second takes the rest', FILE_BYTES / 4],
] as const) {
  test(`three pairs into two, ${what}; ranges stay contiguous and every row is kept`, async () => {
    const base = await baseDirectory('three into two');
    const layer = new NodeFileLayer();
    const { root } = readNewestRoot(layer, base.dir);
    const holding = (r: RootBody): CfpEntry[] =>
      r.cfps
        .filter((c) => c.state === CfpState.ACTIVE || c.state === CfpState.UNDER_CONSTRUCTION)
        .sort((a, b) => a.minVersion - b.minVersion);
    const sources = holding(root!).slice(0, 3);
    // A writer whose data file size is not the one the pairs were written with: the task splits at that size.
    const writer = new CheckpointWriter(
      layer,
      { dir: base.dir, databaseId: BigInt(root!.databaseId), dataFileSizeBytes: fileBytes, precreatedFiles: 0 },
      root,
    );
    let unused: number | null = null;
    try {
      const task = writer.beginMerge({ sources: sources.map((c) => c.id), targets: 2 });
      const result = mergeCfps(layer, task);
      assert.is(result.targets.length, fileBytes > FILE_BYTES ? 1 : 2);
      if (fileBytes > FILE_BYTES) unused = task.targets[1]!;
      else
        assert.ok(
          result.targets[1]!.dataLength > fileBytes,
          `the second target holds ${result.targets[1]!.dataLength} bytes, past ${fileBytes}`,
        );
      writer.finishMerge(result);
      for (let i = 0; i < 3; i++) writer.checkpoint(root!.wal, root!.walBytesStreamed);
    } finally {
      writer.close();
    }
    const after = readNewestRoot(layer, base.dir).root!;
    if (unused !== null) {
      assert.not.ok(
        after.cfps.some((c) => c.id === unused),
        'the target not made leaves the root',
      );
      assert.not.ok(
        cfpFiles(base.dir).some((f) => f.endsWith(unused!.toString(16).padStart(16, '0'))),
        'and has no files',
      );
    }
    const all = holding(after);
    assert.is(all[0]!.minVersion, sources[0]!.minVersion);
    for (let i = 1; i < all.length; i++)
      assert.is(
        all[i]!.minVersion,
        all[i - 1]!.maxVersion! + 1,
        `pairs ${all[i - 1]!.id} and ${all[i]!.id} are adjacent`,
      );
    assertNoOrphans(base.dir, what);
    const db = await open({ ...small, dir: base.dir, merges: false });
    assert.is(contentHash(db), await modelHash(base.model));
    // Every later delete routes to exactly one pair: delete every row, reopen, nothing left.
    for (const id of base.model.keys()) void db.table('items').delete(id);
    await db.close();
    const again = await open({ ...small, dir: base.dir, merges: false });
    assert.is(again.table('items').scan().length, 0);
    await again.close();
  });
}

test.run();
