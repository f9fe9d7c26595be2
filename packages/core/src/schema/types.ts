/** The declared shape of tables: what users write, and the resolved form the engine uses. */

export type ColumnType = 'int32' | 'int64' | 'float64' | 'boolean' | 'string' | 'bytes' | 'json';

/** A column as declared by the user. */
export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** Whether the column may hold null (and may be left out of a row). Default false. */
  nullable?: boolean;
  /** Value used when a row leaves the column out. Must fit the type. */
  default?: unknown;
}

export type IndexKind = 'hash' | 'ordered';

/** A secondary index as declared by the user. */
export interface IndexDef {
  name: string;
  columns: string[];
  /** 'hash' (equality lookups) or 'ordered' (range scans). Default 'hash'. */
  kind?: IndexKind;
  /** Whether two live rows may share the indexed value. Default false. */
  unique?: boolean;
}

/** A table as declared by the user. */
export interface TableDef {
  name: string;
  columns: ColumnDef[];
  /** Column names forming the primary key, in key order. */
  primaryKey: string[];
  indexes?: IndexDef[];
  /** Durability of the table's changes (used once the log exists). Default 'durable'. */
  durability?: 'durable' | 'schemaOnly';
}

/** A column after validation. `index` is its position in `TableSchema.columns`. */
export interface Column {
  readonly name: string;
  readonly index: number;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  /** Bytes of a fixed-width type (int32 4, int64 8, float64 8, boolean 1); 0 for variable-width types. */
  readonly fixedBytes: number;
}

export interface Index {
  readonly name: string;
  /** Position among the table's secondary indexes. */
  readonly index: number;
  readonly kind: IndexKind;
  readonly unique: boolean;
  /** Column positions, in index order. */
  readonly columns: readonly number[];
}

/**
 * A column of the row layout, in the order rows hold them: a live column, or
 * a dropped one whose bytes rows written before the drop still hold (and rows
 * written since hold as null or zeros). `since` is the schema version that
 * added it; rows hold the columns of every version up to the one they were
 * written under (docs/FORMAT.md, "Row payload").
 */
export interface LayoutColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly fixedBytes: number;
  readonly since: number;
  /** The live column, or null once dropped. */
  readonly live: Column | null;
}

/** A table definition after validation. Immutable; a schema change makes a new one. */
export interface TableSchema {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly columnsByName: ReadonlyMap<string, Column>;
  /** Primary key column positions, in key order. */
  readonly primaryKey: readonly number[];
  readonly indexes: readonly Index[];
  readonly durability: 'durable' | 'schemaOnly';
  /** 1 when created; each schema change adds one. */
  readonly version: number;
  /** Every column rows hold, live or dropped, in row order. */
  readonly layout: readonly LayoutColumn[];
}

/** A row as callers see it: column name to value. */
export type Row = Record<string, unknown>;
