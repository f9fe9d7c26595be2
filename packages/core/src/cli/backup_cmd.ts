/**
 * `tidemark backup <dir> <dest>`: a consistent copy of a database that
 * another process may be writing, taken without its LOCK (backup/backup.ts):
 * what the newest root names, then the WAL up to its last complete batch.
 * `tidemark restore <backup> <dest> [--to <commitTs>]`: a database directory
 * made from a backup, its WAL replayed only up to the commit asked for (by
 * default all of it). Both print the commitTs the copy holds.
 */
import { newestRootOf } from '../recovery/recover_dir.js';
import { NodeFileLayer } from '../files/file_layer.js';
import { backupDirectory, type BackupResult } from '../backup/backup.js';
import { inlineBackupRunner } from '../backup/backup_runner.js';
import { CliError, existingDatabase, num, type Io } from './output.js';
import { progressFor } from './progress.js';

async function copy(src: string, dest: string, upTo: number, label: string, io: Io): Promise<BackupResult> {
  const bar = progressFor(io).bar(label, 1, 'files');
  const result = await backupDirectory(src, dest, {
    upTo,
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

export async function runBackup(dir: string, dest: string, io: Io): Promise<number> {
  const result = await copy(existingDatabase(dir), dest, Number.POSITIVE_INFINITY, 'backup', io);
  return report('backup', dest, result, io);
}

export async function runRestore(backup: string, dest: string, options: { to?: number }, io: Io): Promise<number> {
  const to = options.to ?? Number.POSITIVE_INFINITY;
  const root = newestRootOf(new NodeFileLayer(), existingDatabase(backup)).root;
  if (root !== null && to < root.checkpointTs)
    throw new CliError(
      `the backup begins at commitTs ${root.checkpointTs}, after --to ${to}: restoring to an earlier commit needs an earlier backup`,
      'TM_INVALID_OPTION',
    );
  const result = await copy(backup, dest, to, 'restore', io);
  return report('restored', dest, result, io);
}
