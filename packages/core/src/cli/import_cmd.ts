/**
 * `tidemark import <dir> <table> <file> [--format ndjson|csv] [--schema FILE] [--upsert] [--batch N]`:
 * streams rows from NDJSON or CSV (with a header row) into the table, in
 * transactions of `--batch` rows, with progress by bytes read. `--schema`
 * creates the table from a JSON table definition when it does not exist.
 *
 * A bad row (a value of the wrong type, a duplicate key without --upsert)
 * stops the import with the line it is on: its batch is not written, the
 * batches before it are (and durable), and the message says how many rows
 * that is.
 */
import { parse } from 'csv-parse';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { open } from '../database.js';
import { isTidemarkError } from '../errors.js';
import type { Row, TableDef } from '../schema/types.js';
import { CliError, num, type Io } from './output.js';
import { progressFor } from './progress.js';
import { rowFromCsv, rowFromJsonLine } from './values.js';

const DEFAULT_BATCH = 10_000;
/** Batches between two flushes: bounds what waits in the log ring. */
const FLUSH_EVERY_BATCHES = 8;

export interface ImportOptions {
  format?: string;
  schema?: string;
  upsert?: boolean;
  batch?: string;
}

function formatOf(file: string, option: string | undefined): 'ndjson' | 'csv' {
  const format = option ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
  if (format !== 'ndjson' && format !== 'csv') throw new CliError(`--format must be ndjson or csv, not "${format}"`, 'TM_INVALID_OPTION');
  return format;
}

function readSchema(path: string): TableDef {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as TableDef;
  } catch (error) {
    throw new CliError(`cannot read the table definition ${path}: ${(error as Error).message}`, 'TM_INVALID_SCHEMA');
  }
}

/** Records of the file, each with the line it starts on, as text (NDJSON) or header-keyed fields (CSV). */
async function* records(file: string, format: 'ndjson' | 'csv', onBytes: (n: number) => void): AsyncGenerator<{ line: number; value: string | Record<string, string> }> {
  const input = createReadStream(file);
  input.on('data', (chunk) => onBytes(chunk.length));
  if (format === 'ndjson') {
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (text.trim() !== '') yield { line, value: text };
    }
    return;
  }
  const parser = input.pipe(parse({ columns: true, skip_empty_lines: true, info: true }));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      yield { line: info.lines, value: record };
    }
  } catch (error) {
    // csv-parse's errors (an unclosed quote, a record with the wrong number of fields) carry their line.
    const lines = (error as { lines?: number }).lines;
    throw new CliError(`${file}${lines === undefined ? '' : ` line ${num(lines)}`}: not CSV as expected: ${(error as Error).message}`, 'TM_SCHEMA_VIOLATION');
  }
}

export async function runImport(dir: string, tableName: string, file: string, options: ImportOptions, io: Io): Promise<number> {
  const format = formatOf(file, options.format);
  const batchRows = options.batch === undefined ? DEFAULT_BATCH : Number(options.batch);
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 1_000_000) throw new CliError(`--batch must be an integer from 1 to 1,000,000, not "${options.batch}"`, 'TM_INVALID_OPTION');
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, 'TM_IO_ERROR');
  }
  const definition = options.schema === undefined ? null : readSchema(options.schema);
  if (definition !== null && definition.name !== tableName) throw new CliError(`the definition in ${options.schema} is of table "${String(definition.name)}", not "${tableName}"`, 'TM_INVALID_SCHEMA');
  const db = await open({ dir });
  const progress = progressFor(io);
  let imported = 0;
  try {
    if (definition !== null && !db.tableNames().includes(tableName)) db.createTable(definition);
    const table = db.table(tableName);
    const bar = progress.bar(`import ${tableName}`, size, 'bytes');
    let read = 0;
    let batch: Row[] = [];
    let firstLine = 0;
    let batches = 0;
    const commit = async (): Promise<void> => {
      const rows = batch;
      batch = [];
      try {
        db.transactionSync((tx) => {
          for (const row of rows) (options.upsert === true ? tx.upsert : tx.insert).call(tx, tableName, row);
        }, { durability: 'delayed' });
      } catch (error) {
        if (isTidemarkError(error)) throw new CliError(`in the batch from line ${num(firstLine)}: ${error.message}`, error.code);
        throw error;
      }
      imported += rows.length;
      if (++batches % FLUSH_EVERY_BATCHES === 0) await db.flush();
    };
    for await (const { line, value } of records(file, format, (n) => bar.update((read += n)))) {
      if (batch.length === 0) firstLine = line;
      try {
        batch.push(typeof value === 'string' ? rowFromJsonLine(table.schema, value) : rowFromCsv(table.schema, value));
      } catch (error) {
        if (error instanceof CliError) throw new CliError(`${file} line ${num(line)}: ${error.message}`, error.code);
        throw error;
      }
      if (batch.length >= batchRows) await commit();
    }
    if (batch.length > 0) await commit();
    await db.flush();
    bar.done();
    progress.stop();
    io.err(`imported ${num(imported)} rows into ${tableName} (${num(table.size)} rows now)`);
    return 0;
  } catch (error) {
    progress.stop();
    if (error instanceof CliError) {
      await db.flush().catch(() => {});
      throw new CliError(`${error.message} (import stopped: ${num(imported)} rows before that batch are imported and durable)`, error.code);
    }
    throw error;
  } finally {
    await db.close();
  }
}
