/**
 * The stream's messages (docs/FORMAT.md, "Replication messages"). A group is
 * consecutive log records of one database, `u32 length | body` each (the
 * WAL's record layout); a group larger than one message is cut into chunks
 * that a replica joins back before it applies any record of the group.
 *
 *   headers  Tm-V 1 · Tm-Db <databaseId> · Tm-Writer <id of the shipping process>
 *            Tm-After <commitTs of the record before the group> · Tm-Last <commitTs of its last record>
 *            Tm-Digest <crc32 of the group's last record body> · Tm-Chunk <i>/<n> · Tm-Crc <crc32 of this chunk's payload>
 *            Tm-Epoch <the writer's lease epoch; absent: 0>
 *   msgID    <databaseId>:<Tm-Last>:<i>   (a retried publish of the same chunk is stored once)
 *            <databaseId>:<Tm-Last>:e<epoch>   (an empty group: a term's opening marker, or a checkpoint floor)
 */
import { crc32 } from 'node:zlib';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { ErrorCode, type RecordBatch, TidemarkError } from '@tidemark/core';

export const WIRE_VERSION = '1';

export interface GroupHeader {
  databaseId: string;
  writer: string;
  /** The commitTs of the record shipped before the group (0: none): a replica behind it missed commits. */
  after: number;
  /** The commitTs of the group's last record. */
  last: number;
  /** crc32 of the last record's body: a primary resuming checks that the stream's history is its own. */
  digest: number;
  /** The writer's lease epoch (0: no lease). Never falls along the stream. */
  epoch: number;
}

export interface Chunk {
  header: GroupHeader;
  index: number;
  count: number;
  payload: Uint8Array;
  msgID: string;
  headers: MsgHdrs;
}

/** Cuts a group's payload into chunks of at most `chunkBytes`. */
export function chunksOf(header: GroupHeader, payload: Uint8Array, chunkBytes: number): Chunk[] {
  const count = Math.max(1, Math.ceil(payload.length / chunkBytes));
  const out: Chunk[] = [];
  for (let index = 0; index < count; index++) {
    const part = payload.subarray(index * chunkBytes, Math.min(payload.length, (index + 1) * chunkBytes));
    const h = headers();
    h.set('Tm-V', WIRE_VERSION);
    h.set('Tm-Db', header.databaseId);
    h.set('Tm-Writer', header.writer);
    h.set('Tm-After', String(header.after));
    h.set('Tm-Last', String(header.last));
    h.set('Tm-Digest', String(header.digest));
    h.set('Tm-Chunk', `${index}/${count}`);
    h.set('Tm-Crc', String(crc32(part)));
    if (header.epoch > 0) h.set('Tm-Epoch', String(header.epoch));
    out.push({
      header,
      index,
      count,
      payload: part,
      msgID: `${header.databaseId}:${header.last}:${payload.length === 0 ? `e${header.epoch}` : index}`,
      headers: h,
    });
  }
  return out;
}

/** A chunk as received: its header checked (CORRUPT when it is not one of ours, or its bytes changed). */
export function readChunk(
  h: MsgHdrs | undefined,
  payload: Uint8Array,
  where: string,
): Omit<Chunk, 'msgID' | 'headers'> {
  const bad = (what: string) => new TidemarkError(ErrorCode.CORRUPT, `${where}: ${what}`);
  if (h === undefined || h.get('Tm-V') !== WIRE_VERSION) throw bad('not a Tidemark replication message of version 1');
  const after = Number(h.get('Tm-After'));
  const last = Number(h.get('Tm-Last'));
  const [i, n] = h.get('Tm-Chunk').split('/').map(Number);
  // An empty group (after = last) opens a writer's term, or marks where the stream goes on after a checkpoint.
  const empty = last === after && payload.length === 0 && h.get('Tm-Chunk') === '0/1';
  if (!Number.isSafeInteger(after) || !Number.isSafeInteger(last) || (last <= after && !empty))
    throw bad('bad Tm-After or Tm-Last header');
  if (!Number.isSafeInteger(i) || !Number.isSafeInteger(n) || i! < 0 || n! < 1 || i! >= n!)
    throw bad('bad Tm-Chunk header');
  if (String(crc32(payload)) !== h.get('Tm-Crc')) throw bad('its payload does not match its checksum');
  const digest = Number(h.get('Tm-Digest'));
  if (!Number.isInteger(digest) || digest < 0) throw bad('bad Tm-Digest header');
  const epoch = h.has('Tm-Epoch') ? Number(h.get('Tm-Epoch')) : 0;
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw bad('bad Tm-Epoch header');
  const header = { databaseId: h.get('Tm-Db'), writer: h.get('Tm-Writer'), after, last, digest, epoch };
  return { header, index: i!, count: n!, payload };
}

/** Joins the chunks of one group as they arrive in stream order; `add` returns the group once whole. */
export class GroupAssembler {
  private parts: Uint8Array[] = [];
  private header: GroupHeader | null = null;

  add(chunk: Omit<Chunk, 'msgID' | 'headers'>): { header: GroupHeader; payload: Uint8Array } | null {
    // A first chunk starts a group; one that does not follow the chunks held (a group cut short when its
    // writer stopped, shipped again later) drops them.
    if (chunk.index === 0 || this.header === null || chunk.header.last !== this.header.last) {
      this.parts = [];
      this.header = null;
      if (chunk.index !== 0) return null;
      this.header = chunk.header;
    }
    if (chunk.index !== this.parts.length) {
      this.parts = [];
      this.header = null;
      return null;
    }
    this.parts.push(chunk.payload);
    if (this.parts.length < chunk.count) return null;
    const header = this.header!;
    const payload = this.parts.length === 1 ? this.parts[0]! : concat(this.parts);
    this.parts = [];
    this.header = null;
    return { header, payload };
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Calls `fn` with each record body of a group's payload, in order. */
export function forEachRecord(payload: Uint8Array, fn: (body: Uint8Array) => void, where: string): void {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = 0;
  while (at < payload.length) {
    if (at + 4 > payload.length) throw new TidemarkError(ErrorCode.CORRUPT, `${where}: a record cut short`);
    const length = view.getUint32(at, true);
    if (at + 4 + length > payload.length) throw new TidemarkError(ErrorCode.CORRUPT, `${where}: a record cut short`);
    fn(payload.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
}

/** `u32 length | body` of each record, in order. */
export function framed(batch: RecordBatch[]): Uint8Array {
  let bytes = 0;
  for (const r of batch) bytes += 4 + r.body.length;
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const { body } of batch) {
    view.setUint32(at, body.length, true);
    out.set(body, at + 4);
    at += 4 + body.length;
  }
  return out;
}
