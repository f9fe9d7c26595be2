/**
 * A consistent read of a database that a live process may own, for the
 * commands that read rows (export, schema): with no LOCK file (no process
 * has it open) the directory is opened read-only as it is; with one, a
 * backup (backup/backup.ts) is taken beside the owner into a temporary
 * directory next to it (so closed data files can be hard-linked), opened
 * read-only, and removed when the command is done. Nothing in the
 * database's own directory is created or changed either way.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { backupDirectory } from '../backup/backup.js';
import { inlineBackupRunner } from '../backup/backup_runner.js';
import { DEFAULT_BACKUP_BYTES_PER_SECOND } from '../backup/db_backup.js';
import { open, type Database } from '../database.js';
import { existingDatabase } from './output.js';

function tempNear(dir: string): string {
  try {
    return mkdtempSync(join(dirname(resolve(dir)), '.tidemark-snapshot-'));
  } catch {
    return mkdtempSync(join(tmpdir(), 'tidemark-snapshot-'));
  }
}

/** Runs `fn` on a read-only view of `dir` as of one commit. */
export async function withSnapshot<T>(dir: string, fn: (db: Database) => Promise<T>): Promise<T> {
  existingDatabase(dir);
  let copy: string | null = null;
  if (existsSync(join(dir, 'LOCK'))) {
    copy = tempNear(dir);
    await backupDirectory(dir, copy, {
      until: { commitTs: Number.POSITIVE_INFINITY },
      runner: inlineBackupRunner(0o600),
      bytesPerSecond: DEFAULT_BACKUP_BYTES_PER_SECOND,
    });
  }
  try {
    const db = await open({ dir: copy ?? dir, readOnly: true });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  } finally {
    if (copy !== null) rmSync(copy, { recursive: true, force: true });
  }
}
