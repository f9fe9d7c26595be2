/**
 * Schema changes as pure functions: each takes a table's schema and returns
 * the next version (version + 1), checked as a stored definition is
 * (schemaFromStored), or throws without changing anything. No change
 * rewrites rows: an added column is a new group at the end of the row
 * layout, a dropped one keeps its place (schema/codec.ts).
 */
import { MAX_COLUMNS } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { schemaFromStored, storedOf, type StoredDef } from './stored.js';
import type { ColumnDef, IndexDef, TableSchema } from './types.js';

function refused(message: string): TidemarkError {
  return new TidemarkError(ErrorCode.SCHEMA_CHANGE_REFUSED, message);
}

function next(schema: TableSchema, change: (def: StoredDef) => StoredDef): TableSchema {
  return schemaFromStored({ ...change(storedOf(schema)), version: schema.version + 1 });
}

function liveColumn(schema: TableSchema, name: unknown): number {
  const column = typeof name === 'string' ? schema.columnsByName.get(name) : undefined;
  if (column === undefined)
    throw new TidemarkError(ErrorCode.UNKNOWN_COLUMN, `table "${schema.name}" has no column ${JSON.stringify(name)}`);
  return column.index;
}

/** A nullable or defaulted column at the end of the table. */
export function withColumn(schema: TableSchema, def: ColumnDef): TableSchema {
  if (typeof def !== 'object' || def === null)
    throw new TidemarkError(ErrorCode.INVALID_SCHEMA, 'a column definition must be an object');
  if (typeof def.name === 'string' && schema.columnsByName.has(def.name))
    throw new TidemarkError(ErrorCode.INVALID_SCHEMA, `table "${schema.name}" already has a column "${def.name}"`);
  if (def.nullable !== true && def.default === undefined) {
    throw refused(
      `column "${String(def.name)}" added to table "${schema.name}" must be nullable or have a default: rows already there need a value`,
    );
  }
  if (schema.layout.length >= MAX_COLUMNS) {
    throw new TidemarkError(
      ErrorCode.LIMIT_EXCEEDED,
      `table "${schema.name}" holds ${MAX_COLUMNS} columns counting dropped ones; export and import it to start afresh`,
    );
  }
  return next(schema, (d) => ({ ...d, columns: [...d.columns, { ...def, since: schema.version + 1 }] }));
}

/** Drops a column that is not in the primary key or an index. */
export function withoutColumn(schema: TableSchema, name: string): TableSchema {
  const at = liveColumn(schema, name);
  if (schema.primaryKey.includes(at))
    throw refused(`column "${name}" is in the primary key of table "${schema.name}" and cannot be dropped`);
  const ix = schema.indexes.find((i) => i.columns.includes(at));
  if (ix !== undefined)
    throw refused(`column "${name}" of table "${schema.name}" is in index "${ix.name}": drop the index first`);
  const position = schema.layout.findIndex((lc) => lc.live?.index === at);
  const lc = schema.layout[position]!;
  const dropped = { name: lc.name, type: lc.type, nullable: lc.nullable, since: lc.since, position };
  return next(schema, (d) => ({
    ...d,
    columns: d.columns.filter((c) => c.name !== name),
    dropped: [...(d.dropped ?? []), dropped].sort((a, b) => a.position - b.position),
  }));
}

export function withRenamedColumn(schema: TableSchema, from: string, to: string): TableSchema {
  liveColumn(schema, from);
  if (typeof to === 'string' && schema.columnsByName.has(to))
    throw new TidemarkError(ErrorCode.INVALID_SCHEMA, `table "${schema.name}" already has a column "${to}"`);
  const rename = (n: string): string => (n === from ? to : n);
  return next(schema, (d) => ({
    ...d,
    columns: d.columns.map((c) => (c.name === from ? { ...c, name: to } : c)),
    primaryKey: d.primaryKey.map(rename),
    indexes: (d.indexes ?? []).map((ix) => ({ ...ix, columns: ix.columns.map(rename) })),
  }));
}

export function withIndex(schema: TableSchema, def: IndexDef): TableSchema {
  if (typeof def === 'object' && def !== null && schema.indexes.some((ix) => ix.name === def.name))
    throw new TidemarkError(ErrorCode.INVALID_SCHEMA, `table "${schema.name}" already has an index "${def.name}"`);
  return next(schema, (d) => ({ ...d, indexes: [...(d.indexes ?? []), def] }));
}

export function withoutIndex(schema: TableSchema, name: string): TableSchema {
  if (!schema.indexes.some((ix) => ix.name === name))
    throw new TidemarkError(ErrorCode.UNKNOWN_INDEX, `table "${schema.name}" has no index ${JSON.stringify(name)}`);
  return next(schema, (d) => ({ ...d, indexes: (d.indexes ?? []).filter((ix) => ix.name !== name) }));
}
