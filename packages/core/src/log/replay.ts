/**
 * Applies log records to the tables while a database opens: create-table ops
 * recreate tables, change-table ops change or drop them, delete ops end the newest version of a key, insert ops
 * install versions with their logged versionIds. Nothing is open yet, so
 * replaced versions are retired at once. A record that does not fit the
 * tables (an unknown table, a delete of a version that is not the newest,
 * an insert over a live row) is CORRUPT, naming where it came from.
 */
import { VERSION_HEADER_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { hashBytes } from '../schema/codec.js';
import { defineTable } from '../schema/schema.js';
import { schemaFromJson } from '../schema/stored.js';
import { fillIndexNow } from '../table/index_build.js';
import { offsetOf, segmentOf } from '../table/arena.js';
import { TableStore } from '../table/table_store.js';
import type { Engine } from '../txn/engine.js';
import type { RecordVisitor } from './record.js';

/** The schema of the empty stand-in kept at a dropped table's id. */
const DROPPED_SCHEMA = defineTable({ name: 'dropped', columns: [{ name: 'k', type: 'int32' }], primaryKey: ['k'] });

export class Replayer implements RecordVisitor {
  where: () => string = () => 'log';
  records = 0;

  constructor(private readonly engine: Engine) {}

  commit(): void {}

  /** A table of the log or of a root's catalog; a null definition (the catalog's) is a table since dropped. */
  createTable(tableId: number, definition: unknown): void {
    if (tableId !== this.engine.tables.length) throw this.corrupt(`creates table ${tableId} out of order`);
    const schema = schemaFromJson(definition);
    const store = new TableStore(tableId, schema ?? DROPPED_SCHEMA);
    this.engine.tables.push(store);
    if (schema === null) store.drop();
    else this.engine.tablesByName.set(schema.name, store);
  }

  /** A schema change: the table moves to its new definition (an index it adds is built at once), or is dropped. */
  changeTable(tableId: number, definition: unknown): void {
    const table = this.table(tableId);
    const schema = schemaFromJson(definition);
    if (schema === null) {
      this.engine.tablesByName.delete(table.name);
      table.drop();
      return;
    }
    if (schema.name !== table.name || schema.version <= table.schema.version)
      throw this.corrupt(`changes table "${table.name}" to "${schema.name}" version ${schema.version}`);
    for (const ix of table.applySchema(schema)) fillIndexNow(table, ix);
  }

  insert(tableId: number, versionId: number, bytes: Uint8Array, offset: number, length: number): void {
    const table = this.table(tableId);
    const keyLength = table.codec.keyLength(bytes, new DataView(bytes.buffer, bytes.byteOffset), offset);
    const hash = hashBytes(bytes, offset, keyLength);
    const head = table.primary.find(hash, bytes, offset, keyLength);
    if (head !== 0) throw this.corrupt(`inserts version ${versionId} over a live row of "${table.name}"`);
    table.arena.checkRoom(length + VERSION_HEADER_BYTES);
    const ptr = table.arena.append(length, versionId, 0, 0);
    table.arena.u8s[segmentOf(ptr)]!.set(bytes.subarray(offset, offset + length), offsetOf(ptr) + VERSION_HEADER_BYTES);
    table.primary.insert(hash, ptr);
    table.indexVersion(ptr);
    table.liveRows++;
  }

  delete(tableId: number, versionId: number, key: Uint8Array, offset: number, length: number): void {
    const table = this.table(tableId);
    const hash = hashBytes(key, offset, length);
    const head = table.primary.find(hash, key, offset, length);
    if (head === 0 || table.arena.versionId(head) !== versionId) {
      throw this.corrupt(`ends version ${versionId} of "${table.name}", which is not the newest version of its row`);
    }
    table.primary.remove(hash, head);
    table.retireChain(head);
    table.liveRows--;
  }

  end(commitTs: number): void {
    this.engine.advanceClock(commitTs);
    this.records++;
  }

  private table(tableId: number): TableStore {
    const table = this.engine.tables[tableId];
    if (table === undefined || table.dropped) throw this.corrupt(`names unknown table ${tableId}`);
    return table;
  }

  private corrupt(what: string): TidemarkError {
    return new TidemarkError(ErrorCode.CORRUPT, `${this.where()}: the log record ${what}`);
  }
}
