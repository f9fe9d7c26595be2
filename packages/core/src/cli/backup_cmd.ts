/**
 * `tidemark backup <dir> <dest>`: a consistent copy of a database that
 * another process may be writing, taken without its LOCK (backup/backup.ts):
 * what the newest root names, then the WAL up to its last complete batch.
 * `tidemark restore <backup> <dest> [--to <commitTs | ISO time>]`: a
 * database directory made from a backup, its WAL replayed only up to the
 * commit asked for, or the last batch written at or before the time (by
 * default all of it); with `--archive <dir>` (options.archiveDir) the
 * archived segments after the backup continue its log, so the restore
 * reaches any commit the archive holds. Both print the commitTs the copy holds.
 */
import { newestRootOf } from '../recovery/recover_dir.js';
import { NodeFileLayer } from '../files/file_layer.js';
import { backupDirectory, type BackupResult } from '../backup/backup.js';
import { inlineBackupRunner } from '../backup/backup_runner.js';
import { DEFAULT_BACKUP_BYTES_PER_SECOND } from '../backup/db_backup.js';
import type { CutPoint } from '../backup/wal_cut.js';
import { UsageError } from './arguments.js';
import { CliError, existingDatabase, num, type Io } from './output.js';
import { progressFor } from './progress.js';

async function copy(
  src: string,
  dest: string,
  until: CutPoint,
  label: string,
  io: Io,
  archive?: string,
  bytesPerSecond = Number.POSITIVE_INFINITY,
): Promise<BackupResult> {
  const bar = progressFor(io).bar(label, 1, 'files');
  const result = await backupDirectory(src, dest, {
    until,
    bytesPerSecond,
    ...(archive === undefined ? {} : { archive }),
    runner: inlineBackupRunner(0o600),
    onProgress: (p) => bar.update(p.files, p.totalFiles),
  });
  bar.done();
  return result;
}

function report(what: string, dest: string, r: BackupResult, io: Io): number {
  io.out(`${what} ${dest}: commitTs ${r.commitTs}, ${num(r.files)} files, ${num(r.bytes)} bytes copied`);
  return 0;
}

/** `--to`: digits are a commitTs, anything else an ISO 8601 time. */
export function cutPointOption(text: string): CutPoint {
  if (/^\d+$/.test(text.trim())) {
    const commitTs = Number(text);
    if (Number.isSafeInteger(commitTs)) return { commitTs };
  }
  const time = Date.parse(text);
  if (Number.isNaN(time))
    throw new UsageError(`--to takes a commitTs or an ISO 8601 time, got ${JSON.stringify(text)}`);
  return { time };
}

export async function runBackup(dir: string, dest: string, io: Io): Promise<number> {
  // Beside a live owner: at a backup's pace, so the copies leave the disk to its log.
  const until = { commitTs: Number.POSITIVE_INFINITY };
  const result = await copy(
    existingDatabase(dir),
    dest,
    until,
    'backup',
    io,
    undefined,
    DEFAULT_BACKUP_BYTES_PER_SECOND,
  );
  return report('backup', dest, result, io);
}

export async function runRestore(
  backup: string,
  dest: string,
  options: { to?: CutPoint; archive?: string },
  io: Io,
): Promise<number> {
  const to = options.to ?? { commitTs: Number.POSITIVE_INFINITY };
  const root = newestRootOf(new NodeFileLayer(), existingDatabase(backup)).root;
  if (root !== null && 'commitTs' in to && to.commitTs < root.checkpointTs)
    throw new CliError(
      `the backup begins at commitTs ${root.checkpointTs}, after --to ${to.commitTs}: restoring to an earlier commit needs an earlier backup`,
      'TM_INVALID_OPTION',
    );
  const result = await copy(backup, dest, to, 'restore', io, options.archive);
  return report('restored', dest, result, io);
}
