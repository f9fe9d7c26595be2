/**
 * The commit pipeline, one synchronous pass on the main thread:
 *
 *   validate ─► stamp versionIds and commitTs ─► install versions ─► hand the change to the log sink
 *
 * Validation does every check that can fail (write-write conflicts, the read
 * set in serializable mode, unique indexes, room in arenas and on the clock)
 * before anything is changed, so a commit either installs all of its writes
 * or none. Installing copies each row's bytes from the write set into the
 * arena once; the log sink receives those arena bytes.
 */
import { VERSION_FLAG_DELETED, VERSION_HEADER_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { BODY_HEADER_BYTES, OP_HEADER_BYTES } from '../log/record.js';
import { offsetOf, segmentOf } from '../table/arena.js';
import type { Engine } from './engine.js';
import type { ReadSet } from './read_set.js';
import type { LogSink } from './sink.js';
import { checkUniqueIndexes } from './unique.js';
import { DELETE, type WriteSet } from './write_set.js';

/**
 * Commits the write set read at `snapshot` (taken at `epoch`); returns the
 * commitTs, or the snapshot if nothing was written.
 */
export function commitWrites(
  engine: Engine,
  ws: WriteSet,
  snapshot: number,
  epoch: number,
  reads: ReadSet | null,
): number {
  engine.checkOpen();
  // With no snapshot open, nothing can see the versions a write replaces:
  // they are retired at once instead of queued. Collect what is queued first
  // (it moves the epoch, so staged heads are looked up again).
  const retireNow = engine.snapshots.active === 0;
  if (retireNow) engine.collectGarbage();
  try {
    if (reads !== null) reads.validate(snapshot);
    if (ws.count === 0) return snapshot;
    engine.checkWritable();
    // Nothing committed or collected since the snapshot: the staged heads are current and nothing can conflict.
    if (epoch !== engine.epoch) findHeads(ws, snapshot);
    checkUniqueIndexes(ws, ws.heads);
    checkRoom(engine, ws);
  } catch (error) {
    engine.counters.aborts++;
    if (error instanceof TidemarkError && error.code === ErrorCode.CONFLICT) engine.counters.conflicts++;
    throw error;
  }
  return install(engine, ws, retireNow);
}

function findHeads(ws: WriteSet, snapshot: number): void {
  for (let i = 0; i < ws.count; i++) {
    const table = ws.tables[i]!;
    // A drop is a commit, so a transaction staged before one always comes here.
    if (table.dropped) throw new TidemarkError(ErrorCode.UNKNOWN_TABLE, `table "${table.name}" was dropped`);
    const head = table.primary.find(ws.hashes[i]!, ws.buf, ws.offsets[i]!, ws.keyLengths[i]!);
    if (head !== 0 && table.arena.versionId(head) > snapshot) {
      throw new TidemarkError(
        ErrorCode.CONFLICT,
        `a row of "${table.name}" written by this transaction was changed by another transaction that committed first`,
      );
    }
    ws.heads[i] = head;
  }
}

function checkRoom(engine: Engine, ws: WriteSet): void {
  engine.clock.checkRoom(ws.count);
  const sink = engine.sink;
  if (sink.backlogBytes > engine.maxBacklogBytes) {
    throw new TidemarkError(
      ErrorCode.BUSY,
      `the log is ${sink.backlogBytes} bytes behind (options.maxBacklogBytes is ${engine.maxBacklogBytes}); retry once earlier commits are durable`,
    );
  }
  // An upper bound of the log record: every write may also end an older version.
  let recordBytes = BODY_HEADER_BYTES;
  for (let i = 0; i < ws.count; i++) {
    // One check per write is conservative and cheap; commits are small.
    ws.tables[i]!.arena.checkRoom(ws.lengths[i]! + VERSION_HEADER_BYTES);
    recordBytes += 2 * OP_HEADER_BYTES + ws.lengths[i]! + ws.keyLengths[i]!;
  }
  if (recordBytes > sink.maxRecordBytes) {
    throw new TidemarkError(
      ErrorCode.LIMIT_EXCEEDED,
      `the transaction's log record may reach ${recordBytes} bytes, more than the log takes (${sink.maxRecordBytes}; see options.ringBytes and options.walSegmentBytes)`,
    );
  }
}

function install(engine: Engine, ws: WriteSet, retireNow: boolean): number {
  const sink = engine.sink;
  const commitTs = engine.stampCommit(ws.count);
  const heads = ws.heads;
  let logged = false;
  let versionId = commitTs - ws.count;
  for (let i = 0; i < ws.count; i++) {
    versionId++;
    const table = ws.tables[i]!;
    // schemaOnly tables are never logged; the record starts with the first logged write.
    const log = table.logged;
    if (log && !logged) {
      sink.begin(commitTs);
      logged = true;
    }
    const head = heads[i]!;
    const headLive = head !== 0 && !table.arena.isDeleted(head);
    if (ws.kinds[i] === DELETE) {
      if (headLive) installDelete(engine, ws, i, versionId, retireNow, commitTs, log);
      continue;
    }
    if (headLive && log) sink.delete(table.id, table.arena.versionId(head), ws.buf, ws.offsets[i]!, ws.keyLengths[i]!);
    if (!headLive) table.liveRows++;
    installPut(engine, ws, i, versionId, retireNow, commitTs, log);
  }
  if (logged) sink.end();
  engine.publishCommit(commitTs, logged);
  engine.counters.commits++;
  return commitTs;
}

/**
 * Commits a schema change as a commit of one version: stamped, logged and
 * published like any other, so snapshots and durability see it in commit
 * order. `log` writes the change's operation into the open record. Not
 * counted in the commit counters, which count transactions.
 */
export function commitSchemaChange(engine: Engine, log: (sink: LogSink) => void): number {
  engine.clock.checkRoom(1);
  const commitTs = engine.stampCommit(1);
  engine.sink.begin(commitTs);
  log(engine.sink);
  engine.sink.end();
  engine.publishCommit(commitTs, true);
  return commitTs;
}

/** Installs write i of the set as a new version over `ws.heads[i]`. */
function installPut(
  engine: Engine,
  ws: WriteSet,
  i: number,
  versionId: number,
  retireNow: boolean,
  commitTs: number,
  log: boolean,
): void {
  const table = ws.tables[i]!;
  const head = ws.heads[i]!;
  const arena = table.arena;
  const length = ws.lengths[i]!;
  const ptr = arena.append(length, versionId, retireNow ? 0 : head, 0);
  const u8 = arena.u8s[segmentOf(ptr)]!;
  const at = offsetOf(ptr) + VERSION_HEADER_BYTES;
  copyBytes(ws.buf, ws.offsets[i]!, u8, at, length);
  if (head === 0) table.primary.insert(ws.hashes[i]!, ptr);
  else table.primary.replace(ws.hashes[i]!, head, ptr);
  table.indexVersion(ptr);
  if (log) engine.sink.insert(table.id, versionId, u8, at, length);
  if (head === 0) return;
  if (retireNow) table.retireChain(head);
  else engine.garbage.push(commitTs, table, ptr);
}

/** Ends the live version `ws.heads[i]` with a delete marker, or drops the row if no snapshot needs it. */
function installDelete(
  engine: Engine,
  ws: WriteSet,
  i: number,
  versionId: number,
  retireNow: boolean,
  commitTs: number,
  log: boolean,
): void {
  const table = ws.tables[i]!;
  const head = ws.heads[i]!;
  const keyLength = ws.keyLengths[i]!;
  if (log) engine.sink.delete(table.id, table.arena.versionId(head), ws.buf, ws.offsets[i]!, keyLength);
  table.liveRows--;
  if (retireNow) {
    // No snapshot needs the row: drop it without writing a delete marker.
    table.primary.remove(ws.hashes[i]!, head);
    table.retireChain(head);
    return;
  }
  const arena = table.arena;
  const ptr = arena.append(keyLength, versionId, head, VERSION_FLAG_DELETED);
  copyBytes(ws.buf, ws.offsets[i]!, arena.u8s[segmentOf(ptr)]!, offsetOf(ptr) + VERSION_HEADER_BYTES, keyLength);
  table.primary.replace(ws.hashes[i]!, head, ptr);
  engine.garbage.push(commitTs, table, ptr);
}

/** Small copies byte by byte (no subarray view to allocate); large ones with set(). */
function copyBytes(source: Uint8Array, from: number, target: Uint8Array, to: number, length: number): void {
  if (length <= 64) {
    for (let k = 0; k < length; k++) target[to + k] = source[from + k]!;
  } else target.set(source.subarray(from, from + length), to);
}
