/**
 * Recovering a database directory at open, on the main thread: find the
 * newest root that verifies, load its checkpoint (root file → pairs), replay
 * the WAL after it, and remove the files made after the last checkpoint.
 * durable_log.ts then starts the log writer where the log ends and the
 * streamer where the checkpoint ends.
 */
import { removeLeftovers } from '../checkpoint/leftovers.js';
import { readNewestRoot, type NewestRoot, type RootBody } from '../checkpoint/root_format.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { FileLayer } from '../files/file_layer.js';
import { visitRecord } from '../log/record.js';
import { Replayer } from '../log/replay.js';
import { replayWal, type WalPosition } from '../log/wal_reader.js';
import type { FilledOptions } from '../options.js';
import type { Engine } from '../txn/engine.js';
import { loadCheckpoint, type CheckpointLoad } from './load_checkpoint.js';
import { ProgressReporter } from './progress.js';

export interface RecoveryReport {
  /** The root file loaded (null: none), its checkpoint commitTs, and what its CFPs gave. */
  root: string | null;
  checkpointTs: number;
  checkpoint: CheckpointLoad | null;
  /** Newer root files skipped because they did not verify, with the reason (also emitted as warnings). */
  skippedRoots: Array<{ file: string; reason: string }>;
  /** Files made after the last checkpoint and removed (they held nothing a root names). */
  removedFiles: string[];
  /** Log records replayed after the checkpoint, and the bytes of their batches. */
  records: number;
  bytes: number;
  segments: number;
  /** Where a torn tail (a crash in the middle of a write) was cut, if one was. */
  tornTail: { file: string; offset: number } | null;
  /** Time to replay the WAL after the checkpoint, and the whole open (checkpoint, WAL, leftovers). */
  walMs: number;
  durationMs: number;
}

/** What recovery reads of the options. */
export type RecoverOptions = Pick<FilledOptions, 'recoveryWorkers' | 'onProgress'> & {
  readonly dir: string;
  /** Change no file: leftovers stay where they are (a read-only open). */
  readonly readOnly?: boolean;
};

/** The directory as recovered: the report, where the WAL ends, and the root it started from. */
export interface Recovered {
  recovery: RecoveryReport;
  position: WalPosition;
  root: RootBody | null;
}

/** The newest root that verifies (null root: a new database); CORRUPT when root files exist and none verifies. */
export function newestRootOf(layer: FileLayer, dir: string): NewestRoot {
  const newest = readNewestRoot(layer, dir);
  if (newest.root === null && newest.skipped.length > 0) {
    // Root files exist but none verifies: opening as a new database would remove every pair file.
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `no root file verifies, so the checkpoint cannot be found: ${newest.skipped.map((s) => s.reason).join('; ')}`,
    );
  }
  for (const s of newest.skipped)
    process.emitWarning(`skipped root file ${s.file}: ${s.reason}`, { code: 'TIDEMARK_ROOT_SKIPPED' });
  return newest;
}

/** Loads the checkpoint `newest` names into `engine`, replays the WAL after it, and removes the leftovers. */
export async function recoverDir(
  engine: Engine,
  options: RecoverOptions,
  layer: FileLayer,
  newest: NewestRoot,
): Promise<Recovered> {
  const started = performance.now();
  const progress = new ProgressReporter(options.onProgress);
  const root = newest.root;
  const checkpoint =
    root === null
      ? null
      : await loadCheckpoint(engine, options.dir, root, { layer, workers: options.recoveryWorkers, progress });
  if (root !== null) engine.advanceClock(root.checkpointTs);
  const start = root === null ? null : { ...root.wal, afterTs: root.checkpointTs, databaseId: BigInt(root.databaseId) };
  const walStarted = performance.now();
  const replayer = new Replayer(engine);
  const report = (phase: 'wal' | 'done', bytes: number, totalBytes: number, workers: number, force: boolean): void =>
    progress.report(
      () => ({ dir: options.dir, phase, bytes, totalBytes, rows: replayer.records, cfps: [], workers }),
      force,
    );
  report('wal', 0, 0, 0, true);
  let recordBytes = 0;
  const position = replayWal(
    layer,
    options.dir,
    (bytes, offset, length, where, view) => {
      replayer.where = where;
      visitRecord(bytes, offset, length, replayer, where, view);
      recordBytes += length;
      if ((replayer.records & 1023) === 0) report('wal', recordBytes, 0, 0, false);
    },
    start,
  );
  const removedFiles = options.readOnly === true ? [] : removeLeftovers(layer, options.dir, root);
  engine.recovered();
  const recovery: RecoveryReport = {
    root: newest.file,
    checkpointTs: root?.checkpointTs ?? 0,
    checkpoint,
    skippedRoots: newest.skipped,
    removedFiles,
    records: replayer.records,
    bytes: position.bytesReplayed,
    segments: position.segments,
    tornTail: position.tornTail,
    walMs: performance.now() - walStarted,
    durationMs: performance.now() - started,
  };
  report('done', position.bytesReplayed, position.bytesReplayed, checkpoint?.workers ?? 0, true);
  return { recovery, position, root };
}
