/**
 * The `durable` workload's figures and notes. The baseline column holds the
 * limit each figure is judged against: the disk's fdatasync rate (and the
 * latency of one write + fdatasync) for durable commits, the in-memory rate
 * for delayed ones, the idle event loop for the busy one.
 */
import { tmpdir } from 'node:os';
import {
  COMMIT_CHUNK_OPS,
  DURABLE_IN_FLIGHT,
  EVENT_LOOP_IDLE_MS,
  EVENT_LOOP_IN_FLIGHT,
  EVENT_LOOP_RESOLUTION_MS,
  LATENCY_SIGNIFICANT_DIGITS,
  SYNC_PROBE_FILE_BYTES,
  SYNC_PROBE_WRITE_BYTES,
  TARGET_COMMIT_P99_MS,
  TARGET_DELAYED_RATIO,
  TARGET_BUSY_LOOP_P99_MS,
  TARGET_SINGLE_COMMIT_SYNC_RATIO,
} from '../constants.js';
import { rate } from '../measure.js';
import type { Figure, Target, WorkloadParams } from '../workload.js';
import type { DurableMeasurements, DurableRun } from './durable.js';

/**
 * Restated on 2026-12-07 (issue 30): 500 K durable commits/s from 256 in
 * flight, and a p99 of 3 ms at 4,096 in flight, measured this 2-core VM more
 * than the engine and are retired; the event loop at 256 in flight is held
 * to TARGET_BUSY_LOOP_P99_MS instead.
 */
/** The p99 target is not held from this many in flight on (restated 2026-12-07). */
const RETIRED_P99_FROM_IN_FLIGHT = 4096;

function throughputTarget(inFlight: number): Target | null {
  if (inFlight === 1) return { on: 'ratio', compare: 'atLeast', value: TARGET_SINGLE_COMMIT_SYNC_RATIO };
  return null;
}

/** Throughput and latency of one in-flight level, four rows. */
function inFlightFigures(run: DurableRun, m: DurableMeasurements): Figure[] {
  const name = `durable, ${run.inFlight.toLocaleString('en-US')} in flight`;
  const sync = m.sync.latency;
  const p99Target: Target | null =
    run.inFlight >= RETIRED_P99_FROM_IN_FLIGHT
      ? null
      : { on: 'tidemark', compare: 'atMost', value: TARGET_COMMIT_P99_MS };
  const ms = (label: string, tidemark: number, baseline: number, target: Target | null): Figure => ({
    name: `${name}: ${label}`,
    unit: 'ms',
    tidemark: run.latency.count > 0 ? tidemark : null,
    baseline: sync.count > 0 ? baseline : null,
    target,
  });
  return [
    {
      name,
      unit: 'commits/s',
      tidemark: rate(run.timed.ops, run.timed.seconds),
      baseline: rate(m.sync.syncs, m.sync.seconds),
      target: throughputTarget(run.inFlight),
    },
    ms('latency p50', run.latency.p50Ms, sync.p50Ms, null),
    ms('latency p99', run.latency.p99Ms, sync.p99Ms, p99Target),
    ms('latency p99.9', run.latency.p999Ms, sync.p999Ms, null),
  ];
}

export function durableFigures(m: DurableMeasurements): Figure[] {
  return [
    {
      name: `fdatasync of ${SYNC_PROBE_WRITE_BYTES} B (the limit)`,
      unit: 'syncs/s',
      tidemark: null,
      baseline: rate(m.sync.syncs, m.sync.seconds),
      target: null,
    },
    ...m.durable.flatMap((run) => inFlightFigures(run, m)),
    {
      name: 'delayed durability',
      unit: 'commits/s',
      tidemark: rate(m.delayed.ops, m.delayed.seconds),
      baseline: rate(m.inMemory.ops, m.inMemory.seconds),
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_DELAYED_RATIO },
    },
    {
      name: `event-loop delay p99, ${EVENT_LOOP_IN_FLIGHT.toLocaleString('en-US')} in flight`,
      unit: 'ms',
      tidemark: m.busyLoopDelayMs,
      baseline: m.idleLoopDelayMs,
      target: { on: 'tidemark', compare: 'atMost', value: TARGET_BUSY_LOOP_P99_MS },
    },
  ];
}

export function durableNotes(parent: string, params: WorkloadParams): string[] {
  const ops = `${params.ops.toLocaleString('en-US')} commits`;
  const limit = params.secondsLimit === null ? ops : `${ops} or ${params.secondsLimit} s, whichever comes first`;
  const levels = DURABLE_IN_FLIGHT.map((k) => k.toLocaleString('en-US')).join('/');
  const where = parent === tmpdir() ? `${parent} (the OS temp folder; --dir picks another)` : parent;
  return [
    `Files: a temporary folder under ${where}, removed at the end.`,
    'Each sub-measurement opens a fresh database in a folder of its own, so its ids 1..N never collide.',
    `Order: warm-up (untimed), fdatasync probe, idle event loop, durable ${levels} in flight, in memory, delayed.`,
    `Each loop stops after ${limit}; the JSON counts say how many ran.`,
    `fdatasync: a ${SYNC_PROBE_FILE_BYTES / 1024 / 1024} MiB file written full of zeros and synced first, ` +
      `then a ${SYNC_PROBE_WRITE_BYTES} B positional write at the next offset + fdatasyncSync, in a loop.`,
    'It is the baseline of the durable rows: syncs/s for commits/s, one write + fdatasync for latency.',
    'Durable: exactly K t.insert() promises outstanding (K async lanes, each starting its next insert when its own resolves).',
    `Latency: per commit, from the call to the resolution of its promise, in whole microseconds, ` +
      `in an HDR histogram (${LATENCY_SIGNIFICANT_DIGITS} significant digits).`,
    "With K in flight the mean latency is about K / throughput (Little's law): a small p99 at 4,096 in flight needs millions of commits/s.",
    `Delayed: { durability: 'delayed' } inserts, ${COMMIT_CHUNK_OPS.toLocaleString('en-US')} at a time awaited with Promise.all, ` +
      'then db.flush(), all inside the time.',
    'Its baseline: the same loop on a database opened without dir (in memory, nothing written).',
    `Event-loop delay: perf_hooks.monitorEventLoopDelay({ resolution: ${EVENT_LOOP_RESOLUTION_MS} }) ` +
      `during the ${EVENT_LOOP_IN_FLIGHT}-in-flight run; baseline: the idle loop for ${EVENT_LOOP_IDLE_MS} ms.`,
    `Node's event-loop figure counts the ${EVENT_LOOP_RESOLUTION_MS} ms sampling interval itself, so an idle loop reads about that much.`,
  ];
}
