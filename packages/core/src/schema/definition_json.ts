/**
 * Table definitions as JSON, for the log's create-table op: `int64` defaults
 * are written as decimal strings and `bytes` defaults as base64, since JSON
 * has neither bigint nor binary. Reading converts them back by column type.
 * A definition read from disk (a root's catalog, a create-table op) is
 * checked by `checkStoredDefinition` before anything trusts its shape.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import type { ColumnDef, TableDef, TableSchema } from './types.js';

export function definitionOf(schema: TableSchema): TableDef {
  return {
    name: schema.name,
    columns: schema.columns.map((c) => {
      const column: ColumnDef = { name: c.name, type: c.type };
      if (c.nullable) column.nullable = true;
      if (c.hasDefault) column.default = c.defaultValue;
      return column;
    }),
    primaryKey: schema.primaryKey.map((i) => schema.columns[i]!.name),
    indexes: schema.indexes.map((ix) => ({
      name: ix.name,
      columns: ix.columns.map((i) => schema.columns[i]!.name),
      kind: ix.kind,
      unique: ix.unique,
    })),
    durability: schema.durability,
  };
}

export function definitionToJson(def: TableDef): string {
  return JSON.stringify({
    ...def,
    columns: def.columns.map((c) => {
      if (!('default' in c) || c.default === undefined || c.default === null) return c;
      if (c.type === 'int64') return { ...c, default: String(c.default) };
      if (c.type === 'bytes') return { ...c, default: Buffer.from(c.default as Uint8Array).toString('base64') };
      return c;
    }),
  });
}

/** The definition a JSON value describes; INVALID_SCHEMA if its shape is not one (defineTable checks the rest). */
export function definitionFromJson(value: unknown): TableDef {
  const def = value as TableDef;
  if (typeof value !== 'object' || value === null || !Array.isArray(def.columns))
    throw invalidJson('a table definition must be an object with a columns array');
  return {
    ...def,
    columns: def.columns.map((c) => {
      if (typeof c !== 'object' || c === null || !('default' in c) || c.default === undefined || c.default === null)
        return c;
      if (typeof c.default !== 'string' && (c.type === 'int64' || c.type === 'bytes'))
        throw invalidJson(`column default of type ${c.type} must be a string`);
      if (c.type === 'int64') return { ...c, default: parseBigInt(c.default as string) };
      if (c.type === 'bytes') return { ...c, default: new Uint8Array(Buffer.from(c.default as string, 'base64')) };
      return c;
    }),
  };
}

function parseBigInt(text: string): bigint {
  if (!/^-?[0-9]{1,20}$/.test(text))
    throw invalidJson(`int64 default ${JSON.stringify(text.slice(0, 40))} is not a decimal integer`);
  return BigInt(text);
}

function invalidJson(message: string): TidemarkError {
  return new TidemarkError(ErrorCode.INVALID_SCHEMA, message);
}
