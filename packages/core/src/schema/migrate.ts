/**
 * open({ tables, migrate }): the schema changes that take a stored table to
 * the definition open() was given. Additive differences (a column that is
 * nullable or has a default, an index) are made; destructive ones (a column
 * or an index the definition leaves out) only when `migrate.drop` names them
 * ("table.column", "table.index"); the rest (a type, nullability, default,
 * primary key or durability change) cannot be made in place and are refused
 * with every such difference listed (docs/SCHEMA.md shows the supported way).
 */
import type { Database } from '../database.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { Migration } from '../options.js';
import { definitionDifferences } from './definition_diff.js';
import { defineTable } from './schema.js';
import type { ColumnDef, IndexDef, TableDef, TableSchema } from './types.js';

/**
 * open()'s tables: each is created, or checked against the stored one;
 * with `migrate`, the changes that take it there are made (and the tables
 * `migrate.drop` names dropped). INVALID_SCHEMA lists every difference.
 */
export async function ensureTables(
  db: Database,
  tables: readonly TableDef[],
  migrate: Migration | null,
): Promise<void> {
  for (const def of tables) {
    if (!db.tableNames().includes(def?.name)) {
      db.createTable(def);
      continue;
    }
    const table = db.table(def.name);
    const given = defineTable(def);
    const differences = definitionDifferences(table.schema, given);
    if (differences.length === 0) continue;
    if (migrate === null) {
      throw new TidemarkError(
        ErrorCode.INVALID_SCHEMA,
        `table "${def.name}" exists in the database with a different definition: ${differences.join('; ')} (open with migrate: true to make the additive changes)`,
      );
    }
    for (const step of planMigration(table.schema, given, def, migrate.drop)) {
      if (step.kind === 'addColumn') await table.addColumn(step.def);
      else if (step.kind === 'dropColumn') await table.dropColumn(step.name);
      else if (step.kind === 'addIndex') await table.addIndex(step.def);
      else await table.dropIndex(step.name);
    }
  }
  for (const name of migrate?.drop ?? []) if (db.tableNames().includes(name)) await db.dropTable(name);
}

export type MigrationStep =
  | { kind: 'addColumn'; def: ColumnDef }
  | { kind: 'dropColumn'; name: string }
  | { kind: 'addIndex'; def: IndexDef }
  | { kind: 'dropIndex'; name: string };

/** The steps, in the order to make them; SCHEMA_CHANGE_REFUSED listing what cannot be made. */
export function planMigration(
  stored: TableSchema,
  given: TableSchema,
  givenDef: TableDef,
  drops: ReadonlySet<string>,
): MigrationStep[] {
  const table = stored.name;
  const refused: string[] = [];
  const dropIndexes: MigrationStep[] = [];
  const addIndexes: MigrationStep[] = [];
  const shape = (s: TableSchema, name: string): string => {
    const ix = s.indexes.find((i) => i.name === name)!;
    return JSON.stringify([ix.kind, ix.unique, ix.columns.map((c) => s.columns[c]!.name)]);
  };
  for (const ix of stored.indexes) {
    const other = given.indexes.find((g) => g.name === ix.name);
    if (other !== undefined && shape(stored, ix.name) === shape(given, ix.name)) continue;
    if (drops.has(`${table}.${ix.name}`)) dropIndexes.push({ kind: 'dropIndex', name: ix.name });
    else
      refused.push(
        `index "${ix.name}" differs or is not given (name "${table}.${ix.name}" in migrate.drop to drop it)`,
      );
  }
  for (const ix of given.indexes) {
    const kept = stored.indexes.some((s) => s.name === ix.name) && !drops.has(`${table}.${ix.name}`);
    if (!kept) addIndexes.push({ kind: 'addIndex', def: givenDef.indexes!.find((d) => d.name === ix.name)! });
  }
  const dropColumns: MigrationStep[] = [];
  for (const c of stored.columns) {
    if (given.columnsByName.has(c.name)) continue;
    if (drops.has(`${table}.${c.name}`)) dropColumns.push({ kind: 'dropColumn', name: c.name });
    else refused.push(`column "${c.name}" is not given (name "${table}.${c.name}" in migrate.drop to drop it)`);
  }
  const addColumns: MigrationStep[] = [];
  for (const c of given.columns) {
    if (stored.columnsByName.has(c.name)) continue;
    if (c.nullable || c.hasDefault) addColumns.push({ kind: 'addColumn', def: givenDef.columns[c.index]! });
    else refused.push(`new column "${c.name}" must be nullable or have a default`);
  }
  // What is left differs in place: a column's type, nullability or default, the key, the durability.
  const handled =
    /^(column|index) "[^"]*" \(.*\) is (given but not in the database|in the database but not given)$|^index "/;
  for (const difference of definitionDifferences(stored, given))
    if (!handled.test(difference)) refused.push(difference);
  if (refused.length > 0) {
    throw new TidemarkError(
      ErrorCode.SCHEMA_CHANGE_REFUSED,
      `table "${table}" cannot be migrated in place: ${refused.join('; ')}. A type change is made by adding a column, copying the values in batches and dropping the old one (docs/SCHEMA.md)`,
    );
  }
  return [...dropIndexes, ...dropColumns, ...addColumns, ...addIndexes];
}
