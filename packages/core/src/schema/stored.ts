/**
 * The stored form of a table: its definition plus what schema changes leave
 * behind (the schema version, the version that added each column, and the
 * dropped columns rows still hold). The log's create- and change-table ops
 * and a root's catalog hold it (docs/FORMAT.md, "Stored table definition");
 * `definitionOf` is the user's view, without it. `schemaFromStored` checks
 * everything defineTable checks and the layout's own rules, so a stored
 * definition no table can have is refused (INVALID_SCHEMA) before use.
 */
import { MAX_COLUMNS } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { definitionFromJson, definitionOf } from './definition_json.js';
import { COLUMN_TYPES, FIXED_BYTES, MAX_NAME_LENGTH, defineTable } from './schema.js';
import type { ColumnDef, ColumnType, LayoutColumn, TableDef, TableSchema } from './types.js';

/** A dropped column: what rows written before the drop hold, at `position` of the row layout. */
export interface DroppedColumn {
  name: string;
  type: ColumnType;
  nullable: boolean;
  since: number;
  position: number;
}

export interface StoredColumnDef extends ColumnDef {
  /** The schema version that added the column; absent means 1 (created with the table). */
  since?: number;
}

export interface StoredDef extends TableDef {
  columns: StoredColumnDef[];
  /** Absent means 1. */
  version?: number;
  dropped?: DroppedColumn[];
}

export function storedOf(schema: TableSchema): StoredDef {
  const def = definitionOf(schema);
  const since = new Map(schema.layout.flatMap((lc) => (lc.live === null ? [] : [[lc.live.index, lc.since] as const])));
  const columns = def.columns.map((c, i) => (since.get(i) === 1 ? c : { ...c, since: since.get(i)! }));
  const dropped = schema.layout.flatMap((lc, position) =>
    lc.live === null ? [{ name: lc.name, type: lc.type, nullable: lc.nullable, since: lc.since, position }] : [],
  );
  return {
    ...def,
    columns,
    ...(schema.version === 1 ? {} : { version: schema.version }),
    ...(dropped.length === 0 ? {} : { dropped }),
  };
}

function invalid(where: string, message: string): TidemarkError {
  return new TidemarkError(ErrorCode.INVALID_SCHEMA, `table "${where}": ${message}`);
}

function isVersion(value: unknown, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= max;
}

export function schemaFromStored(stored: StoredDef): TableSchema {
  const { version = 1, dropped = [], ...def } = stored;
  const logical = defineTable({ ...def, columns: def.columns.map(({ since: _, ...c }) => c) });
  const where = logical.name;
  if (!isVersion(version, Number.MAX_SAFE_INTEGER)) throw invalid(where, 'version must be a positive integer');
  if (!Array.isArray(dropped)) throw invalid(where, 'dropped must be an array');
  const total = logical.columns.length + dropped.length;
  if (total > MAX_COLUMNS) throw invalid(where, `${total} columns with the dropped ones, over ${MAX_COLUMNS}`);
  const layout: (LayoutColumn | undefined)[] = new Array(total);
  for (const d of dropped) {
    const lc = droppedColumn(d, version, total, where);
    if (layout[d.position] !== undefined) throw invalid(where, `two dropped columns at position ${d.position}`);
    layout[d.position] = lc;
  }
  const inKey = new Set(logical.primaryKey);
  let next = 0;
  for (const c of logical.columns) {
    while (layout[next] !== undefined) next++;
    const since = def.columns[c.index]!.since ?? 1;
    if (!isVersion(since, version)) throw invalid(where, `column "${c.name}": since must be 1 to ${version}`);
    if (since > 1 && inKey.has(c.index)) throw invalid(where, `primary key column "${c.name}" was added later`);
    if (since > 1 && !c.nullable && !c.hasDefault)
      throw invalid(where, `column "${c.name}" was added later but is neither nullable nor defaulted`);
    layout[next++] = Object.freeze({
      name: c.name,
      type: c.type,
      nullable: c.nullable,
      fixedBytes: c.fixedBytes,
      since,
      live: c,
    });
  }
  for (let i = 1; i < total; i++)
    if (layout[i]!.since < layout[i - 1]!.since) throw invalid(where, 'columns are not in the order they were added');
  return Object.freeze({ ...logical, version, layout: Object.freeze(layout as LayoutColumn[]) });
}

function droppedColumn(d: DroppedColumn, version: number, total: number, where: string): LayoutColumn {
  if (typeof d !== 'object' || d === null) throw invalid(where, 'a dropped column must be an object');
  const ok =
    typeof d.name === 'string' &&
    d.name.length > 0 &&
    d.name.length <= MAX_NAME_LENGTH &&
    COLUMN_TYPES.has(d.type) &&
    typeof d.nullable === 'boolean' &&
    isVersion(d.since, version) &&
    Number.isSafeInteger(d.position) &&
    d.position >= 0 &&
    d.position < total;
  if (!ok) throw invalid(where, `dropped column ${JSON.stringify(d).slice(0, 120)} is malformed`);
  return Object.freeze({
    name: d.name,
    type: d.type,
    nullable: d.nullable,
    fixedBytes: FIXED_BYTES[d.type],
    since: d.since,
    live: null,
  });
}

/** The schema a stored definition read from disk describes (null: the table was dropped); INVALID_SCHEMA if none. */
export function schemaFromJson(value: unknown): TableSchema | null {
  return value === null ? null : schemaFromStored(definitionFromJson(value) as StoredDef);
}

/** What is wrong with a stored definition read from disk, or null: the message of the error reading it would throw. */
export function checkStoredDefinition(value: unknown): string | null {
  try {
    schemaFromJson(value);
    return null;
  } catch (error) {
    if (error instanceof TidemarkError) return error.message;
    return `the definition cannot be read (${String(error)})`;
  }
}
