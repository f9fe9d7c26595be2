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
import { readNewestRoot, type RootBody } from '../src/checkpoint/root_format.js';
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
const small: OpenOptions = { tables: [items], dataFileSizeBytes: FILE_BYTES, walSegmentBytes: 64 * KiB, checkpointWalBytes: 128 * KiB, durability: 'delayed' };

const dirs = tempDirs('tidemark-merge-');
test.after(dirs.cleanup);

type Row = { id: number; label: string; qty: number };
type Model = Map<number, Row>;

async function modelHash(model: Model): Promise<string> {
  const db = await open({ tables: [items] });
  for (const row of model.values()) db.table('items').insert(row);
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
          db.table('items').delete(id);
          model.delete(id);
        } else {
          const row = { id, label: `${round}:${i}:`.padEnd(60 + random(200), '-'), qty: round * i };
          db.table('items').upsert(row);
          model.set(id, row);
        }
      }
      const action = random(4);
      if (action === 0) await db.merge();
      if (action === 1 || round === 29) {
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
    assert.ok(written >= 8 * diskBytes(dir), `the run wrote ${written} bytes to pairs, far more than the ${diskBytes(dir)} on disk`);
    assert.ok(merges >= 3, `${merges} merges`);
    assertNoOrphans(dir, 'after the run');
  });
}

/** A directory closed cleanly with many pairs, most rows of the older ones deleted; and its model. */
async function baseDirectory(): Promise<{ dir: string; model: Model }> {
  const dir = dirs.make();
  const model: Model = new Map();
  const db = await open({ ...small, dir, merges: false });
  for (let id = 0; id < 3000; id++) {
    const row = { id, label: `row ${id}`.padEnd(80, '.'), qty: id };
    db.table('items').insert(row);
    model.set(id, row);
  }
  await db.checkpoint();
  for (let id = 0; id < 2000; id++) {
    if (id % 7 === 0) continue;
    db.table('items').delete(id);
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
function mergeOnce(layer: FileLayer, dir: string, root: RootBody, deletesDuringMerge: number): number[] {
  const writer = new CheckpointWriter(layer, { dir, databaseId: BigInt(root.databaseId), dataFileSizeBytes: FILE_BYTES, precreatedFiles: 1 }, root);
  try {
    const ids = writer.planMerge({ targetBytes: FILE_BYTES, deadFraction: 0.5 });
    assert.ok(ids !== null && ids.length >= 2, 'the policy finds a run of pairs to merge');
    const task = writer.beginMerge(ids!);
    // Deletes of rows the merge is copying, arriving while it runs (at commitTs past the checkpoint).
    const deleted: number[] = [];
    const reader = new NodeFileLayer();
    for (const source of task.sources) {
      scanCfp(reader, dir, source, BigInt(root.databaseId), {
        row: (_t, versionId) => {
          if (deleted.length < deletesDuringMerge && versionId % 3 === 0) deleted.push(versionId);
        },
        blockEnd: () => {},
      });
    }
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

test('a crash after any file operation of a merge, its install or the deletion of its sources: old or new files in force, nothing lost or resurrected, no orphans after the next checkpoint', async () => {
  const base = await baseDirectory();
  const expected = await modelHash(base.model);
  const { root } = readNewestRoot(new NodeFileLayer(), base.dir);
  const before = root!.cfps.filter((c) => c.state === CfpState.ACTIVE).length;
  let finished = false;
  let crashes = 0;
  for (let crashAt = 1; !finished; crashAt++) {
    const dir = dirs.make();
    cpSync(base.dir, dir, { recursive: true });
    const layer = new CrashingLayer(crashAt);
    try {
      mergeOnce(layer, dir, root!, 0);
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
    const holding = (await db.checkpointFiles()).filter((f) => f.kind === 'data' && (f.state === CfpState.ACTIVE || f.state === CfpState.UNDER_CONSTRUCTION));
    await db.close();
    assertNoOrphans(dir, `crash at change ${crashAt}`);
    if (finished) assert.ok(holding.length < before, `the finished merge left ${holding.length} pairs of ${before}`);
  }
  assert.ok(crashes >= 15, `${crashes} crash points covered`);
});

test('tombstones that reach the sources while a merge runs are carried into the target: those rows stay deleted, at every crash point too', async () => {
  const base = await baseDirectory();
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
      deleted = mergeOnce(layer, dir, root!, 25).length;
      finished = true;
    } catch (error) {
      if (!(error instanceof Crash)) throw error;
    } finally {
      layer.closeAll();
    }
    // Recovery checks every tombstone against a row of its pair's data file and every count against the root.
    const db = await open({ ...small, dir, merges: false });
    const rows = db.table('items').scan();
    for (const r of rows) assert.is(JSON.stringify(r), baseRows.get(String(r.id)), `crash at change ${crashAt}: row ${r.id} as it was`);
    if (finished) {
      assert.is(deleted, 25);
      assert.is(rows.length, baseRows.size - 25, 'the 25 rows deleted during the merge stay deleted');
      const target = (await db.checkpointFiles()).find((f) => f.kind === 'delta' && f.tombstones === 25);
      assert.ok(target !== undefined, "the target's delta file holds the 25 carried tombstones");
    } else {
      assert.ok(rows.length === baseRows.size || rows.length === baseRows.size - 25, `crash at change ${crashAt}: ${rows.length} rows`);
    }
    await db.close();
  }
});

test('massive deletions: after deleting 90% of the rows and merging, recovery reads about the surviving data', async () => {
  const dir = dirs.make();
  let db = await open({ ...small, dir, merges: false });
  const N = 10_000;
  for (let from = 0; from < N; from += 200) {
    db.transactionSync((tx) => {
      for (let id = from; id < from + 200; id++) tx.insert('items', { id, label: `row ${id}`.padEnd(100, '.'), qty: id });
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
  db = await open({ ...small, dir });
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
  assert.ok(merged.bytes <= 0.2 * unmerged.bytes, `recovery read ${merged.bytes} bytes after the merge, ${unmerged.bytes} before`);
  // The pair still being written is never merged: its tombstones are still read.
  assert.ok(merged.skipped <= 0.05 * N, `recovery skipped ${merged.skipped} deleted rows after the merge (${unmerged.skipped} before)`);
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
  for (const [key, value] of [['merges', 'yes'], ['mergeDeadFraction', 0], ['mergeDeadFraction', 1.5], ['mergeIntervalMs', -1], ['cleaner', 1], ['cleanerLiveFraction', 0.99]] as const) {
    await rejectsWith(() => open({ [key]: value } as OpenOptions), ErrorCode.INVALID_OPTION, `options.${key}`);
  }
});

test.run();
