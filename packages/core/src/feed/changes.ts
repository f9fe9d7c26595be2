/**
 * A committed transaction as the change feed hands it out, decoded from its
 * log record: each row change with its table's name and the row's key, the
 * new row for inserts and updates (a delete and an insert of one key in one
 * record is an update), and schema changes as entries of their own. Rows
 * are decoded with the table's current schema (a row of a column since
 * dropped reads without it); changes of a table since dropped are left out.
 */
import { visitRecord, type RecordVisitor } from '../log/record.js';
import type { Row } from '../schema/types.js';
import type { TableStore } from '../table/table_store.js';
import type { Engine } from '../txn/engine.js';

export type Change =
  | { table: string; op: 'insert' | 'update'; key: unknown; row: Row }
  | { table: string; op: 'delete'; key: unknown; row: null }
  /** A table created or changed (its new stored definition), or dropped (null). */
  | { table: string; op: 'schema'; key: null; row: null; definition: unknown };

export interface ChangeBatch {
  commitTs: number;
  /** Wall-clock ms of the commit (from the feed's memory, or its WAL batch's time); null from a WAL segment older than version 3. */
  time: number | null;
  changes: Change[];
}

class Decoder implements RecordVisitor {
  changes: Change[] = [];
  private readonly deletes = new Map<string, number>();

  constructor(
    private readonly engine: Engine,
    private readonly tables: ReadonlySet<string> | null,
  ) {}

  private table(tableId: number): TableStore | null {
    const table = this.engine.tables[tableId];
    if (table === undefined || table.dropped) return null;
    return this.tables === null || this.tables.has(table.name) ? table : null;
  }

  commit(): void {}
  end(): void {}

  insert(tableId: number, _versionId: number, bytes: Uint8Array, offset: number, length: number): void {
    const table = this.table(tableId);
    if (table === null) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const row = table.codec.decode(bytes, view, offset, length);
    const keyLength = table.codec.keyLength(bytes, view, offset);
    const name = `${tableId}:${Buffer.from(bytes.subarray(offset, offset + keyLength)).toString('latin1')}`;
    const key = table.codec.key.decode(bytes, view, offset);
    const deleted = this.deletes.get(name);
    if (deleted !== undefined) this.changes[deleted] = { table: table.name, op: 'update', key, row };
    else this.changes.push({ table: table.name, op: 'insert', key, row });
  }

  delete(tableId: number, _versionId: number, bytes: Uint8Array, offset: number, length: number): void {
    const table = this.table(tableId);
    if (table === null) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const name = `${tableId}:${Buffer.from(bytes.subarray(offset, offset + length)).toString('latin1')}`;
    this.deletes.set(name, this.changes.length);
    this.changes.push({ table: table.name, op: 'delete', key: table.codec.key.decode(bytes, view, offset), row: null });
  }

  createTable(tableId: number, definition: unknown): void {
    this.schema(tableId, definition);
  }

  changeTable(tableId: number, definition: unknown): void {
    this.schema(tableId, definition);
  }

  private schema(tableId: number, definition: unknown): void {
    const table = this.engine.tables[tableId];
    const name = (definition as { name?: string } | null)?.name ?? table?.name ?? String(tableId);
    if (this.tables === null || this.tables.has(name))
      this.changes.push({ table: name, op: 'schema', key: null, row: null, definition });
  }
}

/** The batch of one record body at bytes[offset, offset + length); null when no change passes `tables`. */
export function decodeChanges(
  engine: Engine,
  bytes: Uint8Array,
  offset: number,
  length: number,
  time: number | null,
  tables: ReadonlySet<string> | null,
): ChangeBatch | null {
  const decoder = new Decoder(engine, tables);
  const commitTs = visitRecord(bytes, offset, length, decoder, () => 'the change feed');
  return decoder.changes.length === 0 ? null : { commitTs, time, changes: decoder.changes };
}
