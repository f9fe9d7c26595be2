/**
 * The log record: one per committed transaction, self-describing and
 * versioned so it can later travel to replicas. The same bytes go through
 * the log ring, into WAL batches, and are replayed at open. Layout in
 * docs/FORMAT.md ("Log record").
 *
 *   record  = u32 bodyLength, body
 *   body    = u8 type (1 = commit), u8 version (1), u16 0, f64 commitTs, u32 opCount, op*
 *   op      = u8 kind, u8 0, u16 tableId, f64 versionId, u32 length, length bytes
 *     kind 1 insert        versionId of the new version, bytes = row payload
 *     kind 2 delete        versionId of the version it ends, bytes = the row's key
 *     kind 3 create table  versionId 0, bytes = UTF-8 JSON of the stored table definition
 *     kind 4 change table  versionId 0, bytes = UTF-8 JSON of its new stored definition, or `null` (dropped)
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { checkStoredDefinition } from '../schema/stored.js';

export const RECORD_COMMIT = 1;
export const RECORD_VERSION = 1;
export const OP_INSERT = 1;
export const OP_DELETE = 2;
export const OP_CREATE_TABLE = 3;
export const OP_CHANGE_TABLE = 4;

export const RECORD_PREFIX_BYTES = 4;
export const BODY_HEADER_BYTES = 16;
export const OP_HEADER_BYTES = 16;

/** Builds records in a growable buffer; the log sink copies each finished one into the ring. */
export class RecordBuilder {
  bytes = new Uint8Array(64 * 1024);
  view = new DataView(this.bytes.buffer);
  length = 0;
  private ops = 0;

  begin(commitTs: number): void {
    this.length = RECORD_PREFIX_BYTES + BODY_HEADER_BYTES;
    this.ops = 0;
    const v = this.view;
    v.setUint8(4, RECORD_COMMIT);
    v.setUint8(5, RECORD_VERSION);
    v.setUint16(6, 0, true);
    v.setFloat64(8, commitTs, true);
  }

  op(kind: number, tableId: number, versionId: number, source: Uint8Array, offset: number, length: number): void {
    this.ensure(OP_HEADER_BYTES + length);
    const v = this.view;
    const at = this.length;
    v.setUint8(at, kind);
    v.setUint8(at + 1, 0);
    v.setUint16(at + 2, tableId, true);
    v.setFloat64(at + 4, versionId, true);
    v.setUint32(at + 12, length, true);
    const to = at + OP_HEADER_BYTES;
    if (length <= 64) for (let i = 0; i < length; i++) this.bytes[to + i] = source[offset + i]!;
    else this.bytes.set(source.subarray(offset, offset + length), to);
    this.length = to + length;
    this.ops++;
  }

  /** Finishes the record; bytes[0, length) is the whole record, prefix included. */
  end(): void {
    this.view.setUint32(0, this.length - RECORD_PREFIX_BYTES, true);
    this.view.setUint32(RECORD_PREFIX_BYTES + 12, this.ops, true);
  }

  private ensure(more: number): void {
    if (this.length + more <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + more) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
}

export interface RecordVisitor {
  commit(commitTs: number): void;
  insert(tableId: number, versionId: number, bytes: Uint8Array, offset: number, length: number): void;
  delete(tableId: number, versionId: number, key: Uint8Array, offset: number, length: number): void;
  createTable(tableId: number, definition: unknown): void;
  /** A schema change: the table's new stored definition, or null when it was dropped. */
  changeTable(tableId: number, definition: unknown): void;
  end(commitTs: number): void;
}

/**
 * Decodes one record body at bytes[offset, offset + length) and calls the
 * visitor; every length is checked against the body's bounds first. `where`
 * names the file and offset for errors. Nothing is allocated per record
 * (the streamer and recovery decode millions): numbers are read in place
 * through `view`, a DataView over the whole of `bytes`, which the callers
 * that decode many records (the streamer, replay, verify) keep for their
 * buffer; without one, one is made for the call. Reading each float64 byte
 * by byte through a scratch view instead cost the streamer a quarter of its
 * streaming time.
 */
export function visitRecord(
  bytes: Uint8Array,
  offset: number,
  length: number,
  visitor: RecordVisitor,
  where: () => string,
  view?: DataView,
): number {
  const end = offset + length;
  if (length < BODY_HEADER_BYTES) throw corrupt(where, offset, 'shorter than its header', offset);
  if (offset < 0 || end > bytes.length) throw corrupt(where, offset, 'past the end of its buffer', offset);
  const v = view ?? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[offset] !== RECORD_COMMIT) throw corrupt(where, offset, `of unknown type ${bytes[offset]}`, offset);
  if (bytes[offset + 1] !== RECORD_VERSION)
    throw corrupt(where, offset, `of unknown version ${bytes[offset + 1]}`, offset + 1);
  const commitTs = v.getFloat64(offset + 4, true);
  if (!Number.isSafeInteger(commitTs) || commitTs <= 0)
    throw corrupt(where, offset, 'with an invalid commitTs', offset + 4);
  const opCount = v.getUint32(offset + 12, true);
  visitor.commit(commitTs);
  let at = offset + BODY_HEADER_BYTES;
  for (let i = 0; i < opCount; i++) {
    if (at + OP_HEADER_BYTES > end) throw corrupt(where, offset, `op ${i} past the end`, at);
    const kind = bytes[at]!;
    const tableId = bytes[at + 2]! | (bytes[at + 3]! << 8);
    const versionId = v.getFloat64(at + 4, true);
    const size = v.getUint32(at + 12, true);
    const data = at + OP_HEADER_BYTES;
    if (size > end - data) throw corrupt(where, offset, `op ${i} longer than the record`, at + 12);
    if (kind === OP_INSERT) visitor.insert(tableId, versionId, bytes, data, size);
    else if (kind === OP_DELETE) visitor.delete(tableId, versionId, bytes, data, size);
    else if (kind === OP_CREATE_TABLE || kind === OP_CHANGE_TABLE) {
      const definition = parseDefinition(bytes, data, size, () =>
        corrupt(where, offset, 'with a bad table definition', data),
      );
      if (kind === OP_CHANGE_TABLE) visitor.changeTable(tableId, definition);
      else if (definition === null) throw corrupt(where, offset, 'creating a table without a definition', data);
      else visitor.createTable(tableId, definition);
    } else throw corrupt(where, offset, `op ${i} of unknown kind ${kind}`, at);
    at = data + size;
  }
  if (at !== end) throw corrupt(where, offset, 'with trailing bytes', at);
  visitor.end(commitTs);
  return commitTs;
}

function corrupt(where: () => string, offset: number, what: string, at: number): TidemarkError {
  return new TidemarkError(ErrorCode.CORRUPT, `${where()}: log record ${what} at byte ${at - offset} of the record`);
}

/** The op's stored table definition (or null), checked as schemaFromStored checks it: one no table can have is CORRUPT. */
function parseDefinition(bytes: Uint8Array, offset: number, length: number, bad: () => TidemarkError): unknown {
  let definition: unknown;
  try {
    definition = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(offset, offset + length)));
  } catch {
    throw bad();
  }
  if (checkStoredDefinition(definition) !== null) throw bad();
  return definition;
}
