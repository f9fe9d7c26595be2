/**
 * The machine's limits, measured in the same run and in the same directory
 * as the stores, so every figure can be read as a share of what the disk or
 * the JS engine can do at all:
 * - `fdatasync`: 64-byte write + fdatasync pairs per second (one durable
 *   commit in flight can go no faster);
 * - `seqWrite`, `seqRead`: sequential bandwidth in MB/s (checkpoint
 *   streaming and recovery reading are bounded by them);
 * - `mapSet`, `mapGet`: a plain Map of row objects in a bare loop, the
 *   fastest a JS store can take or give a row;
 * - `mapSetLoop`, `mapGetLoop`: the same Map driven through the harness's
 *   own closed loop (lanes.ts) — making each row object, timing each
 *   operation — which is what every store's figure pays too, so a store's
 *   "x limit" is taken against these.
 */
import { closeSync, openSync, rmSync, writeSync, fdatasyncSync } from 'node:fs';
import { join } from 'node:path';
import { generateRows, randomIds, rowAt, type Account } from '../data.js';
import { probeFdatasync, type SyncProbe } from '../limits/fdatasync.js';
import { cacheWords, dropCaches, probeSequentialRead, type CacheDrop, type ReadProbe } from '../limits/seq_read.js';
import { probeSequentialWrite, type WriteProbe } from '../limits/seq_write.js';
import { closedLoop } from './lanes.js';
import type { Limit } from './measurement.js';

export interface LimitSizes {
  /** Seconds of the fdatasync probe. */
  syncSeconds: number;
  /** Bytes of the sequential write and read probes. */
  ioBytes: number;
  /** Rows of the Map probes. */
  mapRows: number;
}

const MB = 1e6;
const CHUNK = 1024 * 1024;

/** Writes a file of `bytes` and syncs it, for the read probe. */
function writeProbeFile(path: string, bytes: number): void {
  const chunk = Buffer.alloc(CHUNK, 0x3c);
  const fd = openSync(path, 'w');
  try {
    for (let at = 0; at < bytes; ) {
      const n = writeSync(fd, chunk, 0, Math.min(CHUNK, bytes - at), at);
      if (n <= 0) throw new Error(`short write to ${path} at ${at}`);
      at += n;
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Rows set into a Map and ids got from it, per second. */
interface MapRates {
  setsPerSecond: number;
  getsPerSecond: number;
}

function mapCeilings(rows: number, seed: number): MapRates {
  const columns = generateRows(rows, seed);
  const objects: Account[] = Array.from({ length: rows }, (_, i) => rowAt(columns, i));
  const ids = randomIds(rows, rows, seed ^ 0x9e7);
  const map = new Map<number, Account>();
  let started = performance.now();
  for (const row of objects) map.set(row.id, row);
  const setSeconds = (performance.now() - started) / 1000;
  let found = 0;
  started = performance.now();
  for (let i = 0; i < ids.length; i++) if (map.get(ids[i]!) !== undefined) found++;
  const getSeconds = (performance.now() - started) / 1000;
  if (found !== ids.length) throw new Error(`Map probe: ${found} of ${ids.length} ids found`);
  return { setsPerSecond: rows / setSeconds, getsPerSecond: rows / getSeconds };
}

/**
 * Map.set of freshly made rows and Map.get of random ids through the closed
 * loop the stores run in, over as many rows as the stores hold (a Map of
 * fewer rows fits the caches better and would set the bar too low).
 */
async function mapThroughHarness(rows: number, ops: number, seed: number, readsInFlight: number): Promise<MapRates> {
  const columns = generateRows(rows, seed);
  const ids = randomIds(ops, rows, seed ^ 0x9e7);
  let map = new Map<number, Account>();
  let found = 0;
  const setOp = (i: number): unknown => map.set(columns.ids[i]!, rowAt(columns, i));
  const getOp = (i: number): unknown => {
    const row = map.get(ids[i]!);
    if (row !== undefined) found++;
    return row;
  };
  // A first pass of each, untimed, so that neither is measured before the JIT has compiled it.
  await closedLoop(setOp, 1, rows, null);
  await closedLoop(getOp, readsInFlight, ops, null);
  map = new Map<number, Account>();
  found = 0;
  const set = await closedLoop(setOp, 1, rows, null);
  const get = await closedLoop(getOp, readsInFlight, ops, null);
  if (found !== ops) throw new Error(`Map probe: ${found} of ${ops} ids found`);
  return { setsPerSecond: set.ops / set.seconds, getsPerSecond: get.ops / get.seconds };
}

/** What the stores run, for the limits measured through the harness loop: their rows, reads and reads in flight. */
export interface HarnessShape {
  rows: number;
  reads: number;
  readsInFlight: number;
}

/** The sequential read probe, over a file written for it and removed after. */
function measureSequentialRead(dir: string, bytes: number): { read: ReadProbe; cold: CacheDrop } {
  const path = join(dir, 'seq-read-probe');
  let read: ReadProbe;
  let cold: CacheDrop;
  try {
    writeProbeFile(path, bytes);
    cold = dropCaches([path]);
    read = probeSequentialRead([{ path, bytes }]);
  } finally {
    rmSync(path, { force: true });
  }
  return { read, cold };
}

/** The disk's limits as rows of the report. */
function diskLimits(sync: SyncProbe, write: WriteProbe, read: ReadProbe, cold: CacheDrop): Limit[] {
  return [
    {
      key: 'fdatasync',
      name: 'fdatasync rate',
      unit: 'syncs/s',
      value: sync.syncs / sync.seconds,
      note: `64-byte write + fdatasync, ${sync.syncs.toLocaleString('en-US')} pairs; p99 ${sync.latency.p99Ms.toFixed(2)} ms`,
    },
    {
      key: 'seqWrite',
      name: 'sequential write',
      unit: 'MB/s',
      value: write.bytes / MB / write.seconds,
      note: `${(write.bytes / MB).toFixed(0)} MB in 1 MiB writes, then fdatasync`,
    },
    {
      key: 'seqRead',
      name: 'sequential read',
      unit: 'MB/s',
      value: read.bytes / MB / read.seconds,
      note: `${(read.bytes / MB).toFixed(0)} MB in 4 MiB reads, page cache ${cacheWords(cold)}`,
    },
  ];
}

/** The JS engine's limits (a bare Map, and the same Map through the harness loop) as rows of the report. */
function mapLimits(map: MapRates, harness: MapRates, mapRows: number, shape: HarnessShape): Limit[] {
  return [
    {
      key: 'mapSet',
      name: 'Map.set',
      unit: 'rows/s',
      value: map.setsPerSecond,
      note: `${mapRows.toLocaleString('en-US')} row objects made beforehand, set into an empty Map`,
    },
    {
      key: 'mapGet',
      name: 'Map.get',
      unit: 'gets/s',
      value: map.getsPerSecond,
      note: `${mapRows.toLocaleString('en-US')} random ids`,
    },
    {
      key: 'mapSetLoop',
      name: 'Map.set through the harness loop',
      unit: 'rows/s',
      value: harness.setsPerSecond,
      note: `${shape.rows.toLocaleString('en-US')} rows, each row object made and each set timed, one in flight, as the stores' commits are`,
    },
    {
      key: 'mapGetLoop',
      name: 'Map.get through the harness loop',
      unit: 'gets/s',
      value: harness.getsPerSecond,
      note: `${shape.reads.toLocaleString('en-US')} gets over ${shape.rows.toLocaleString('en-US')} rows, each timed, ${shape.readsInFlight} in flight, as the stores' reads are`,
    },
  ];
}

/** Every limit, measured in `dir`. */
export async function measureLimits(
  dir: string,
  sizes: LimitSizes,
  seed: number,
  shape: HarnessShape,
): Promise<Limit[]> {
  const sync = probeFdatasync(dir, Number.MAX_SAFE_INTEGER, sizes.syncSeconds);
  const write = probeSequentialWrite(dir, sizes.ioBytes, null);
  const { read, cold } = measureSequentialRead(dir, sizes.ioBytes);
  const map = mapCeilings(sizes.mapRows, seed);
  const harness = await mapThroughHarness(shape.rows, shape.reads, seed, shape.readsInFlight);
  return [...diskLimits(sync, write, read, cold), ...mapLimits(map, harness, sizes.mapRows, shape)];
}
