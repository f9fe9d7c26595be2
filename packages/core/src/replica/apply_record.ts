/**
 * A replica applies the primary's log records as commits of its own, at the
 * primary's commitTs and with the primary's versionIds, so a snapshot, a
 * token or a content hash at a commitTs means the same on every node. Each
 * record goes through the replica's log sink too (its own WAL, checkpoints
 * and restarts), and becomes visible to readers in one step, as a local
 * commit does.
 *
 *   record ─► at or below the clock? skip (already applied)
 *          ─► check every op against the tables, then install them all ─► log ─► publish
 *
 * A record that does not fit the tables (a delete of a version that is not
 * the newest, an insert over a live row, an unknown table) is CORRUPT: the
 * replica did not come from this stream's database, or missed a commit.
 */
import { VERSION_FLAG_DELETED, VERSION_HEADER_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import {
  OP_CHANGE_TABLE,
  OP_CREATE_TABLE,
  OP_DELETE,
  OP_INSERT,
  type RecordVisitor,
  visitRecord,
} from '../log/record.js';
import { hashBytes } from '../schema/codec.js';
import { schemaFromJson } from '../schema/stored.js';
import { offsetOf, segmentOf } from '../table/arena.js';
import { fillIndexNow } from '../table/index_build.js';
import { TableStore } from '../table/table_store.js';
import type { Engine } from '../txn/engine.js';

/** The ops of one record, as offsets into its body (no object per op). */
class RecordOps implements RecordVisitor {
  count = 0;
  commitTs = 0;
  readonly kinds: number[] = [];
  readonly tableIds: number[] = [];
  readonly versionIds: number[] = [];
  readonly offsets: number[] = [];
  readonly lengths: number[] = [];
  readonly definitions: unknown[] = [];

  commit(commitTs: number): void {
    this.commitTs = commitTs;
    this.count = 0;
  }
  insert(tableId: number, versionId: number, _bytes: Uint8Array, offset: number, length: number): void {
    this.add(OP_INSERT, tableId, versionId, offset, length, null);
  }
  delete(tableId: number, versionId: number, _key: Uint8Array, offset: number, length: number): void {
    this.add(OP_DELETE, tableId, versionId, offset, length, null);
  }
  createTable(tableId: number, definition: unknown): void {
    this.add(OP_CREATE_TABLE, tableId, 0, 0, 0, definition);
  }
  changeTable(tableId: number, definition: unknown): void {
    this.add(OP_CHANGE_TABLE, tableId, 0, 0, 0, definition);
  }
  end(): void {}

  private add(kind: number, tableId: number, versionId: number, offset: number, length: number, def: unknown): void {
    const i = this.count++;
    this.kinds[i] = kind;
    this.tableIds[i] = tableId;
    this.versionIds[i] = versionId;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.definitions[i] = def;
  }
}

export class RecordApplier {
  private readonly ops = new RecordOps();
  /** Per op: the head version found when checking (0: none). */
  private readonly heads: number[] = [];
  private readonly hashes: number[] = [];
  private readonly keyLengths: number[] = [];
  /** Called with a table's name when a record drops it (the database forgets its handle). */
  onDrop: (name: string) => void = () => {};

  constructor(private readonly engine: Engine) {}

  /**
   * Applies the record body at bytes[offset, offset + length): returns its
   * commitTs, or 0 when the clock is already at or past it (applied before).
   */
  apply(bytes: Uint8Array, offset: number, length: number): number {
    const engine = this.engine;
    engine.checkOpen();
    if (engine.failure !== null) throw engine.failure;
    const ops = this.ops;
    const commitTs = visitRecord(bytes, offset, length, ops, () => 'a replicated record');
    if (commitTs <= engine.clock.now) return 0;
    const where = () => `the replicated record of commit ${commitTs}`;
    const retireNow = engine.snapshots.active === 0;
    if (retireNow) engine.collectGarbage();
    const schemaOp = ops.count === 1 && ops.kinds[0]! >= OP_CREATE_TABLE;
    if (schemaOp) this.checkSchema(where);
    else this.check(bytes, where);
    engine.advanceClock(commitTs - 1);
    engine.stampCommit(1);
    const sink = engine.sink;
    sink.begin(commitTs);
    if (schemaOp) this.applySchema();
    else this.install(bytes, commitTs, retireNow);
    sink.end();
    engine.publishCommit(commitTs, true);
    if (!schemaOp) engine.counters.commits++;
    return commitTs;
  }

  /** Every op against the tables as they are, before anything changes. */
  private check(bytes: Uint8Array, where: () => string): void {
    const ops = this.ops;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < ops.count; i++) {
      const kind = ops.kinds[i]!;
      if (kind !== OP_INSERT && kind !== OP_DELETE) throw corrupt(where, 'mixes a schema change with row changes');
      const table = this.table(ops.tableIds[i]!, where);
      const at = ops.offsets[i]!;
      const keyLength = kind === OP_DELETE ? ops.lengths[i]! : table.codec.keyLength(bytes, view, at);
      const hash = hashBytes(bytes, at, keyLength);
      const head = table.primary.find(hash, bytes, at, keyLength);
      const live = head !== 0 && !table.arena.isDeleted(head);
      this.heads[i] = head;
      this.hashes[i] = hash;
      this.keyLengths[i] = keyLength;
      if (kind === OP_DELETE) {
        if (!live || table.arena.versionId(head) !== ops.versionIds[i])
          throw corrupt(where, `ends version ${ops.versionIds[i]} of "${table.name}", not the newest of its row`);
      } else {
        if (live && !this.replaces(i, bytes))
          throw corrupt(where, `inserts version ${ops.versionIds[i]} over a live row of "${table.name}"`);
        table.arena.checkRoom(ops.lengths[i]! + VERSION_HEADER_BYTES);
      }
    }
  }

  /** Whether insert i follows the delete of its own key (a row replaced). */
  private replaces(i: number, bytes: Uint8Array): boolean {
    const ops = this.ops;
    if (i === 0 || ops.kinds[i - 1] !== OP_DELETE || ops.tableIds[i - 1] !== ops.tableIds[i]) return false;
    const n = this.keyLengths[i]!;
    if (ops.lengths[i - 1] !== n) return false;
    const a = ops.offsets[i - 1]!;
    const b = ops.offsets[i]!;
    for (let k = 0; k < n; k++) if (bytes[a + k] !== bytes[b + k]) return false;
    return true;
  }

  private install(bytes: Uint8Array, commitTs: number, retireNow: boolean): void {
    const ops = this.ops;
    const engine = this.engine;
    const sink = engine.sink;
    for (let i = 0; i < ops.count; i++) {
      const table = engine.tables[ops.tableIds[i]!]!;
      const at = ops.offsets[i]!;
      const length = ops.lengths[i]!;
      const head = this.heads[i]!;
      const hash = this.hashes[i]!;
      if (ops.kinds[i] === OP_DELETE) {
        sink.delete(table.id, ops.versionIds[i]!, bytes, at, length);
        // A replace's insert (the next op) installs over the live head; a delete alone ends the row.
        if (i + 1 < ops.count && this.replaces(i + 1, bytes)) continue;
        table.liveRows--;
        if (retireNow) {
          table.primary.remove(hash, head);
          table.retireChain(head);
          continue;
        }
        const ptr = table.arena.append(length, commitTs, head, VERSION_FLAG_DELETED);
        table.arena.u8s[segmentOf(ptr)]!.set(bytes.subarray(at, at + length), offsetOf(ptr) + VERSION_HEADER_BYTES);
        table.primary.replace(hash, head, ptr);
        engine.garbage.push(commitTs, table, ptr);
        continue;
      }
      const versionId = ops.versionIds[i]!;
      const over = head !== 0;
      if (!over || table.arena.isDeleted(head)) table.liveRows++;
      const ptr = table.arena.append(length, versionId, retireNow ? 0 : head, 0);
      table.arena.u8s[segmentOf(ptr)]!.set(bytes.subarray(at, at + length), offsetOf(ptr) + VERSION_HEADER_BYTES);
      if (over) table.primary.replace(hash, head, ptr);
      else table.primary.insert(hash, ptr);
      table.indexVersion(ptr);
      sink.insert(table.id, versionId, bytes, at, length);
      if (!over) continue;
      if (retireNow) table.retireChain(head);
      else engine.garbage.push(commitTs, table, ptr);
    }
  }

  private checkSchema(where: () => string): void {
    const ops = this.ops;
    const tableId = ops.tableIds[0]!;
    const schema = schemaFromJson(ops.definitions[0]);
    if (ops.kinds[0] === OP_CREATE_TABLE) {
      if (tableId !== this.engine.tables.length || schema === null)
        throw corrupt(where, `creates table ${tableId} out of order`);
      return;
    }
    const table = this.table(tableId, where);
    if (schema !== null && (schema.name !== table.name || schema.version <= table.schema.version))
      throw corrupt(where, `changes "${table.name}" to "${schema.name}" version ${schema.version}`);
  }

  /** A table created, changed (an added index is built at once) or dropped; checked by checkSchema. */
  private applySchema(): void {
    const ops = this.ops;
    const engine = this.engine;
    const tableId = ops.tableIds[0]!;
    const schema = schemaFromJson(ops.definitions[0]);
    const json = new TextEncoder().encode(JSON.stringify(ops.definitions[0]));
    if (ops.kinds[0] === OP_CREATE_TABLE) {
      const store = new TableStore(tableId, schema!);
      engine.sink.createTable(tableId, json);
      engine.tables.push(store);
      engine.tablesByName.set(store.name, store);
      return;
    }
    const table = engine.tables[tableId]!;
    engine.sink.changeTable(tableId, json);
    if (schema === null) {
      engine.tablesByName.delete(table.name);
      table.drop();
      this.onDrop(table.name);
      return;
    }
    for (const ix of table.applySchema(schema)) fillIndexNow(table, ix);
  }

  private table(tableId: number, where: () => string): TableStore {
    const table = this.engine.tables[tableId];
    if (table === undefined || table.dropped) throw corrupt(where, `names unknown table ${tableId}`);
    return table;
  }
}

function corrupt(where: () => string, what: string): TidemarkError {
  return new TidemarkError(ErrorCode.CORRUPT, `${where()} ${what}`);
}
