/**
 * What differs between a table as the database holds it and the definition
 * open() was given for it, in words, so that a refused open says what to
 * change (open() never alters a stored table). And the check that
 * options.tables names each table once, which open() makes before anything
 * else: two definitions of one name are a mistake in the options, not a
 * difference from the database.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import type { Column, Index, TableDef, TableSchema } from './types.js';

/** Each difference between `stored` (the database's) and `given`, as a phrase; empty if none. */
export function definitionDifferences(stored: TableSchema, given: TableSchema): string[] {
  const out: string[] = [];
  for (const c of given.columns)
    if (!stored.columnsByName.has(c.name)) out.push(`column "${c.name}" (${c.type}) is given but not in the database`);
  for (const c of stored.columns) {
    const g = given.columnsByName.get(c.name);
    if (g === undefined) out.push(`column "${c.name}" (${c.type}) is in the database but not given`);
    else out.push(...columnDifferences(c, g));
  }
  // The order of the columns is not compared: rows are read by name, and added columns always go last.
  const key = (s: TableSchema): string => s.primaryKey.map((i) => s.columns[i]!.name).join(', ');
  if (key(stored) !== key(given))
    out.push(`the primary key is (${key(stored)}) in the database, (${key(given)}) given`);
  out.push(...indexDifferences(stored, given));
  if (stored.durability !== given.durability)
    out.push(`durability is ${stored.durability} in the database, ${given.durability} given`);
  return out;
}

function columnDifferences(stored: Column, given: Column): string[] {
  const out: string[] = [];
  const name = `column "${stored.name}"`;
  if (stored.type !== given.type) out.push(`${name} is ${stored.type} in the database, ${given.type} given`);
  if (stored.nullable !== given.nullable)
    out.push(`${name} is ${nullability(stored)} in the database, ${nullability(given)} given`);
  if (
    stored.hasDefault !== given.hasDefault ||
    (stored.hasDefault && shown(stored.defaultValue) !== shown(given.defaultValue))
  ) {
    out.push(`${name} has ${defaultOf(stored)} in the database, ${defaultOf(given)} given`);
  }
  return out;
}

function indexDifferences(stored: TableSchema, given: TableSchema): string[] {
  const out: string[] = [];
  const byName = (s: TableSchema): Map<string, Index> => new Map(s.indexes.map((ix) => [ix.name, ix]));
  const storedIndexes = byName(stored);
  const givenIndexes = byName(given);
  for (const [name, ix] of givenIndexes)
    if (!storedIndexes.has(name))
      out.push(`index "${name}" (${indexShape(given, ix)}) is given but not in the database`);
  for (const [name, ix] of storedIndexes) {
    const g = givenIndexes.get(name);
    if (g === undefined) out.push(`index "${name}" (${indexShape(stored, ix)}) is in the database but not given`);
    else if (indexShape(stored, ix) !== indexShape(given, g))
      out.push(`index "${name}" is ${indexShape(stored, ix)} in the database, ${indexShape(given, g)} given`);
  }
  return out;
}

function indexShape(schema: TableSchema, ix: Index): string {
  return `${ix.unique ? 'unique ' : ''}${ix.kind} on ${ix.columns.map((i) => schema.columns[i]!.name).join(', ')}`;
}

function nullability(c: Column): string {
  return c.nullable ? 'nullable' : 'not nullable';
}

function defaultOf(c: Column): string {
  return c.hasDefault ? `default ${shown(c.defaultValue)}` : 'no default';
}

function shown(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `bytes [${[...value].join(', ')}]`;
  return JSON.stringify(value);
}

/** INVALID_SCHEMA if two of `tables` (options.tables) have one name. */
export function checkDistinctNames(tables: readonly TableDef[]): void {
  const seen = new Map<string, number>();
  tables.forEach((def, i) => {
    if (typeof def?.name !== 'string') return; // defineTable reports a definition without a name
    const first = seen.get(def.name);
    if (first !== undefined) {
      throw new TidemarkError(
        ErrorCode.INVALID_SCHEMA,
        `options.tables holds two definitions of table "${def.name}" (options.tables[${first}] and options.tables[${i}]); give each table once`,
      );
    }
    seen.set(def.name, i);
  });
}
