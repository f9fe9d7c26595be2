/**
 * Merging checkpoint file pairs: random update- and delete-heavy workloads
 * with small files keep their contents (against a model) through merges and
 * restarts while the number of pairs and the bytes on disk stay bounded; a
 * crash after any file operation of a merge, its install or the deletion of
 * its sources leaves the old or the new set of files in force, never a mix,
 * with no row lost or resurrected and no orphan file after the next
 * checkpoint; tombstones that reach the sources during a merge are carried to
 * the target; after deleting 90% of the rows, recovery reads the survivors.
 */
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CfpState, ErrorCode, open, type OpenOptions, type TableDef } from '../src/index.js';
import { CheckpointWriter } from '../src/checkpoint/checkpoint_writer.js';
import { scanCfp } from '../src/checkpoint/cfp_reader.js';
import { mergeCfps } from '../src/checkpoint/merge_task.js';
import { FILE_HEADER_BYTES } from '../src/files/file_header.js';
import { readNewestRoot, type CfpEntry, type RootBody } from '../src/checkpoint/root_format.js';
import { NodeFileLayer, type FileLayer } from '../src/files/file_layer.js';
import { contentHash, makeRandom, rejectsWith, tempDirs } from './helpers/dirs.js';

const items: TableDef = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'label', type: 'string' },
    { name: 'qty', type: 'float64' },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byLabel', columns: ['label'] }],
};
const KiB = 1024;
const FILE_BYTES = 64 * KiB;
const small: OpenOptions = {
  tables: [items],
  dataFileSizeBytes: FILE_BYTES,
  walSegmentBytes: 64 * KiB,
  checkpointWalBytes: 128 * KiB,
  durability: 'delayed',
};

const dirs = tempDirs('tidemark-merge-');
test.after(dirs.cleanup);

type Row = { id: number; label: string; qty: number };
type Model = Map<number, Row>;

async function modelHash(model: Model): Promise<string> {
  const db = await open({ tables: [items] });
  for (const row of model.values()) void db.table('items').insert(row);
  const hash = contentHash(db);
  await db.close();
  return hash;
}

function cfpFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^(data|delta)-[0-9a-f]{16}$/.test(f));
}

function diskBytes(dir: string): number {
  return cfpFiles(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/** Files of the directory that the newest root names in a state that needs them: every CFP file on disk must be one. */
function assertNoOrphans(dir: string, context: string): void {
  const { root } = readNewestRoot(new NodeFileLayer(), dir);
  const named = new Set<string>();
  for (const c of root?.cfps ?? []) {
    if (c.state === CfpState.TOMBSTONE || c.state === CfpState.MERGE_TARGET) continue;
    const hex = c.id.toString(16).padStart(16, '0');
    named.add(`data-${hex}`).add(`delta-${hex}`);
  }
  const orphans = cfpFiles(dir).filter((f) => !named.has(f));
  assert.equal(orphans, [], `${context}: files no root needs`);
}

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

/**
 * The two directories the crash tests start from, each closed cleanly with
 * many pairs, and its model:
 *   - 'into one': most rows of the older pairs deleted, so a run of them fits one data file;
 *   - 'three into two': two rows in five deleted from the older pairs, so no
 *     two neighbours fit one file and none is half deleted, but three fit two.
 */
type Base = 'into one' | 'three into two';
const BASES: readonly Base[] = ['into one', 'three into two'];

async function baseDirectory(base: Base = 'into one'): Promise<{ dir: string; model: Model }> {
  const dir = dirs.make();
  const model: Model = new Map();
  const db = await open({ ...small, dir, merges: false });
  for (let id = 0; id < 3000; id++) {
    const row = { id, label: `row ${id}`.padEnd(80, '.'), qty: id };
    void db.table('items').insert(row);
    model.set(id, row);
  }
  await db.checkpoint();
  for (let id = 0; id < 2000; id++) {
    if (base === 'into one' ? id % 7 === 0 : id % 5 >= 2) continue;
    void db.table('items').delete(id);
    model.delete(id);
  }
  await db.close();
  return { dir, model };
}

class Crash extends Error {}

/** The real file system, but the `crashAt`-th change (create, write, sync, rename, unlink) throws Crash instead, and so does every later one. */
class CrashingLayer extends NodeFileLayer {
  changes = 0;
  private readonly fds = new Set<number>();

  constructor(private readonly crashAt: number) {
    super();
  }

  private change(): void {
    if (++this.changes >= this.crashAt) throw new Crash(`crash at change ${this.changes}`);
  }

  override open(path: string, create: boolean): number {
    if (create) this.change();
    const fd = super.open(path, create);
    this.fds.add(fd);
    return fd;
  }
  override write(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number {
    this.change();
    return super.write(fd, bytes, offset, length, position);
  }
  override fdatasync(fd: number): void {
    this.change();
    super.fdatasync(fd);
  }
  override close(fd: number): void {
    this.fds.delete(fd);
    super.close(fd);
  }
  override rename(from: string, to: string): void {
    this.change();
    super.rename(from, to);
  }
  override unlink(path: string): void {
    this.change();
    super.unlink(path);
  }
  override fsyncDir(dir: string): void {
    this.change();
    super.fsyncDir(dir);
  }
  /** What a killed process leaves: its descriptors closed by the system. */
  closeAll(): void {
    for (const fd of this.fds) super.close(fd);
    this.fds.clear();
  }
}

/**
 * Drives one whole merge the way the streamer does, on this thread: plan,
 * begin, (deletes of source rows arriving meanwhile), the task, install at a
 * checkpoint, then two more checkpoints that retire the sources and delete
 * their files. Returns the versionIds deleted during the merge.
 */
function mergeOnce(layer: FileLayer, dir: string, root: RootBody, deletesDuringMerge: number, base: Base): number[] {
  const writer = new CheckpointWriter(
    layer,
    { dir, databaseId: BigInt(root.databaseId), dataFileSizeBytes: FILE_BYTES, precreatedFiles: 1 },
    root,
  );
  try {
    const plan = writer.planMerge({ targetBytes: FILE_BYTES - FILE_HEADER_BYTES, deadFraction: 0.5 });
    assert.ok(plan !== null && plan.sources.length >= 2, 'the policy finds a run of pairs to merge');
    if (base === 'three into two') assert.equal([plan!.sources.length, plan!.targets], [3, 2], 'three pairs into two');
    else assert.is(plan!.targets, 1);
    const task = writer.beginMerge(plan!);
    // Deletes of rows the merge is copying, arriving while it runs (at commitTs past the checkpoint).
    const deleted: number[] = [];
    // Live rows of the sources, spread evenly over them (so each target of a merge into two gets some).
    const live: number[] = [];
    const reader = new NodeFileLayer();
    for (const source of task.sources) {
      scanCfp(reader, dir, source, BigInt(root.databaseId), {
        row: (_t, versionId) => void live.push(versionId),
        blockEnd: () => {},
      });
    }
    for (let i = 0; i < deletesDuringMerge; i++)
      deleted.push(live[Math.floor((i * live.length) / deletesDuringMerge)]!);
    let ts = root.checkpointTs;
    for (const versionId of deleted) {
      writer.commit(++ts);
      writer.delete(0, versionId);
      writer.end(ts);
    }
    writer.finishMerge(mergeCfps(layer, task));
    for (let i = 0; i < 3; i++) writer.checkpoint(root.wal, root.walBytesStreamed);
    return deleted;
  } finally {
    writer.close();
  }
}

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
