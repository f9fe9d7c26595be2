/**
 * Step 4 of the `replication` workload: a new replica of N rows, made from
 * the object store, against a local open() of a copy of the same
 * checkpoint.
 *
 *   1. A primary in a folder of its own ships to a stream of its own
 *      (keepCheckpoints 1, checkpoint copies unpaced); N rows are filled in
 *      transactionSync batches (delayed, flushed) and shipped. Once the
 *      stream holds every commit: a local checkpoint, then
 *      `replication.checkpoint()` (timed: the backup and its upload), then
 *      `db.backup(copy)` at the same commitTs. The primary closes.
 *   2. In turns (A B B A A B): openReplica() into an empty folder, timed
 *      from the call until it resolves (connect, read the manifest, download
 *      and check every file, open()); and open() of a fresh copy of the
 *      backup (copied before the clock starts). Each counts its rows.
 *   3. The store's own get rate: getBlob() of the largest object of the
 *      checkpoint, REPLICATION_RUNS times, the median.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { open, type Database } from '@tidemark/core';
import { openReplica, replicate } from '@tidemark/replication';
import { REPLICATION_RUNS } from '../constants.js';
import type { RowColumns } from '../data.js';
import { collectGarbage, median } from '../measure.js';
import { fillDurable } from './fill_durable.js';
import type { NatsAccess } from './replication_commits.js';
import { interleaved, LEDGER, ledgerRow, openLedger } from './replication_lanes.js';

export const BOOT_STREAM = 'tm_bench_boot';
/** Longest the stream may take to hold every commit of the fill. */
const SHIP_LIMIT_MS = 600_000;
const SHIP_POLL_MS = 50;
/** Longest a bootstrapped replica may take to make its stream consumer; how often that is looked at. */
const CONSUMER_LIMIT_MS = 30_000;
const CONSUMER_POLL_MS = 20;
/** How long after its consumer appears a replica is given to take it up, before it is closed. */
const CONSUMER_SETTLE_MS = 200;

export interface Bootstrap {
  rows: number;
  fillSeconds: number;
  /** From the fill's end until the stream held every commit. */
  shipWaitSeconds: number;
  /** replication.checkpoint(): its backup and upload, and the bytes the store keeps of it. */
  upload: { seconds: number; bytes: number; files: number; commitTs: number };
  /** The local copy's commitTs (the same as the checkpoint's when nothing committed in between). */
  copyCommitTs: number;
  /** Each run's seconds and the rows it found, in run order per side. */
  replica: Array<{ seconds: number; rows: number }>;
  local: Array<{ seconds: number; rows: number }>;
  /** getBlob() of the largest checkpoint object: its bytes and each run's MB/s. */
  largestBytes: number;
  getMBps: number[];
}

/** Resolves once the stream holds every commit made in `db`. */
async function shipped(db: Database, shippedTs: () => number): Promise<void> {
  const until = Date.now() + SHIP_LIMIT_MS;
  const target = db.stats().commitTs;
  while (shippedTs() < target) {
    if (Date.now() > until) throw new Error(`the stream did not hold commit ${target} within ${SHIP_LIMIT_MS} ms`);
    await sleep(SHIP_POLL_MS);
  }
}

/** Step 4.1: the primary, its checkpoint in the store and its local copy in `copy`. */
async function prepare(
  dir: string,
  copy: string,
  nats: NatsAccess,
  rows: RowColumns,
  log: (line: string) => void,
): Promise<Omit<Bootstrap, 'replica' | 'local' | 'largestBytes' | 'getMBps'>> {
  const db = await openLedger(dir);
  try {
    const replication = await replicate(db, {
      ...nats,
      stream: BOOT_STREAM,
      checkpointIntervalMs: 0,
      keepCheckpoints: 1,
      checkpointBytesPerSecond: Number.POSITIVE_INFINITY,
    });
    try {
      log(`replication: filling ${rows.count.toLocaleString('en-US')} rows, shipped as they commit`);
      let started = performance.now();
      await fillDurable(db, 0, rows.count, (i) => ledgerRow(rows, i), LEDGER);
      const fillSeconds = (performance.now() - started) / 1000;
      started = performance.now();
      await shipped(db, () => replication.stats().shippedTs);
      const shipWaitSeconds = (performance.now() - started) / 1000;
      await db.checkpoint();
      log('replication: replication.checkpoint() into the object store');
      started = performance.now();
      const manifest = await replication.checkpoint();
      const seconds = (performance.now() - started) / 1000;
      const bytes = manifest.files.reduce((sum, f) => sum + f.stored, 0);
      const backup = await db.backup(copy, { bytesPerSecond: Number.POSITIVE_INFINITY });
      return {
        rows: rows.count,
        fillSeconds,
        shipWaitSeconds,
        upload: { seconds, bytes, files: manifest.files.length, commitTs: manifest.commitTs },
        copyCommitTs: backup.commitTs,
      };
    } finally {
      await replication.close();
    }
  } finally {
    await db.close();
  }
}

/** The names of the stream's consumers now. */
async function consumerNames(jsm: JetStreamManager): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const c of jsm.consumers.list(BOOT_STREAM)) names.add(c.name);
  return names;
}

/**
 * Resolves once the stream has a consumer not in `before` (the new
 * replica's), and a moment more. A replica closed while it is still making
 * its consumer never ends its close() (the consumer made after close() has
 * nothing to stop it), so a bootstrapped replica is closed only after this.
 */
async function untilFollowing(jsm: JetStreamManager, before: Set<string>): Promise<void> {
  const until = Date.now() + CONSUMER_LIMIT_MS;
  for (;;) {
    const names = await consumerNames(jsm);
    if ([...names].some((name) => !before.has(name))) break;
    if (Date.now() > until) throw new Error(`the replica made no consumer within ${CONSUMER_LIMIT_MS} ms`);
    await sleep(CONSUMER_POLL_MS);
  }
  await sleep(CONSUMER_SETTLE_MS);
}

/** One openReplica() into the new folder `dir`: its seconds and rows. */
async function bootstrapOnce(
  dir: string,
  nats: NatsAccess,
  jsm: JetStreamManager,
): Promise<{ seconds: number; rows: number }> {
  const before = await consumerNames(jsm);
  const started = performance.now();
  const replica = await openReplica({ ...nats, stream: BOOT_STREAM, dir });
  const seconds = (performance.now() - started) / 1000;
  try {
    const rows = replica.db.table(LEDGER).size;
    await untilFollowing(jsm, before);
    return { seconds, rows };
  } finally {
    await replica.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One open() of a fresh copy of `copy` in `dir`: its seconds and rows. */
async function openOnce(copy: string, dir: string): Promise<{ seconds: number; rows: number }> {
  cpSync(copy, dir, { recursive: true });
  try {
    collectGarbage();
    const started = performance.now();
    const db = await open({ dir });
    const seconds = (performance.now() - started) / 1000;
    try {
      return { seconds, rows: db.table(LEDGER).size };
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Step 4.3: the largest object of the checkpoint, and each getBlob() of it in MB/s. */
async function getRate(nc: NatsConnection): Promise<{ largestBytes: number; getMBps: number[] }> {
  const store = await new Objm(nc).open(`${BOOT_STREAM}_ckpt`);
  const objects = (await store.list()).filter((o) => !o.deleted);
  if (objects.length === 0) throw new Error('the object store holds no checkpoint object');
  const largest = objects.reduce((a, b) => (b.size > a.size ? b : a));
  const getMBps: number[] = [];
  for (let i = 0; i < REPLICATION_RUNS; i++) {
    collectGarbage();
    const started = performance.now();
    const data = await store.getBlob(largest.name);
    const seconds = (performance.now() - started) / 1000;
    if (data === null || data.length !== largest.size) throw new Error(`getBlob(${largest.name}) came back short`);
    getMBps.push(data.length / 1e6 / seconds);
  }
  return { largestBytes: largest.size, getMBps };
}

/** Step 4, in folders under `base`. */
export async function measureBootstrap(
  base: string,
  nats: NatsAccess,
  rows: RowColumns,
  log: (line: string) => void,
): Promise<Bootstrap> {
  const copy = join(base, 'boot-copy');
  const prepared = await prepare(join(base, 'boot-primary'), copy, nats, rows, log);
  rmSync(join(base, 'boot-primary'), { recursive: true, force: true });
  collectGarbage();
  const replica: Bootstrap['replica'] = [];
  const local: Bootstrap['local'] = [];
  const nc = await connect({ ...nats, name: 'tidemark-bench-store' });
  try {
    const jsm = await jetstreamManager(nc);
    for (const [i, isLocal] of interleaved(REPLICATION_RUNS).entries()) {
      const run = isLocal
        ? await openOnce(copy, join(base, `open-${i}`))
        : await bootstrapOnce(join(base, `replica-${i}`), nats, jsm);
      (isLocal ? local : replica).push(run);
      log(
        `replication: ${isLocal ? 'local open()' : 'replica bootstrap'} of ${run.rows.toLocaleString('en-US')} rows: ${run.seconds.toFixed(2)} s`,
      );
      collectGarbage();
    }
    const get = await getRate(nc);
    return { ...prepared, replica, local, ...get };
  } finally {
    await nc.close();
  }
}

/** The medians of step 4's sides. */
export function bootstrapMedians(b: Bootstrap): { replicaSeconds: number; localSeconds: number; getMBps: number } {
  return {
    replicaSeconds: median(b.replica.map((r) => r.seconds)),
    localSeconds: median(b.local.map((r) => r.seconds)),
    getMBps: median(b.getMBps),
  };
}
