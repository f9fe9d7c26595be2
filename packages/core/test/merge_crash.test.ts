/**
 * A crash after any file operation of a merge, its install or the deletion
 * of its sources leaves the old or the new set of files in force, never a
 * mix, with no row lost or resurrected and no orphan file after the next
 * checkpoint; tombstones that reach the sources during a merge are carried
 * to the targets.
 */
import { cpSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CfpState, open } from '../src/index.js';
import { readNewestRoot } from '../src/checkpoint/root_format.js';
import { NodeFileLayer } from '../src/files/file_layer.js';
import { contentHash } from './helpers/dirs.js';
import {
  assertNoOrphans,
  BASES,
  baseDirectory,
  Crash,
  CrashingLayer,
  dirs,
  mergeOnce,
  modelHash,
  small,
} from './helpers/merge.js';

test.after(dirs.cleanup);

for (const kind of BASES) {
  test(`${kind}: a crash after any file operation of a merge, its install or the deletion of its sources: old or new files in force, nothing lost or resurrected, no orphans after the next checkpoint`, async () => {
    const base = await baseDirectory(kind);
    const expected = await modelHash(base.model);
    const { root } = readNewestRoot(new NodeFileLayer(), base.dir);
    const before = root!.cfps.filter(
      (c) => c.state === CfpState.ACTIVE || c.state === CfpState.UNDER_CONSTRUCTION,
    ).length;
    let finished = false;
    let crashes = 0;
    for (let crashAt = 1; !finished; crashAt++) {
      const dir = dirs.make();
      cpSync(base.dir, dir, { recursive: true });
      const layer = new CrashingLayer(crashAt);
      try {
        mergeOnce(layer, dir, root!, 0, kind);
        finished = true;
      } catch (error) {
        if (!(error instanceof Crash)) throw error;
        crashes++;
      } finally {
        layer.closeAll();
      }
      const db = await open({ ...small, dir, merges: false });
      assert.is(contentHash(db), expected, `crash at change ${crashAt}: contents`);
      await db.checkpoint();
      const holding = (await db.checkpointFiles()).filter(
        (f) => f.kind === 'data' && (f.state === CfpState.ACTIVE || f.state === CfpState.UNDER_CONSTRUCTION),
      );
      await db.close();
      assertNoOrphans(dir, `crash at change ${crashAt}`);
      if (finished) assert.ok(holding.length < before, `the finished merge left ${holding.length} pairs of ${before}`);
    }
    assert.ok(crashes >= 15, `${crashes} crash points covered`);
  });
}

for (const kind of BASES) {
  test(`${kind}: tombstones that reach the sources while a merge runs are carried into the targets: those rows stay deleted, at every crash point too`, async () => {
    const base = await baseDirectory(kind);
    const { root } = readNewestRoot(new NodeFileLayer(), base.dir);
    const baseRows = new Map<string, string>();
    {
      const db = await open({ ...small, dir: base.dir, merges: false });
      for (const r of db.table('items').scan()) baseRows.set(String(r.id), JSON.stringify(r));
      await db.close();
    }
    let finished = false;
    for (let crashAt = 1; !finished; crashAt += 3) {
      const dir = dirs.make();
      cpSync(base.dir, dir, { recursive: true });
      const layer = new CrashingLayer(crashAt);
      let deleted = 0;
      try {
        deleted = mergeOnce(layer, dir, root!, 25, kind).length;
        finished = true;
      } catch (error) {
        if (!(error instanceof Crash)) throw error;
      } finally {
        layer.closeAll();
      }
      // Recovery checks every tombstone against a row of its pair's data file and every count against the root.
      const db = await open({ ...small, dir, merges: false });
      const rows = db.table('items').scan();
      for (const r of rows)
        assert.is(JSON.stringify(r), baseRows.get(String(r.id)), `crash at change ${crashAt}: row ${r.id} as it was`);
      if (finished) {
        assert.is(deleted, 25);
        assert.is(rows.length, baseRows.size - 25, 'the 25 rows deleted during the merge stay deleted');
        const before = new Set(root!.cfps.map((c) => c.id));
        const targets = (await db.checkpointFiles()).filter(
          (f) => f.kind === 'delta' && f.state === CfpState.ACTIVE && !before.has(f.pairId!),
        );
        assert.is(targets.length, kind === 'three into two' ? 2 : 1, 'the merge made its targets');
        assert.is(
          targets.reduce((sum, f) => sum + f.tombstones!, 0),
          25,
          "the targets' delta files hold the 25 carried tombstones",
        );
        if (kind === 'three into two')
          assert.ok(
            targets.every((f) => f.tombstones! > 0),
            'each target holds the tombstones of its own rows',
          );
      } else {
        assert.ok(
          rows.length === baseRows.size || rows.length === baseRows.size - 25,
          `crash at change ${crashAt}: ${rows.length} rows`,
        );
      }
      await db.close();
    }
  });
}

test.run();
