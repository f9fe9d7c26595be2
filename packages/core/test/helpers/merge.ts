/**
 * What the merge tests share: a table of rows with long labels, options with
 * small files so that a few thousand rows make many pairs, a model to
 * compare the contents with, the two directories the crash tests start
 * from, a file layer that crashes at a chosen change, and one whole merge
 * driven on this thread.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { CfpState, open, type OpenOptions, type TableDef } from '../../src/index.js';
import { CheckpointWriter } from '../../src/checkpoint/checkpoint_writer.js';
import { scanCfp } from '../../src/checkpoint/cfp_reader.js';
import { mergeCfps } from '../../src/checkpoint/merge_task.js';
import { FILE_HEADER_BYTES } from '../../src/files/file_header.js';
import { readNewestRoot, type RootBody } from '../../src/checkpoint/root_format.js';
import { NodeFileLayer, type FileLayer } from '../../src/files/file_layer.js';
import { contentHash, tempDirs } from './dirs.js';

export const items: TableDef = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'label', type: 'string' },
    { name: 'qty', type: 'float64' },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byLabel', columns: ['label'] }],
};
export const KiB = 1024;
export const FILE_BYTES = 64 * KiB;
export const small: OpenOptions = {
  tables: [items],
  dataFileSizeBytes: FILE_BYTES,
  walSegmentBytes: 64 * KiB,
  checkpointWalBytes: 128 * KiB,
  durability: 'delayed',
};

export const dirs = tempDirs('tidemark-merge-');

export type Row = { id: number; label: string; qty: number };
export type Model = Map<number, Row>;

export async function modelHash(model: Model): Promise<string> {
  const db = await open({ tables: [items] });
  for (const row of model.values()) void db.table('items').insert(row);
  const hash = contentHash(db);
  await db.close();
  return hash;
}

export function cfpFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^(data|delta)-[0-9a-f]{16}$/.test(f));
}

export function diskBytes(dir: string): number {
  return cfpFiles(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/** Files of the directory that the newest root names in a state that needs them: every CFP file on disk must be one. */
export function assertNoOrphans(dir: string, context: string): void {
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

/**
 * The two directories the crash tests start from, each closed cleanly with
 * many pairs, and its model:
 *   - 'into one': most rows of the older pairs deleted, so a run of them fits one data file;
 *   - 'three into two': two rows in five deleted from the older pairs, so no
 *     two neighbours fit one file and none is half deleted, but three fit two.
 */
export type Base = 'into one' | 'three into two';
export const BASES: readonly Base[] = ['into one', 'three into two'];

export async function baseDirectory(base: Base = 'into one'): Promise<{ dir: string; model: Model }> {
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

export class Crash extends Error {}

/** The real file system, but the `crashAt`-th change (create, write, sync, rename, unlink) throws Crash instead, and so does every later one. */
export class CrashingLayer extends NodeFileLayer {
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
export function mergeOnce(
  layer: FileLayer,
  dir: string,
  root: RootBody,
  deletesDuringMerge: number,
  base: Base,
): number[] {
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
