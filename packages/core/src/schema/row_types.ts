/**
 * Row types inferred from table definitions, for TypeScript users. Types only,
 * but for `tableDef()`, which returns its argument unchanged.
 *
 * A definition made with `tableDef()` keeps its literal names and column
 * types, and carries the types below in a property that exists only for the
 * type checker. `open({ tables })` of such definitions is a `Database` whose
 * `table(name)` handles and transactions read and write those types, and
 * whose unknown table names do not compile. A plain `TableDef` (or a mix of
 * both) stays untyped, as before: rows are `Row`, names any string.
 *
 *   column type      read as          written as
 *   int32, float64   number           number
 *   int64            bigint           bigint
 *   string           string           string
 *   boolean          boolean          boolean
 *   bytes            Uint8Array       Uint8Array
 *   json             JsonValue        JsonValue (null only when nullable)
 *   nullable         ... | null       optional on insert
 *   with a default   (the type)       optional on insert
 *
 * Invariant: every type here is erased; nothing at run time depends on it.
 * The engine checks each value against the schema whatever the types say.
 *
 * Not to be confused with `defineTable` in schema.ts, the engine's internal
 * check that turns a TableDef into a TableSchema.
 */
import type { OpenOptions } from '../options.js';
import type { ColumnType, Row, TableDef } from './types.js';

/** A value JSON.parse returns: what a `json` column reads as. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The TypeScript type of a non-null value of each column type. */
interface ColumnValues {
  int32: number;
  int64: bigint;
  float64: number;
  boolean: boolean;
  string: string;
  bytes: Uint8Array;
  json: Exclude<JsonValue, null>;
}

/** What the types of one table are: a typed table's, or `UntypedTable`. */
export interface TableTypes {
  readonly name: string;
  /** A row as reads return it: every column. */
  readonly row: object;
  /** A row as insert and upsert take it: defaulted and nullable columns may be left out. */
  readonly insert: object;
  /** An update's patch: any of the columns. */
  readonly patch: object;
  /** A primary key: the bare value (one column), an array in key order, or an object with the key's columns. */
  readonly key: unknown;
  /** The column names. */
  readonly column: string;
}

/** The types of a table defined without `tableDef()`. */
export interface UntypedTable {
  readonly name: string;
  readonly row: Row;
  readonly insert: Row;
  readonly patch: Row;
  readonly key: unknown;
  readonly column: string;
}

/** Table names to their types. */
export type DatabaseSchema = { readonly [name: string]: TableTypes };

/** The schema of a database opened without typed definitions: any name, untyped rows. */
export type UntypedSchema = Record<string, UntypedTable>;

/** The names of a schema's tables. */
export type TableName<S extends DatabaseSchema> = keyof S & string;

/** Carries a typed definition's types; declared, never created. */
declare const tableTypes: unique symbol;

/**
 * A table definition that carries its row types (made by `tableDef()`). It
 * is a `TableDef`; `tableTypes` is not a property at run time.
 */
export type TypedTableDef<T extends TableTypes> = TableDef & { readonly name: T['name']; readonly [tableTypes]: T };

/** A definition's types: its own if typed, else `UntypedTable`. */
export type TypesOf<D> = D extends { readonly [tableTypes]: infer T extends TableTypes } ? T : UntypedTable;

/** The schema of `open({ tables })`: typed when every definition is, else untyped. */
export type SchemaOf<Defs extends readonly TableDef[]> = [Defs[number]] extends [never]
  ? UntypedSchema
  : [Defs[number]] extends [TypedTableDef<TableTypes>]
    ? { [D in Defs[number] as D['name']]: TypesOf<D> }
    : UntypedSchema;

/** open()'s options, with `tables` typed by what was passed (readonly lists allowed). */
export type OpenOptionsOf<Tables extends readonly TableDef[]> = Omit<OpenOptions, 'tables'> & { tables?: Tables };

/** The row a typed definition reads as: `RowOf<typeof accounts>`. */
export type RowOf<D> = TypesOf<D>['row'];
/** The row a typed definition's insert takes. */
export type InsertRowOf<D> = TypesOf<D>['insert'];
/** The patch a typed definition's update takes. */
export type PatchOf<D> = TypesOf<D>['patch'];
/** The primary key of a typed definition. */
export type PrimaryKeyOf<D> = TypesOf<D>['key'];

/** A column as `tableDef()` reads it: the default, if any, fits the column's type. */
export type ColumnShape = {
  [K in ColumnType]: {
    readonly name: string;
    readonly type: K;
    readonly nullable?: boolean;
    readonly default?: ColumnValues[K] | null;
  };
}[ColumnType];

/** An index as `tableDef()` reads it: its columns are among `Column`. */
export interface IndexShape<Column extends string = string> {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly kind?: 'hash' | 'ordered';
  readonly unique?: boolean;
}

/** A table definition as `tableDef()` reads it: a `TableDef` whose lists may be readonly. */
export interface TableDefShape {
  readonly name: string;
  readonly columns: readonly ColumnShape[];
  readonly primaryKey: readonly string[];
  readonly indexes?: readonly IndexShape[];
  readonly durability?: 'durable' | 'schemaOnly';
}

type ColumnOf<D extends TableDefShape> = D['columns'][number];
type ColumnName<D extends TableDefShape> = ColumnOf<D>['name'];

/** Whether a column may hold null: `nullable: true` (or a `boolean` that might be true). */
type Nullable<C> = C extends { readonly nullable: infer N } ? (true extends N ? true : false) : false;
/** Whether insert may leave a column out: it is nullable or has a default. */
type Omittable<C> =
  Nullable<C> extends true
    ? true
    : C extends { readonly default: infer V }
      ? [V] extends [undefined]
        ? false
        : true
      : false;
type ValueOf<C extends ColumnShape> = Unaliased<ColumnValues[C['type']] | (Nullable<C> extends true ? null : never)>;

/** `T` itself, shown by editors and errors as its members rather than by an alias's name. */
type Unaliased<T> = { type: T }['type'];
/** Flattens an intersection into one object type, so editors show it whole. */
type Flat<T> = Unaliased<{ [K in keyof T]: T[K] }>;

type RowShape<D extends TableDefShape> = Unaliased<{ -readonly [C in ColumnOf<D> as C['name']]: ValueOf<C> }>;
type InsertShape<D extends TableDefShape> = Flat<
  { -readonly [C in ColumnOf<D> as Omittable<C> extends true ? never : C['name']]: ValueOf<C> } & {
    -readonly [C in ColumnOf<D> as Omittable<C> extends true ? C['name'] : never]?: ValueOf<C>;
  }
>;
type KeyTuple<R, PK extends readonly string[]> = { readonly [I in keyof PK]: R[PK[I] & keyof R] };
type KeyShape<R, PK extends readonly string[]> = Unaliased<
  | (PK extends readonly [infer Only extends keyof R] ? R[Only] : never)
  | KeyTuple<R, PK>
  | { readonly [K in PK[number] & keyof R]: R[K] }
>;

/** The types `tableDef(def)` gives a definition. */
export type TypesOfShape<D extends TableDefShape> = {
  name: D['name'];
  row: RowShape<D>;
  insert: InsertShape<D>;
  patch: Flat<Partial<RowShape<D>>>;
  key: KeyShape<RowShape<D>, D['primaryKey']>;
  column: ColumnName<D>;
};

/** The key and index columns name columns of the definition. */
type NamesColumns<D extends TableDefShape> = {
  readonly primaryKey: readonly ColumnName<D>[];
  readonly indexes?: readonly IndexShape<ColumnName<D>>[];
};

/**
 * A table definition whose row types TypeScript infers: `open({ tables })`
 * of such definitions types `db.table(name)` and transactions by them.
 * Returns `def` itself, unchecked: `open()` and `createTable()` check it.
 * The primary key and index columns must name the definition's columns, and
 * a default must fit its column's type.
 */
export function tableDef<const D extends TableDefShape>(
  def: D & NamesColumns<D>,
): TypedTableDef<Flat<TypesOfShape<D>>> {
  return def as unknown as TypedTableDef<Flat<TypesOfShape<D>>>;
}
