/**
 * A backup: a consistent copy of a database directory as of one commitTs,
 * taken beside the process that writes it (which keeps committing):
 *
 *   plan    the newest root: the pairs it loads (closed data files linked,
 *           the valid prefix of the rest copied) and the WAL from its
 *           position on, segment by segment
 *   copy    each step (copy_step.ts), on a worker in-process, in the CLI's own
 *           process otherwise; a file gone or recycled starts again (bounded)
 *   finish  the root (the pairs it loads only), then the WAL cut after the
 *           last commit at or below `upTo` (wal_cut.ts)
 *
 * The copy is an ordinary database directory with no LOCK: open() loads it
 * with exactly the rows of the commitTs the backup resolves with, and verify
 * passes. No file of the source is written.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataFileName, deltaFileName, holdsRows } from '../checkpoint/cfp_format.js';
import { encodeRoot, rootName, type RootBody } from '../checkpoint/root_format.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { DEFAULT_FILE_MODE, dirModeOf, NodeFileLayer, writeFileDurably } from '../files/file_layer.js';
import { listSegments, type WalStart } from '../log/wal_reader.js';
import { segmentName } from '../log/wal_format.js';
import { newestRootOf } from '../recovery/recover_dir.js';
import { BackupRetry, type CopyStep } from './copy_step.js';
import { cutWal, type CutPoint } from './wal_cut.js';

export interface BackupResult {
  /** The commit the copy holds every commit up to, and nothing after. */
  commitTs: number;
  files: number;
  bytes: number;
}

export interface BackupProgress {
  files: number;
  totalFiles: number;
  bytes: number;
}

/** Where the steps run: a worker pool in-process, inline in the CLI. */
export interface BackupRunner {
  step(step: CopyStep): Promise<number>;
  finish(task: FinishTask): Promise<number>;
}

export interface FinishTask {
  dest: string;
  root: RootBody | null;
  until: CutPoint;
  fileMode: number;
}

/** Tries before a backup of a directory that keeps changing under it gives up. */
const ATTEMPTS = 5;

interface Plan {
  root: RootBody | null;
  steps: CopyStep[];
}

/** Plans the copy of `src` into `dest`; WAL segments an `archive` holds are taken from it (whole, sealed). */
function plan(src: string, dest: string, archive: string | undefined, pace: number): Plan {
  const layer = new NodeFileLayer();
  const root = newestRootOf(layer, src).root;
  const steps: CopyStep[] = [];
  for (const cfp of root?.cfps ?? []) {
    if (!holdsRows(cfp.state)) continue;
    const data = join(src, dataFileName(cfp.id));
    let size: number;
    try {
      size = statSync(data).size;
    } catch {
      throw new BackupRetry(`${data} is gone`);
    }
    const link = cfp.state === 'ACTIVE';
    const to = join(dest, dataFileName(cfp.id));
    steps.push({ kind: 'pair', from: data, to, length: cfp.dataLength, size, link, pace });
    const delta = deltaFileName(cfp.id);
    steps.push({
      kind: 'pair',
      from: join(src, delta),
      to: join(dest, delta),
      length: cfp.deltaLength,
      size: cfp.deltaLength,
      link: false,
      pace,
    });
  }
  const archived = new Set(archive === undefined ? [] : listSegments(layer, archive));
  const first = root?.wal.seq ?? Math.min(listSegments(layer, src)[0] ?? 0, ...archived);
  for (let seq = first; ; seq++) {
    const name = segmentName(seq);
    const from = archived.has(seq) ? join(archive!, name) : join(src, name);
    if (!archived.has(seq) && !existsSync(from)) break;
    steps.push({ kind: 'segment', from, to: join(dest, name), seq, pace });
  }
  return { root, steps };
}

/** Writes the copy's root and cuts its WAL after `upTo`; returns the commitTs it holds. */
export function finishBackup(task: FinishTask): number {
  const layer = new NodeFileLayer(task.fileMode);
  const { root, dest } = task;
  let start: WalStart | null = null;
  if (root !== null) {
    const body: RootBody = { ...root, cfps: root.cfps.filter((c) => holdsRows(c.state)) };
    writeFileDurably(layer, dest, rootName(root.seq), encodeRoot(body));
    start = { ...root.wal, afterTs: root.checkpointTs, databaseId: BigInt(root.databaseId) };
  }
  const commitTs = cutWal(layer, dest, start, task.until);
  layer.fsyncDir(dest);
  return commitTs;
}

/** A new or empty directory for the copy; INVALID_OPTION otherwise. */
function prepareDest(dest: string, fileMode: number): void {
  if (existsSync(dest) && readdirSync(dest).length > 0)
    throw new TidemarkError(ErrorCode.INVALID_OPTION, `the backup's destination ${dest} is not empty`);
  mkdirSync(dest, { recursive: true, mode: dirModeOf(fileMode) });
}

/** Copies `src` into `dest` (new or empty) as of the newest commit `until` keeps (wal_cut.ts). */
export async function backupDirectory(
  src: string,
  dest: string,
  options: {
    until: CutPoint;
    runner: BackupRunner;
    fileMode?: number;
    onProgress?: (p: BackupProgress) => void;
    /** A WAL archive (options.archiveDir) whose segments continue the log of `src`. */
    archive?: string;
    /** Bytes a second the copies may read and write at most (default: no limit). */
    bytesPerSecond?: number;
  },
): Promise<BackupResult> {
  const fileMode = options.fileMode ?? DEFAULT_FILE_MODE;
  prepareDest(dest, fileMode);
  for (let attempt = 1; ; attempt++) {
    try {
      const { root, steps } = plan(src, dest, options.archive, options.bytesPerSecond ?? Number.POSITIVE_INFINITY);
      let bytes = 0;
      for (const [i, step] of steps.entries()) {
        bytes += await options.runner.step(step);
        options.onProgress?.({ files: i + 1, totalFiles: steps.length, bytes });
      }
      const commitTs = await options.runner.finish({ dest, root, until: options.until, fileMode });
      return { commitTs, files: readdirSync(dest).length, bytes };
    } catch (error) {
      if (!(error instanceof BackupRetry)) throw error;
      for (const name of readdirSync(dest)) rmSync(join(dest, name), { force: true, recursive: true });
      if (attempt === ATTEMPTS)
        throw new TidemarkError(
          ErrorCode.IO_ERROR,
          `${src} changed under the backup ${ATTEMPTS} times in a row (last: ${error.message}); nothing consistent was copied`,
        );
    }
  }
}
