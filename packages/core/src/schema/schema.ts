/**
 * `defineTable`: turns a user's TableDef into the validated, frozen TableSchema
 * every other part of the engine trusts.
 *
 * Invariants of a TableSchema (nothing downstream re-checks them):
 * - Column, index and table names are non-empty strings of at most
 *   MAX_NAME_LENGTH characters; column names and index names are unique.
 * - Primary-key columns are distinct, non-nullable and never `json`; index
 *   columns are distinct and never `json` (JSON text has no useful order or
 *   equality for keys).
 * - A key made only of fixed-width columns always fits MAX_KEY_BYTES.
 * - A default passes the codec's own value check, and is a private copy: later
 *   changes to the object the user passed in do not reach the schema.
 */
import { MAX_COLUMNS, MAX_KEY_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { valueProblem } from './codegen.js';
import type { Column, ColumnDef, ColumnType, Index, IndexDef, IndexKind, TableDef, TableSchema } from './types.js';

/** Longest table, column or index name, in UTF-16 units. */
export const MAX_NAME_LENGTH = 128;

export const COLUMN_TYPES: ReadonlySet<string> = new Set<ColumnType>([
  'int32',
  'int64',
  'float64',
  'boolean',
  'string',
  'bytes',
  'json',
]);
export const FIXED_BYTES: Readonly<Record<ColumnType, number>> = {
  int32: 4,
  int64: 8,
  float64: 8,
  boolean: 1,
  string: 0,
  bytes: 0,
  json: 0,
};

function invalid(message: string): TidemarkError {
  return new TidemarkError(ErrorCode.INVALID_SCHEMA, message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0) throw invalid(`${what} must be a non-empty string`);
  if (name.length > MAX_NAME_LENGTH) throw invalid(`${what} is longer than ${MAX_NAME_LENGTH} characters`);
  return name;
}

export function defineTable(def: TableDef): TableSchema {
  if (!isObject(def)) throw invalid('a table definition must be an object');
  const name = checkName(def.name, 'table name');
  const where = `table "${name}"`;
  const columns = defineColumns(def.columns, where);
  const columnsByName = new Map(columns.map((c) => [c.name, c] as const));
  const primaryKey = definePrimaryKey(def.primaryKey, columnsByName, where);
  const indexes = defineIndexes(def.indexes, columnsByName, where);
  const durability = def.durability ?? 'durable';
  if (durability !== 'durable' && durability !== 'schemaOnly') {
    throw invalid(`${where}: durability must be 'durable' or 'schemaOnly'`);
  }
  const layout = Object.freeze(
    columns.map((c) =>
      Object.freeze({ name: c.name, type: c.type, nullable: c.nullable, fixedBytes: c.fixedBytes, since: 1, live: c }),
    ),
  );
  return Object.freeze({ name, columns, columnsByName, primaryKey, indexes, durability, version: 1, layout });
}

function defineColumns(defs: unknown, where: string): readonly Column[] {
  if (!Array.isArray(defs) || defs.length === 0) throw invalid(`${where}: columns must be a non-empty array`);
  if (defs.length > MAX_COLUMNS)
    throw invalid(`${where}: ${defs.length} columns, more than the limit of ${MAX_COLUMNS}`);
  const seen = new Set<string>();
  const columns = defs.map((d: unknown, index) => {
    const column = defineColumn(d, index, where);
    if (seen.has(column.name)) throw invalid(`${where}: column "${column.name}" is declared twice`);
    seen.add(column.name);
    return column;
  });
  return Object.freeze(columns);
}

function defineColumn(def: unknown, index: number, where: string): Column {
  if (!isObject(def)) throw invalid(`${where}: column ${index} must be an object`);
  const name = checkName(def.name, `${where}: the name of column ${index}`);
  // `row.__proto__` reads the prototype, not a property, so such a column could never be written.
  if (name === '__proto__') throw invalid(`${where}: "__proto__" cannot be a column name`);
  const column = `${where}: column "${name}"`;
  const type = def.type;
  if (typeof type !== 'string' || !COLUMN_TYPES.has(type)) {
    throw invalid(`${column}: type must be one of ${[...COLUMN_TYPES].join(', ')}, got ${String(type)}`);
  }
  const nullable = def.nullable ?? false;
  if (typeof nullable !== 'boolean') throw invalid(`${column}: nullable must be a boolean`);
  const resolved = { name, index, type: type as ColumnType, nullable, fixedBytes: FIXED_BYTES[type as ColumnType] };
  const hasDefault = def.default !== undefined;
  const defaultValue = hasDefault ? copyDefault(resolved, def.default as ColumnDef['default'], column) : undefined;
  return Object.freeze({ ...resolved, hasDefault, defaultValue });
}

function copyDefault(column: Pick<Column, 'type' | 'nullable'>, value: unknown, where: string): unknown {
  if (value === null) {
    if (!column.nullable) throw invalid(`${where}: default is null but the column is not nullable`);
    return null;
  }
  const problem = valueProblem(column, value);
  if (problem !== undefined) throw invalid(`${where}: default ${problem}`);
  if (column.type === 'json') return deepFreeze(JSON.parse(JSON.stringify(value)));
  if (column.type === 'bytes') return (value as Uint8Array).slice();
  return value;
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** Resolves a list of column names to distinct positions; `what` names the list in messages. */
function resolveColumns(names: unknown, byName: ReadonlyMap<string, Column>, what: string): readonly Column[] {
  if (!Array.isArray(names) || names.length === 0) throw invalid(`${what} must be a non-empty array of column names`);
  const columns: Column[] = [];
  for (const name of names as unknown[]) {
    const column = typeof name === 'string' ? byName.get(name) : undefined;
    if (column === undefined) throw invalid(`${what} names unknown column ${JSON.stringify(name)}`);
    if (columns.includes(column)) throw invalid(`${what} names column "${column.name}" twice`);
    if (column.type === 'json')
      throw invalid(`${what} names json column "${column.name}"; json columns cannot be keys`);
    columns.push(column);
  }
  // Variable-width keys are checked per row; a fixed-width one is the same size every time.
  const fixedOnly = columns.every((c) => c.fixedBytes > 0);
  const bytes = columns.reduce((sum, c) => sum + c.fixedBytes + (c.nullable ? 1 : 0), 0);
  if (fixedOnly && bytes > MAX_KEY_BYTES)
    throw invalid(`${what} is ${bytes} bytes, over the limit of ${MAX_KEY_BYTES}`);
  return columns;
}

function definePrimaryKey(names: unknown, byName: ReadonlyMap<string, Column>, where: string): readonly number[] {
  const columns = resolveColumns(names, byName, `${where}: primaryKey`);
  for (const column of columns) {
    if (column.nullable) throw invalid(`${where}: primaryKey column "${column.name}" must not be nullable`);
  }
  return Object.freeze(columns.map((c) => c.index));
}

function defineIndexes(defs: unknown, byName: ReadonlyMap<string, Column>, where: string): readonly Index[] {
  if (defs === undefined) return Object.freeze([]);
  if (!Array.isArray(defs)) throw invalid(`${where}: indexes must be an array`);
  const seen = new Set<string>();
  const indexes = defs.map((def: unknown, index) => {
    if (!isObject(def)) throw invalid(`${where}: index ${index} must be an object`);
    const name = checkName(def.name, `${where}: the name of index ${index}`);
    if (seen.has(name)) throw invalid(`${where}: index "${name}" is declared twice`);
    seen.add(name);
    return defineIndex(def as Partial<IndexDef>, name, index, byName, `${where}: index "${name}"`);
  });
  return Object.freeze(indexes);
}

function defineIndex(
  def: Partial<IndexDef>,
  name: string,
  index: number,
  byName: ReadonlyMap<string, Column>,
  where: string,
): Index {
  const columns = resolveColumns(def.columns, byName, `${where}: columns`);
  const kind: IndexKind = def.kind ?? 'hash';
  if (kind !== 'hash' && kind !== 'ordered') throw invalid(`${where}: kind must be 'hash' or 'ordered'`);
  const unique = def.unique ?? false;
  if (typeof unique !== 'boolean') throw invalid(`${where}: unique must be a boolean`);
  return Object.freeze({ name, index, kind, unique, columns: Object.freeze(columns.map((c) => c.index)) });
}
