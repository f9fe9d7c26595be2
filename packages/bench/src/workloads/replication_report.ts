/**
 * The `replication` workload's figures (the medians, with their targets)
 * and notes (every run), from what replication.ts measured.
 */
import {
  EVENT_LOOP_IN_FLIGHT,
  REPLICATION_RUNS,
  TARGET_REPLICA_KEEPS_UP_RATIO,
  TARGET_REPLICA_LAG_P99_MS,
  TARGET_REPLICATED_RAW_RATIO,
  TARGET_SHIPPING_RATIO,
} from '../constants.js';
import { rate } from '../measure.js';
import type { Figure } from '../workload.js';
import type { Measured } from './replication.js';
import { bootstrapMedians } from './replication_bootstrap.js';
import { describeRuns, ROW_VALUE_BYTES, windowRate } from './replication_lanes.js';

const count = (x: number): string => Math.round(x).toLocaleString('en-US');
const ms = (x: number): string => x.toFixed(2);
const medians = `medians of ${REPLICATION_RUNS}`;

function versusFigures(m: Measured): Figure[] {
  return m.versus.flatMap((v): Figure[] => {
    const k = `${v.inFlight} in flight`;
    return [
      {
        name: `replicated upserts of ${ROW_VALUE_BYTES}-byte rows, ${k}, vs raw JetStream R3 publish-acks of ${m.recordBytes} B (one log record), ${medians}`,
        unit: '/s',
        tidemark: v.replicated.rate,
        baseline: v.raw.rate,
        target: { on: 'ratio', compare: 'atLeast', value: TARGET_REPLICATED_RAW_RATIO },
      },
      {
        name: `replicated upserts vs raw publishes, ${k}: latency p50`,
        unit: 'ms',
        tidemark: v.replicated.p50Ms,
        baseline: v.raw.p50Ms,
        target: null,
      },
      {
        name: `replicated upserts vs raw publishes, ${k}: latency p99`,
        unit: 'ms',
        tidemark: v.replicated.p99Ms,
        baseline: v.raw.p99Ms,
        target: null,
      },
    ];
  });
}

function shippingFigures(m: Measured): Figure[] {
  const k = `${EVENT_LOOP_IN_FLIGHT} in flight`;
  const { on, off } = m.shipping;
  return [
    {
      name: `durable upserts, ${k}: shipping on (replicate() attached) vs off, ${medians}`,
      unit: 'commits/s',
      tidemark: on.rate,
      baseline: off.rate,
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_SHIPPING_RATIO },
    },
    {
      name: `durable upserts, ${k}: latency p99, shipping on vs off`,
      unit: 'ms',
      tidemark: on.p99Ms,
      baseline: off.p99Ms,
      target: null,
    },
  ];
}

function lagFigures(m: Measured): Figure[] {
  const { lag, window, applied, streamLag } = m.lag;
  const k = `${EVENT_LOOP_IN_FLIGHT} in flight`;
  return [
    {
      name: `replica lag p99 at the primary's full durable rate (${k}): commit resolved on the primary to applied on the replica`,
      unit: 'ms',
      tidemark: lag.p99Ms,
      baseline: null,
      target: { on: 'tidemark', compare: 'atMost', value: TARGET_REPLICA_LAG_P99_MS },
    },
    {
      name: 'replica lag p50, the same commits',
      unit: 'ms',
      tidemark: lag.p50Ms,
      baseline: null,
      target: null,
    },
    {
      name: `replica keeps up: commits/s it applied vs commits/s the primary made, same window`,
      unit: '/s',
      tidemark: rate(applied, window.seconds),
      baseline: windowRate(window),
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_REPLICA_KEEPS_UP_RATIO },
    },
    {
      name: "replica.stats().lagMs p99 (a message's store in the stream to its apply)",
      unit: 'ms',
      tidemark: streamLag.p99Ms,
      baseline: null,
      target: null,
    },
  ];
}

function bootstrapFigures(m: Measured): Figure[] {
  const b = m.bootstrap;
  const med = bootstrapMedians(b);
  const n = `${count(b.rows)} rows`;
  const found = Math.min(...b.replica.map((r) => r.rows));
  return [
    {
      name: `replica bootstrap of ${n} from the object store (openReplica into an empty folder) vs local open() of a copy of the same checkpoint, ${medians}`,
      unit: 's',
      tidemark: med.replicaSeconds,
      baseline: med.localSeconds,
      target: null,
    },
    {
      name: `bootstrap: checkpoint bytes kept in the store / bootstrap time, vs the store's getBlob() of its largest object (${(b.largestBytes / 1e6).toFixed(1)} MB), ${medians}`,
      unit: 'MB/s',
      tidemark: b.upload.bytes / 1e6 / med.replicaSeconds,
      baseline: med.getMBps,
      target: null,
    },
    {
      name: `replication.checkpoint() of ${n}: the backup and its upload to the object store`,
      unit: 'MB/s',
      tidemark: b.upload.bytes / 1e6 / b.upload.seconds,
      baseline: null,
      target: null,
    },
    {
      name: `the bootstrapped replica: rows found (the fewest of its runs) vs rows in the primary`,
      unit: 'rows',
      tidemark: found,
      baseline: b.rows,
      target: { on: 'ratio', compare: 'atLeast', value: 1 },
    },
  ];
}

export function replicationFigures(m: Measured): Figure[] {
  return [...versusFigures(m), ...shippingFigures(m), ...lagFigures(m), ...bootstrapFigures(m)];
}

function versusNotes(m: Measured): string[] {
  const s = m.shipped;
  const perMessage = s.messages > 0 ? s.bytes / s.messages : 0;
  return [
    `Replicated vs raw: each raw publish is ${m.recordBytes} B (the log record of one such upsert, read back from a probe database, with its 4-byte length), with no headers, to the stream tm_bench_raw (R3, file storage, limits retention). A replicated commit waits for its own fdatasync and for the stream's ack of the message holding it; the shipper sends each group of durable records as one message of up to 256 KiB with ten headers (Tm-*, the msgID and the expected last sequence), up to 64 unacknowledged. In step 1 it sent ${count(s.messages)} messages, ${count(perMessage)} B of payload each on average.`,
    ...m.versus.map(
      (v) =>
        `${v.inFlight} in flight, runs in the order replicated, raw, raw, replicated, replicated, raw: replicated ${describeRuns(v.replicated, '/s')}; raw ${describeRuns(v.raw, '/s')}.`,
    ),
  ];
}

function shippingNotes(m: Measured): string[] {
  const { on, off, unshippedAtEnd } = m.shipping;
  return [
    `Shipping on vs off: a fresh database for each run (and for each run with shipping on, replicate() to a fresh stream first), in the order off, on, on, off, off, on: on ${describeRuns(on, 'commits/s')}; off ${describeRuns(off, 'commits/s')}. At each on-run's end the stream was ${unshippedAtEnd.map(count).join(', ')} commits behind the primary.`,
  ];
}

function lagNotes(m: Measured): string[] {
  const l = m.lag;
  return [
    `Replica lag: the primary of step 1 put a checkpoint into the object store; a replica opened from it in ${l.openSeconds.toFixed(2)} s (in this process) and caught up. Then ${EVENT_LOOP_IN_FLIGHT} lanes of durable upserts on the primary: ${count(l.window.ops)} commits in the ${l.window.seconds} s window (${count(windowRate(l.window))}/s, latency p50 ${ms(l.window.latency.p50Ms)} ms, p99 ${ms(l.window.latency.p99Ms)} ms), ${count(l.applied)} applied by the replica in the same window. Each commit's lag runs from its resolve on the primary to the first poll of replica.stats().appliedTs (every 1 ms, ${count(l.polls)} polls, on the same event loop, so late by up to the loop's delay) that saw it: p50 ${ms(l.lag.p50Ms)} ms, p99 ${ms(l.lag.p99Ms)} ms, p99.9 ${ms(l.lag.p999Ms)} ms, max ${ms(l.lag.maxMs)} ms; ${count(l.lag.firstSeenByReplica)} commits were seen applied before their promise resolved (counted as 0). The replica applied the last commit of the window ${ms(l.catchUpMs)} ms after the window's end. Its own lagMs: p50 ${ms(l.streamLag.p50Ms)} ms, p99 ${ms(l.streamLag.p99Ms)} ms.`,
  ];
}

function bootstrapNotes(m: Measured): string[] {
  const b = m.bootstrap;
  const runs = (xs: Array<{ seconds: number; rows: number }>): string =>
    xs.map((r) => `${r.seconds.toFixed(2)} s (${count(r.rows)} rows)`).join(', ');
  const same = b.upload.commitTs === b.copyCommitTs ? 'the same commitTs' : `commitTs ${b.copyCommitTs}`;
  return [
    `Bootstrap: ${count(b.rows)} rows filled in transactionSync batches of 10,000 (delayed, flushed) in ${b.fillSeconds.toFixed(2)} s while shipped; the stream held every commit ${b.shipWaitSeconds.toFixed(2)} s after. A local checkpoint, then replication.checkpoint() (unpaced backup and upload, stream tm_bench_boot, keepCheckpoints 1) in ${b.upload.seconds.toFixed(2)} s: ${b.upload.files} objects, ${count(b.upload.bytes)} B kept in the store (trailing zeros left out), commitTs ${b.upload.commitTs}; the local copy (db.backup(), ${same}) is copied afresh before each open() and the clock starts after the copy. Runs in the order bootstrap, open, open, bootstrap, bootstrap, open: bootstrap ${runs(b.replica)}; local open() ${runs(b.local)}. getBlob() of the largest object (${count(b.largestBytes)} B): ${b.getMBps.map((x) => x.toFixed(1)).join(', ')} MB/s.`,
  ];
}

export function replicationNotes(m: Measured): string[] {
  return [...versusNotes(m), ...shippingNotes(m), ...lagNotes(m), ...bootstrapNotes(m)];
}
