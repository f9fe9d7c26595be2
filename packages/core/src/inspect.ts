/**
 * `inspect(dir)`: what a database directory holds, read from its newest
 * root file and the directory listing, without opening the database — no
 * LOCK taken, nothing written, no worker started, no row decoded. It is the
 * cheap look (`tidemark inspect`); `verify` is the thorough one.
 *
 * Rows are those of `db.checkpointFiles()` (one per file: data and delta
 * files of every pair the root lists, roots, WAL segments), plus per pair
 * its live fraction (row versions not tombstoned, over row versions), and
 * totals. A directory without a root (new, or never checkpointed) reports
 * root null and lists its WAL segments.
 */
import { basename } from 'node:path';
import { inventoryRows, type CheckpointFile } from './checkpoint/inventory.js';
import { readNewestRoot } from './checkpoint/root_format.js';
import { ErrorCode, TidemarkError } from './errors.js';
import { NodeFileLayer, type FileLayer } from './files/file_layer.js';
import { checkOptionKeys } from './options.js';
import type { CfpState } from './checkpoint/cfp_format.js';

export interface InspectedPair {
  pairId: number;
  state: CfpState;
  firstCommitTs: number;
  lastCommitTs: number;
  /** Row versions in the data file, and how many of them the delta file tombstones. */
  rows: number;
  tombstones: number;
  /** (rows - tombstones) / rows; 1 for an empty pair. */
  liveFraction: number;
  dataBytes: number;
  deltaBytes: number;
}

export interface InspectReport {
  dir: string;
  /** The newest root that verifies; null when there is none. */
  root: {
    file: string;
    seq: number;
    checkpointTs: number;
    /** Where the WAL replays from. */
    wal: { seq: number; offset: number };
    writtenAt: string;
    /** Each live table of the catalog: its name, schema version (1 until its schema first changes) and rows. */
    tables: Array<{ name: string; version: number; rows: number | null }>;
  } | null;
  /** Newer roots that did not verify, with why. */
  skippedRoots: Array<{ file: string; reason: string }>;
  files: CheckpointFile[];
  pairs: InspectedPair[];
  totals: {
    /** Bytes on disk of data and delta files, of WAL segments in use, of free segments, of roots. */
    dataBytes: number;
    deltaBytes: number;
    walBytes: number;
    freeWalBytes: number;
    rootBytes: number;
    rows: number;
    tombstones: number;
    /** Over every pair that holds rows. */
    liveFraction: number;
  };
}

const LAYER_KEYS: ReadonlySet<string> = new Set(['layer']);

/** The schema version a stored definition names (1 when it names none: never changed). */
function schemaVersion(definition: unknown): number {
  const version = (definition as { version?: unknown }).version;
  return typeof version === 'number' ? version : 1;
}

function tableName(definition: unknown, id: number): string {
  const name = (definition as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : `#${id}`;
}

/** Reads `dir`'s root and listing; NOT_FOUND-like errors come from the file layer (TM_IO_ERROR naming the path). */
export function inspect(dir: string, options: { layer?: FileLayer } = {}): InspectReport {
  checkOptionKeys(options, LAYER_KEYS);
  const layer = options.layer ?? new NodeFileLayer();
  if (!layer.exists(dir)) throw new TidemarkError(ErrorCode.IO_ERROR, `no database directory at ${dir}`);
  const newest = readNewestRoot(layer, dir);
  const root = newest.root;
  const inventory =
    root === null
      ? { rootSeq: -1, checkpointTs: 0, wal: { seq: 0, offset: 0 }, cfps: [] }
      : { rootSeq: root.seq, checkpointTs: root.checkpointTs, wal: root.wal, cfps: root.cfps };
  const files = inventoryRows(layer, dir, inventory);
  const pairs: InspectedPair[] = (root?.cfps ?? []).map((c) => {
    const data = files.find((f) => f.pairId === c.id && f.kind === 'data');
    const delta = files.find((f) => f.pairId === c.id && f.kind === 'delta');
    return {
      pairId: c.id,
      state: c.state,
      firstCommitTs: c.firstCommitTs,
      lastCommitTs: c.lastCommitTs,
      rows: c.rows,
      tombstones: c.tombstones,
      liveFraction: c.rows === 0 ? 1 : (c.rows - c.tombstones) / c.rows,
      dataBytes: data?.sizeBytes ?? 0,
      deltaBytes: delta?.sizeBytes ?? 0,
    };
  });
  const sum = (kind: CheckpointFile['kind']): number =>
    files.filter((f) => f.kind === kind).reduce((n, f) => n + f.sizeBytes, 0);
  const holding = pairs.filter((p) => p.state === 'ACTIVE' || p.state === 'UNDER_CONSTRUCTION');
  const rows = holding.reduce((n, p) => n + p.rows, 0);
  const tombstones = holding.reduce((n, p) => n + p.tombstones, 0);
  return {
    dir,
    root:
      root === null
        ? null
        : {
            file: basename(newest.file!),
            seq: root.seq,
            checkpointTs: root.checkpointTs,
            wal: { ...root.wal },
            writtenAt: new Date(root.writtenAt).toISOString(),
            tables: root.catalog.flatMap((def, id) =>
              def === null
                ? []
                : [{ name: tableName(def, id), version: schemaVersion(def), rows: root.tableRows?.[id] ?? null }],
            ),
          },
    skippedRoots: newest.skipped,
    files,
    pairs,
    totals: {
      dataBytes: sum('data'),
      deltaBytes: sum('delta'),
      walBytes: sum('wal'),
      freeWalBytes: sum('free'),
      rootBytes: sum('root'),
      rows,
      tombstones,
      liveFraction: rows === 0 ? 1 : (rows - tombstones) / rows,
    },
  };
}
