/**
 * `tidemark export <dir> <table> [--out FILE]`: every row of the table as
 * NDJSON (values.ts), to FILE or standard output, with progress on standard
 * error. The rows are those of one snapshot, taken when the export starts.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { open as openFile } from 'node:fs/promises';
import { open } from '../database.js';
import { CliError, num, type Io } from './output.js';
import { progressFor } from './progress.js';
import { rowToJson } from './values.js';

/** Fails early, with the path, when the output file cannot be created. */
async function checkWritable(path: string): Promise<void> {
  try {
    await (await openFile(path, 'w')).close();
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`, 'TM_IO_ERROR');
  }
}

/** Rows between two progress updates. */
const PROGRESS_EVERY = 10_000;

export async function runExport(dir: string, tableName: string, options: { out?: string }, io: Io): Promise<number> {
  const db = await open({ dir });
  const progress = progressFor(io);
  try {
    const table = db.table(tableName);
    if (options.out !== undefined) await checkWritable(options.out);
    const rows = table.scan();
    const stream = options.out === undefined ? io.stdout : createWriteStream(options.out);
    // once() rejects on 'error', so a failed write (no such folder, disk full) ends the export with it.
    const bar = progress.bar(`export ${tableName}`, rows.length, 'rows');
    for (let i = 0; i < rows.length; i++) {
      if (!stream.write(`${rowToJson(table.schema, rows[i]!)}\n`)) await once(stream, 'drain');
      if (i % PROGRESS_EVERY === 0) bar.update(i);
    }
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
    await db.close();
  }
}
