/**
 * The root file: the inventory a checkpoint publishes. Layout in
 * docs/FORMAT.md ("Root file"):
 *
 *   root-<seq> = file header ("TMROOT01", id = seq, databaseId, size = body bytes, aux = crc32(body)) | body
 *   body       = UTF-8 JSON of RootBody
 *
 * Written to a temp name, fsynced, renamed, directory fsynced. At open the
 * highest root whose header and body verify wins; one that does not (torn,
 * damaged) is skipped with a warning.
 */
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';
import { readFile, type FileLayer } from '../files/file_layer.js';
import { decodeFileHeader, encodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';
import { CfpState, DATA_ENTRY_HEADER_BYTES, DELTA_ENTRY_BYTES } from './cfp_format.js';
import { checkStoredDefinition } from '../schema/stored.js';

export const ROOT_MAGIC = 'TMROOT01';
export const ROOT_VERSION = 1;

/** One CFP as the root records it. */
export interface CfpEntry {
  id: number;
  state: CfpState;
  /** VersionIds this CFP holds: [minVersion, maxVersion]; maxVersion null while UNDER_CONSTRUCTION or PRECREATED. */
  minVersion: number;
  maxVersion: number | null;
  /** Commit timestamps of the first and last commit with rows here (0 if none). */
  firstCommitTs: number;
  lastCommitTs: number;
  /** Bytes of the data file's capacity, and the valid lengths of both files. */
  capacity: number;
  dataLength: number;
  deltaLength: number;
  rows: number;
  tombstones: number;
  /** The seq of the root it first appeared in as more than PRECREATED. */
  sinceCheckpoint: number;
}

export interface RootBody {
  seq: number;
  databaseId: string;
  /** Every commit at or below it is in the CFP files; the WAL replays from after it. */
  checkpointTs: number;
  /** The first WAL batch after the checkpoint: segment and offset. Segments before `seq` are free. */
  wal: { seq: number; offset: number };
  nextFileId: number;
  /** Table definitions (as their JSON), by table id. */
  catalog: unknown[];
  /**
   * Live rows of each table at checkpointTs, by table id: recovery sizes its
   * indexes from them. Every root written carries it; a root without it is
   * still read (the indexes are then sized from the pairs' counts).
   */
  tableRows?: number[];
  cfps: CfpEntry[];
  /** WAL bytes streamed in all, and when the root was written (ms since the epoch). */
  walBytesStreamed: number;
  writtenAt: number;
}

export function rootName(seq: number): string {
  return `root-${seq.toString(16).padStart(16, '0')}`;
}

export function rootSeq(name: string): number {
  const m = /^root-([0-9a-f]{16})$/.exec(name);
  return m === null ? -1 : Number.parseInt(m[1]!, 16);
}

export function encodeRoot(body: RootBody): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(body));
  const header = encodeFileHeader({
    magic: ROOT_MAGIC,
    version: ROOT_VERSION,
    id: body.seq,
    databaseId: BigInt(body.databaseId),
    size: json.length,
    aux: crc32(json),
  });
  const bytes = new Uint8Array(FILE_HEADER_BYTES + json.length);
  bytes.set(header, 0);
  bytes.set(json, FILE_HEADER_BYTES);
  return bytes;
}

/**
 * Decodes a root file's bytes; CORRUPT naming the file and offset if any
 * check fails. `seq`, when given, is the seq the file's name says: a root
 * renamed over another (or a copy under another name) is CORRUPT.
 */
export function decodeRoot(bytes: Uint8Array, file: string, seq: number | null = null): RootBody {
  const header = decodeFileHeader(bytes, ROOT_MAGIC, ROOT_VERSION, file, 'root file');
  const bad = (why: string, offset: number): TidemarkError =>
    new TidemarkError(ErrorCode.CORRUPT, `${file}: root file ${why} (offset ${offset})`);
  if (seq !== null && header.id !== seq) throw bad(`header names root ${header.id}, its file name ${seq}`, 16);
  if (bytes.length !== FILE_HEADER_BYTES + header.size)
    throw bad(`is ${bytes.length} bytes, its header says ${FILE_HEADER_BYTES + header.size}`, bytes.length);
  const json = bytes.subarray(FILE_HEADER_BYTES);
  if (crc32(json) !== header.aux) throw bad('body fails its checksum', FILE_HEADER_BYTES);
  let body: RootBody;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json)) as RootBody;
  } catch {
    throw bad('body is not valid JSON', FILE_HEADER_BYTES);
  }
  if (!isObject(body) || body.seq !== header.id || body.databaseId !== String(header.databaseId))
    throw bad('body does not match its header', FILE_HEADER_BYTES);
  const problem = rootBodyProblem(body);
  if (problem !== null) throw bad(`body ${problem}`, FILE_HEADER_BYTES);
  return body;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const CFP_STATES = new Set<unknown>(Object.values(CfpState));
const CFP_COUNTS = [
  'id',
  'minVersion',
  'firstCommitTs',
  'lastCommitTs',
  'capacity',
  'dataLength',
  'deltaLength',
  'rows',
  'tombstones',
  'sinceCheckpoint',
] as const;

/**
 * What is wrong with a decoded body's shape, or null. The checksum only
 * says the bytes are what was written; this keeps a body that a bug or a
 * forger wrote from reaching the loaders as a TypeError or a huge
 * allocation (counts are bounded by the file lengths that must hold them).
 */
function rootBodyProblem(body: Record<string, unknown>): string | null {
  for (const key of ['checkpointTs', 'nextFileId', 'walBytesStreamed', 'writtenAt'] as const)
    if (!isCount(body[key])) return `has an invalid ${key}`;
  const wal = body.wal;
  if (!isObject(wal) || !isCount(wal.seq) || !isCount(wal.offset)) return 'has an invalid WAL position';
  if (!Array.isArray(body.catalog)) return 'has no catalog';
  for (let i = 0; i < body.catalog.length; i++) {
    const problem = checkStoredDefinition(body.catalog[i]);
    if (problem !== null) return `catalog table ${i}: ${problem}`;
  }
  if (body.tableRows !== undefined && !(Array.isArray(body.tableRows) && body.tableRows.every(isCount)))
    return 'has invalid tableRows';
  if (!Array.isArray(body.cfps)) return 'has no pair list';
  const ids = new Set<number>();
  for (const entry of body.cfps as unknown[]) {
    const problem = cfpEntryProblem(entry);
    if (problem !== null) return `pair ${isObject(entry) ? shown(entry.id) : '?'}: ${problem}`;
    const id = (entry as CfpEntry).id;
    if (ids.has(id)) return `names pair ${id} twice`;
    ids.add(id);
  }
  return null;
}

/** A value from a damaged body, for a message: numbers and short strings as they are, anything else by its type (String() of a forged object can throw). */
function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return value === null ? 'null' : `a ${Array.isArray(value) ? 'list' : typeof value}`;
}

function cfpEntryProblem(entry: unknown): string | null {
  if (!isObject(entry)) return 'is not an object';
  if (!CFP_STATES.has(entry.state)) return `has unknown state ${shown(entry.state)}`;
  for (const key of CFP_COUNTS) if (!isCount(entry[key])) return `has an invalid ${key}`;
  if (entry.maxVersion !== null && !isCount(entry.maxVersion)) return 'has an invalid maxVersion';
  const e = entry as unknown as CfpEntry;
  // Every row is a data entry of at least its header and every tombstone a delta entry.
  if (
    e.rows * DATA_ENTRY_HEADER_BYTES > e.dataLength ||
    e.tombstones * DELTA_ENTRY_BYTES > e.deltaLength ||
    e.tombstones > e.rows
  )
    return 'has counts its files cannot hold';
  return null;
}

export interface NewestRoot {
  root: RootBody | null;
  file: string | null;
  /** Roots skipped because they did not verify (newer than the one chosen). */
  skipped: Array<{ file: string; reason: string }>;
}

/** The highest root that verifies; newer ones that do not are skipped with their reason. */
export function readNewestRoot(layer: FileLayer, dir: string): NewestRoot {
  const seqs = layer
    .list(dir)
    .map(rootSeq)
    .filter((s) => s >= 0)
    .sort((a, b) => b - a);
  const skipped: NewestRoot['skipped'] = [];
  for (const seq of seqs) {
    const file = join(dir, rootName(seq));
    try {
      return { root: decodeRoot(readFile(layer, file), file, seq), file, skipped };
    } catch (error) {
      if (!(error instanceof TidemarkError) || error.code !== ErrorCode.CORRUPT) throw error;
      skipped.push({ file, reason: error.message });
    }
  }
  return { root: null, file: null, skipped };
}
