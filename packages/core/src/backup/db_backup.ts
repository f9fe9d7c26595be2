/**
 * db.backup(dest): every commit made before the call is made durable, a
 * checkpoint is taken (so the WAL to copy is short), and the directory is
 * copied beside the running database by backup.ts, its files on a worker.
 */
import { checkOptionKeys, type FilledOptions } from '../options.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { Engine } from '../txn/engine.js';
import { backupDirectory, type BackupProgress, type BackupResult } from './backup.js';
import { poolBackupRunner } from './backup_runner.js';

export type { BackupProgress, BackupResult } from './backup.js';

export interface BackupOptions {
  /** Called after each file is copied. */
  onProgress?: (progress: BackupProgress) => void;
  /**
   * Bytes a second the copies may read and write at most, so the backup
   * leaves the disk to the log (default DEFAULT_BACKUP_BYTES_PER_SECOND;
   * Infinity: as fast as the disk goes).
   */
  bytesPerSecond?: number;
}

/** A backup's default pace: about a 5 M-row database's files in a few seconds, the WAL's syncs between them. */
export const DEFAULT_BACKUP_BYTES_PER_SECOND = 64 * 1024 * 1024;

const KEYS: ReadonlySet<string> = new Set(['onProgress', 'bytesPerSecond']);

/** What a backup asks of the durable log (log/durable_log.ts). */
interface BackupLog {
  readonly sink: { whenDurable(commitTs: number): Promise<number> };
  checkpoint(): Promise<unknown>;
}

export async function backupDatabase(
  engine: Engine,
  log: BackupLog,
  options: FilledOptions,
  dest: string,
  call: BackupOptions | undefined,
): Promise<BackupResult> {
  checkOptionKeys(call, KEYS);
  if (typeof dest !== 'string' || dest === '')
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'the backup destination must be a non-empty path');
  const pace = call?.bytesPerSecond ?? DEFAULT_BACKUP_BYTES_PER_SECOND;
  if (typeof pace !== 'number' || !(pace > 0))
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.bytesPerSecond must be a positive number (or Infinity)');
  if (call?.onProgress !== undefined && typeof call.onProgress !== 'function')
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.onProgress must be a function');
  const upTo = engine.loggedTs;
  await log.sink.whenDurable(upTo);
  if (options.checkpoints) await log.checkpoint();
  const runner = poolBackupRunner(options.fileMode);
  try {
    return await backupDirectory(options.dir!, dest, {
      until: { commitTs: upTo },
      runner,
      bytesPerSecond: pace,
      fileMode: options.fileMode,
      ...(call?.onProgress === undefined ? {} : { onProgress: call.onProgress }),
    });
  } finally {
    await runner.close();
  }
}
