/**
 * Applies log records to the tables while a database opens: create-table ops
 * recreate tables, delete ops end the newest version of a key, insert ops
 * install versions with their logged versionIds. Nothing is open yet, so
 * replaced versions are retired at once. A record that does not fit the
 * tables (an unknown table, a delete of a version that is not the newest,
 * an insert over a live row) is CORRUPT, naming where it came from.
 */
import { VERSION_HEADER_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { hashBytes } from '../schema/codec.js';
import { definitionFromJson } from '../schema/definition_json.js';
import { defineTable } from '../schema/schema.js';
import { offsetOf, segmentOf } from '../table/arena.js';
import { TableStore } from '../table/table_store.js';
import type { Engine } from '../txn/engine.js';
import type { RecordVisitor } from './record.js';

export class Replayer implements RecordVisitor {
  where: () => string = () => 'log';
  records = 0;

  constructor(private readonly engine: Engine) {}

  commit(): void {}

  createTable(tableId: number, definition: unknown): void {
    if (tableId !== this.engine.tables.length) throw this.corrupt(`creates table ${tableId} out of order`);
    const schema = defineTable(definitionFromJson(definition));
    const store = new TableStore(tableId, schema);
    this.engine.tables.push(store);
    this.engine.tablesByName.set(schema.name, store);
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
    if (table === undefined) throw this.corrupt(`names unknown table ${tableId}`);
    return table;
  }

  private corrupt(what: string): TidemarkError {
    return new TidemarkError(ErrorCode.CORRUPT, `${this.where()}: the log record ${what}`);
  }
}
