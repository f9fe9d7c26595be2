/**
 * Named change-feed cursors (`db.changes({ cursor })`): each consumer's
 * position, the last commitTs it acknowledged, kept in the database
 * directory's `cursors` file: the file header ("TMCURS01", size = body
 * bytes, aux = CRC-32 of the body), then UTF-8 JSON `{ "name": commitTs }`,
 * replaced durably at each ack (temp file, fdatasync, rename, directory
 * fsync: docs/FORMAT.md, "Cursors file"). The oldest position is published
 * to the log writer (CURSOR_TS), which then recycles no WAL segment holding
 * a commit after it, up to options.maxRetainedWalBytes; past that the
 * segments go and the cursor's next read fails with CHANGES_EXPIRED.
 */
import { crc32 } from 'node:zlib';
import { ErrorCode, TidemarkError } from '../errors.js';
import { decodeFileHeader, encodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';
import { readFile, writeFileDurably, type FileLayer } from '../files/file_layer.js';
import { CURSOR_TS } from '../log/log_control.js';
import { join } from 'node:path';

export const CURSORS_NAME = 'cursors';
const MAGIC = 'TMCURS01';
const VERSION = 1;

export class Cursors {
  private readonly positions = new Map<string, number>();

  constructor(
    private readonly layer: FileLayer,
    private readonly dir: string,
    private readonly cells: BigInt64Array,
  ) {
    const path = join(dir, CURSORS_NAME);
    if (layer.exists(path)) {
      for (const [name, ts] of Object.entries(decodeCursors(readFile(layer, path), path))) this.positions.set(name, ts);
    }
    this.publish();
  }

  get(name: string): number | undefined {
    return this.positions.get(name);
  }

  /** Records `name` at `commitTs`, durably; a cursor never moves back. */
  set(name: string, commitTs: number): void {
    if (commitTs <= (this.positions.get(name) ?? -1)) return;
    this.positions.set(name, commitTs);
    const body = new TextEncoder().encode(JSON.stringify(Object.fromEntries(this.positions)));
    const header = encodeFileHeader({
      magic: MAGIC,
      version: VERSION,
      id: 0,
      databaseId: 0n,
      size: body.length,
      aux: crc32(body),
    });
    const bytes = new Uint8Array(FILE_HEADER_BYTES + body.length);
    bytes.set(header, 0);
    bytes.set(body, FILE_HEADER_BYTES);
    writeFileDurably(this.layer, this.dir, CURSORS_NAME, bytes);
    this.publish();
  }

  private publish(): void {
    const oldest = Math.min(...this.positions.values());
    Atomics.store(this.cells, CURSOR_TS, BigInt(Number.isFinite(oldest) ? oldest : -1));
  }
}

export function decodeCursors(bytes: Uint8Array, path: string): Record<string, number> {
  const header = decodeFileHeader(bytes, MAGIC, VERSION, path, 'cursors file');
  const body = bytes.subarray(FILE_HEADER_BYTES);
  const bad = (why: string): TidemarkError =>
    new TidemarkError(ErrorCode.CORRUPT, `${path}: ${why} (offset ${FILE_HEADER_BYTES})`);
  if (body.length !== header.size || crc32(body) !== header.aux) throw bad('the body fails its length or checksum');
  let cursors: unknown;
  try {
    cursors = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw bad('the body is not JSON');
  }
  if (typeof cursors !== 'object' || cursors === null || Array.isArray(cursors))
    throw bad('the body is not an object of positions');
  for (const ts of Object.values(cursors))
    if (!Number.isSafeInteger(ts) || (ts as number) < 0) throw bad('a position is not a commitTs');
  return cursors as Record<string, number>;
}
