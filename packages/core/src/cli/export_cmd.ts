/**
 * `tidemark export <dir> <table> [--out FILE]`: every row of the table as
 * NDJSON (values.ts), to FILE or standard output, with progress on standard
 * error. The rows are those of one snapshot, taken when the export starts
 * (read-only; beside a live owner, from a backup of the directory: snapshot.ts).
 */
import { createWriteStream } from 'node:fs';
import { DEFAULT_FILE_MODE } from '../files/file_layer.js';
import { once } from 'node:events';
import { open as openFile } from 'node:fs/promises';
import type { Database } from '../database.js';
import { withSnapshot } from './snapshot.js';
import { CliError, num, type Io } from './output.js';
import { progressFor } from './progress.js';
import { rowToJson } from './values.js';

/** Fails early, with the path, when the output file cannot be created; creates it the owner's only, as the database's files. */
async function checkWritable(path: string): Promise<void> {
  try {
    await (await openFile(path, 'w', DEFAULT_FILE_MODE)).close();
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`, 'TM_IO_ERROR');
  }
}

/** Rows between two progress updates. */
const PROGRESS_EVERY = 10_000;

export async function runExport(dir: string, tableName: string, options: { out?: string }, io: Io): Promise<number> {
  return withSnapshot(dir, (db) => exportTable(db, tableName, options, io));
}

async function exportTable(db: Database, tableName: string, options: { out?: string }, io: Io): Promise<number> {
  const progress = progressFor(io);
  try {
    const table = db.table(tableName);
    if (options.out !== undefined) await checkWritable(options.out);
    const rows = table.scan();
    const stream: NodeJS.WritableStream =
      options.out === undefined ? io.stdout : createWriteStream(options.out, { mode: DEFAULT_FILE_MODE });
    // A write error (disk full; standard output closed by `| head`) ends the export: once() rejects with it.
    let failure: Error | null = null;
    const onError = (error: Error): void => void (failure ??= error);
    stream.on('error', onError);
    const bar = progress.bar(`export ${tableName}`, rows.length, 'rows');
    try {
      for (let i = 0; i < rows.length && failure === null; i++) {
        if (!stream.write(`${rowToJson(table.schema, rows[i]!)}\n`)) await once(stream, 'drain');
        if (i % PROGRESS_EVERY === 0) bar.update(i);
      }
    } catch (error) {
      failure ??= error as Error;
    }
    if (failure !== null) {
      progress.stop();
      // The reader went away (`tidemark export … | head`): a normal end for a command whose output is piped.
      if ((failure as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw new CliError(
        `cannot write ${options.out ?? 'standard output'}: ${(failure as Error).message}`,
        'TM_IO_ERROR',
      );
    }
    bar.update(rows.length);
    bar.done();
    progress.stop();
    if (options.out !== undefined) {
      stream.end();
      await once(stream, 'finish');
    }
    io.err(`exported ${num(rows.length)} rows of ${tableName}${options.out === undefined ? '' : ` to ${options.out}`}`);
    return 0;
  } finally {
    progress.stop();
  }
}
