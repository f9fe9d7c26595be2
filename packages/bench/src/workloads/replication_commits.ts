/**
 * Steps 1 and 2 of the `replication` workload, on a running NATS cluster:
 *
 *   1. `replicated` single-row upserts against raw JetStream publishes, at
 *      each in-flight level: the upserts go into a primary that ships its
 *      log (replicate() attached); the publishes go, through a connection
 *      of their own, to a second R3 file stream, each a payload the size of
 *      one such commit's log record, awaited for the stream's ack. The two
 *      sides run in turns (A B B A A B), the same window each.
 *   2. `durable` upserts at 256 in flight with shipping on (replicate()
 *      attached) and off (none), a fresh database for each run (and a
 *      fresh stream for each run with shipping on: a stream holds the log
 *      of one database), the runs in turns.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Database } from '@tidemark/core';
import { replicate, type Replication } from '@tidemark/replication';
import { EVENT_LOOP_IN_FLIGHT, REPLICATION_IN_FLIGHT, REPLICATION_RUNS } from '../constants.js';
import type { RowColumns } from '../data.js';
import { collectGarbage } from '../measure.js';
import {
  interleaved,
  LEDGER,
  ledgerRow,
  openLedger,
  type Runs,
  runsOf,
  runWindow,
  type Window,
  windowRate,
} from './replication_lanes.js';

/** Where the NATS servers are, and the credentials: what replicate() and openReplica() take besides the stream. */
export interface NatsAccess {
  servers: string[];
  user: string;
  pass: string;
}

/** The windows of one measured loop: a warm-up, then `seconds`. */
export interface Pace {
  warmMs: number;
  seconds: number;
}

export const RAW_STREAM = 'tm_bench_raw';
const RAW_SUBJECT = `${RAW_STREAM}.x`;
/** Stream copies of both the raw stream and every stream replicate() makes here (its default). */
const STREAM_REPLICAS = 3;

/** Step 1 at one in-flight level. */
export interface VersusRaw {
  inFlight: number;
  replicated: Runs;
  raw: Runs;
}

/** Step 1: `replicated` upserts into `db` (shipping) against raw publishes of `payloadBytes`. */
export async function replicatedVersusRaw(
  db: Database,
  nats: NatsAccess,
  rows: RowColumns,
  payloadBytes: number,
  pace: Pace,
  log: (line: string) => void,
): Promise<VersusRaw[]> {
  const nc = await connect({ ...nats, name: 'tidemark-bench-raw' });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: RAW_STREAM,
      subjects: [RAW_SUBJECT],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: STREAM_REPLICAS,
    });
    const js = jetstream(nc);
    const payload = new Uint8Array(randomBytes(payloadBytes));
    const table = db.table(LEDGER);
    const options = { durability: 'replicated' } as const;
    let next = 0;
    const upsert = (): Promise<number> => table.upsert(ledgerRow(rows, next++), options);
    const publish = (): Promise<unknown> => js.publish(RAW_SUBJECT, payload);
    const out: VersusRaw[] = [];
    for (const inFlight of REPLICATION_IN_FLIGHT) {
      const sides: { replicated: Window[]; raw: Window[] } = { replicated: [], raw: [] };
      for (const raw of interleaved(REPLICATION_RUNS)) {
        const window = await runWindow(inFlight, pace.warmMs, pace.seconds, raw ? publish : upsert);
        (raw ? sides.raw : sides.replicated).push(window);
        const what = raw ? `raw publishes of ${payloadBytes} B` : 'replicated upserts';
        log(`replication: ${inFlight} in flight, ${what}: ${Math.round(windowRate(window)).toLocaleString('en-US')}/s`);
        collectGarbage();
      }
      out.push({ inFlight, replicated: runsOf(sides.replicated), raw: runsOf(sides.raw) });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** Step 2: each side's runs, and how far behind the stream each run with shipping ended. */
export interface ShippingOnOff {
  on: Runs;
  off: Runs;
  /** For each run with shipping on: commits made and not yet in the stream at the window's end (a commitTs distance). */
  unshippedAtEnd: number[];
}

/** One run of step 2 in `dir`; with `stream`, replicate() is attached first. */
async function durableRun(
  dir: string,
  nats: NatsAccess,
  stream: string | null,
  rows: RowColumns,
  pace: Pace,
): Promise<{ window: Window; unshipped: number }> {
  const db = await openLedger(dir);
  let replication: Replication | null = null;
  try {
    if (stream !== null) replication = await replicate(db, { ...nats, stream, checkpointIntervalMs: 0 });
    const table = db.table(LEDGER);
    const options = { durability: 'durable' } as const;
    const window = await runWindow(EVENT_LOOP_IN_FLIGHT, pace.warmMs, pace.seconds, (i) =>
      table.upsert(ledgerRow(rows, i), options),
    );
    return { window, unshipped: replication?.stats().unshippedTs ?? 0 };
  } finally {
    await replication?.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Step 2: durable upserts at 256 in flight, shipping off and on in turns, a fresh database each run. */
export async function shippingOnOff(
  base: string,
  nats: NatsAccess,
  rows: RowColumns,
  pace: Pace,
  log: (line: string) => void,
): Promise<ShippingOnOff> {
  const on: Window[] = [];
  const off: Window[] = [];
  const unshippedAtEnd: number[] = [];
  for (const [i, shipping] of interleaved(REPLICATION_RUNS).entries()) {
    const stream = shipping ? `tm_bench_ship_${i}` : null;
    const run = await durableRun(join(base, `ship-${i}`), nats, stream, rows, pace);
    (shipping ? on : off).push(run.window);
    if (shipping) unshippedAtEnd.push(run.unshipped);
    const rate = Math.round(windowRate(run.window)).toLocaleString('en-US');
    log(
      `replication: durable upserts, ${EVENT_LOOP_IN_FLIGHT} in flight, shipping ${shipping ? 'on' : 'off'}: ${rate}/s`,
    );
    collectGarbage();
  }
  return { on: runsOf(on), off: runsOf(off), unshippedAtEnd };
}
