/**
 * `tidemark import <dir> <table> <file> [--format ndjson|csv] [--schema FILE] [--upsert] [--batch N]`:
 * streams rows from NDJSON or CSV (with a header row) into the table, in
 * transactions of `--batch` rows, with progress by bytes read (import_rows.ts).
 * `--schema` creates the table from a JSON table definition (or the array
 * `tidemark schema` prints) when it does not exist; a new database needs it.
 *
 * Everything that can be checked before the database is opened is checked
 * first (the options, the input file, the definition), so a mistake makes
 * nothing. An import into a new database (a path that did not exist, or an
 * empty directory) that fails removes what it made: the import is whole or
 * nothing there. Into an existing database, a bad row stops the import with
 * its file and line: its batch is not written, the batches before it are
 * (and durable), and the message says how many rows that is.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { whyNoDatabase } from '../database_dir.js';
import { open, type Database } from '../database.js';
import { CliErrorCode, ErrorCode, isTidemarkError, TidemarkError } from '../errors.js';
import { NodeFileLayer } from '../files/file_layer.js';
import { definitionFromJson } from '../schema/definition_json.js';
import { defineTable } from '../schema/schema.js';
import type { TableDef } from '../schema/types.js';
import { UsageError } from './arguments.js';
import { importRows, ImportStopped } from './import_rows.js';
import { CliError, num, type Io } from './output.js';
import { progressFor } from './progress.js';

const DEFAULT_BATCH = 10_000;

export interface ImportOptions {
  format?: 'ndjson' | 'csv';
  schema?: string;
  upsert?: boolean;
  batch?: number;
}

/**
 * The definition in `path` (one definition, or an array of them as `tidemark
 * schema` prints, of which the table's is taken), checked as createTable()
 * would check it.
 */
function readSchema(path: string, tableName: string): TableDef {
  let definition: TableDef;
  try {
    const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
    const named = Array.isArray(json) ? json.find((d) => (d as TableDef | null)?.name === tableName) : json;
    if (named === undefined) throw new Error(`it holds no definition of table "${tableName}"`);
    definition = definitionFromJson(named);
  } catch (error) {
    throw new CliError(`cannot read the table definition ${path}: ${(error as Error).message}`, 'TM_INVALID_SCHEMA');
  }
  try {
    defineTable(definition);
  } catch (error) {
    throw new CliError(
      `${path}: ${(error as Error).message}`,
      isTidemarkError(error) ? error.code : ErrorCode.INVALID_SCHEMA,
    );
  }
  if (definition.name !== tableName)
    throw new CliError(
      `the definition in ${path} is of table "${String(definition.name)}", not "${tableName}"`,
      'TM_INVALID_SCHEMA',
    );
  return definition;
}

/** What `dir` is before the import: a database, or a place for a new one (and what to remove if the import fails). */
function targetOf(dir: string): 'database' | 'new-dir' | 'empty-dir' {
  const why = whyNoDatabase(new NodeFileLayer(), dir);
  if (why === null) return 'database';
  if (why.endsWith('no such directory')) return 'new-dir';
  if (statSync(dir).isDirectory() && readdirSync(dir).length === 0) return 'empty-dir';
  throw new CliError(`${why}; import makes a new database only in a new or empty directory`, CliErrorCode.NO_DATABASE);
}

/** Removes what a failed import made: the directory it created, or everything in the empty one it was given. */
function removeMade(dir: string, target: 'new-dir' | 'empty-dir'): void {
  if (target === 'new-dir') rmSync(dir, { recursive: true, force: true });
  else for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

export async function runImport(
  dir: string,
  tableName: string,
  file: string,
  options: ImportOptions,
  io: Io,
): Promise<number> {
  const format = options.format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, 'TM_IO_ERROR');
  }
  const definition = options.schema === undefined ? null : readSchema(options.schema, tableName);
  const target = targetOf(dir);
  if (target !== 'database' && definition === null)
    throw new UsageError(
      `${dir} holds no database yet: --schema FILE is needed to create table "${tableName}" in a new one`,
    );
  let db: Database;
  try {
    db = await open({ dir });
  } catch (error) {
    if (target !== 'database') removeMade(dir, target);
    throw error;
  }
  const progress = progressFor(io);
  let failed = true;
  try {
    if (!db.tableNames().includes(tableName)) {
      if (definition === null)
        throw new UsageError(`${dir} has no table "${tableName}": --schema FILE is needed to create it`);
      db.createTable(definition);
    }
    const bar = progress.bar(`import ${tableName}`, size, 'bytes');
    const imported = await importRows(db, {
      file,
      format,
      tableName,
      batchRows: options.batch ?? DEFAULT_BATCH,
      upsert: options.upsert === true,
      onBytes: (n) => bar.update(n),
    });
    bar.done();
    progress.stop();
    io.err(`imported ${num(imported)} rows into ${tableName} (${num(db.table(tableName).size)} rows now)`);
    failed = false;
    return 0;
  } catch (error) {
    progress.stop();
    throw target === 'database' ? stopped(error) : removed(error, dir);
  } finally {
    await closeAfter(db, failed && target !== 'database' ? target : null, dir);
  }
}

function stopped(error: unknown): unknown {
  if (!(error instanceof ImportStopped)) return error;
  return new CliError(
    `${error.message} (import stopped: ${num(error.imported)} rows before that batch are imported and durable)`,
    error.code,
  );
}

function removed(error: unknown, dir: string): unknown {
  if (!(error instanceof CliError) && !(error instanceof TidemarkError)) return error;
  const message = `${error.message} (nothing imported: the new database at ${dir} is removed)`;
  return error instanceof UsageError ? new UsageError(message) : new CliError(message, error.code);
}

/** Closes the database; after a failed import into a new one, removes what it made. */
async function closeAfter(db: Database, remove: 'new-dir' | 'empty-dir' | null, dir: string): Promise<void> {
  await db.close();
  if (remove !== null) removeMade(dir, remove);
}
