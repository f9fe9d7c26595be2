/**
 * The reading side of `tidemark import`: records of an NDJSON or CSV file,
 * each with the line it starts on, turned into rows of the table and
 * written in transactions of `batchRows` rows. A row the engine refuses
 * (a duplicate key, a value that does not fit) is reported with the file
 * and the line of that row, not the batch's first line.
 */
import { parse } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Database } from '../database.js';
import { isTidemarkError } from '../errors.js';
import type { Row } from '../schema/types.js';
import { CliError, num } from './output.js';
import { rowFromCsv, rowFromJsonLine } from './values.js';

/** Batches between two flushes: bounds what waits in the log ring. */
const FLUSH_EVERY_BATCHES = 8;

export interface ImportPlan {
  file: string;
  format: 'ndjson' | 'csv';
  tableName: string;
  batchRows: number;
  upsert: boolean;
  /** Bytes read so far, for the progress bar. */
  onBytes(total: number): void;
}

/** Records of the file, each with the line it starts on, as text (NDJSON) or header-keyed fields (CSV). */
async function* records(
  file: string,
  format: 'ndjson' | 'csv',
  onBytes: (n: number) => void,
): AsyncGenerator<{ line: number; value: string | Record<string, string> }> {
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
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      yield { line: info.lines, value: record };
    }
  } catch (error) {
    // csv-parse's errors (an unclosed quote, a record with the wrong number of fields) carry their line.
    const lines = (error as { lines?: number }).lines;
    throw new CliError(
      `${file}${lines === undefined ? '' : ` line ${num(lines)}`}: not CSV as expected: ${(error as Error).message}`,
      'TM_SCHEMA_VIOLATION',
    );
  }
}

/**
 * Reads the file into the table; resolves with the rows written. A bad
 * row rejects with a CliError naming the file and its line, whose message
 * says how many rows before its batch were written (and made durable).
 */
export async function importRows(db: Database, plan: ImportPlan): Promise<number> {
  const table = db.table(plan.tableName);
  let imported = 0;
  let batches = 0;
  let rows: Row[] = [];
  let lines: number[] = [];
  const commit = async (): Promise<void> => {
    let at = 0;
    try {
      db.transactionSync(
        (tx) => {
          for (at = 0; at < rows.length; at++)
            (plan.upsert ? tx.upsert : tx.insert).call(tx, plan.tableName, rows[at]!);
        },
        { durability: 'delayed' },
      );
    } catch (error) {
      // `at` is the row the engine refused; past the last row, the commit itself failed.
      const where = at < rows.length ? `line ${num(lines[at])}` : `the batch from line ${num(lines[0])}`;
      if (isTidemarkError(error)) throw new CliError(`${plan.file} ${where}: ${error.message}`, error.code);
      throw error;
    }
    imported += rows.length;
    rows = [];
    lines = [];
    if (++batches % FLUSH_EVERY_BATCHES === 0) await db.flush();
  };
  let read = 0;
  try {
    for await (const { line, value } of records(plan.file, plan.format, (n) => plan.onBytes((read += n)))) {
      try {
        rows.push(typeof value === 'string' ? rowFromJsonLine(table.schema, value) : rowFromCsv(table.schema, value));
      } catch (error) {
        if (error instanceof CliError)
          throw new CliError(`${plan.file} line ${num(line)}: ${error.message}`, error.code);
        throw error;
      }
      lines.push(line);
      if (rows.length >= plan.batchRows) await commit();
    }
    if (rows.length > 0) await commit();
    await db.flush();
    return imported;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    await db.flush().catch(() => {});
    throw new ImportStopped(error, imported);
  }
}

/** A bad row stopped the import after `imported` rows (all durable). */
export class ImportStopped extends CliError {
  constructor(
    readonly reason: CliError,
    readonly imported: number,
  ) {
    super(reason.message, reason.code);
  }
}
