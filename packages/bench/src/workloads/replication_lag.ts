/**
 * Step 3 of the `replication` workload: a replica's lag at the primary's
 * full durable rate. The primary of step 1 puts a checkpoint into the
 * object store, a replica bootstraps from it into a new folder (in this
 * process) and catches up; then 256 lanes of `durable` upserts run on the
 * primary for a warm-up and a window.
 *
 *   primary:  upsert ─► resolves at tP (commitTs ts recorded)
 *   replica:  polled every POLL_MS: (time, appliedTs, records) kept when appliedTs moves
 *   lag(ts) = the first poll that saw appliedTs >= ts, minus tP (0 when the replica saw it first)
 *
 * The lag is taken for every commit that resolved in the window. A poll
 * runs on the same event loop as the lanes and the replica's applies, so
 * a lag is late by up to POLL_MS plus that loop's delay. Beside it, the
 * replica's applied commits in the window (its `records`) against the
 * primary's, and the replica's own lagMs (stream store to apply).
 */
import { rmSync } from 'node:fs';
import type { Database } from '@tidemark/core';
import { openReplica, type Replica, type Replication } from '@tidemark/replication';
import type { Histogram } from 'hdr-histogram-js';
import { EVENT_LOOP_IN_FLIGHT } from '../constants.js';
import type { RowColumns } from '../data.js';
import { latencyHistogram, latencySummary, recordMs, type LatencySummary } from '../measure.js';
import type { NatsAccess, Pace } from './replication_commits.js';
import { LEDGER, ledgerRow, runWindow, type Window } from './replication_lanes.js';

/** How often the replica's appliedTs is read. */
const POLL_MS = 1;
/** Longest the replica may take to catch up, before the window and after it. */
const CATCH_UP_LIMIT_MS = 120_000;

export interface Lag {
  /** The primary's window. */
  window: Window;
  /** Per commit resolved in the window: resolve on the primary to the replica's first poll that saw it. */
  lag: LatencySummary & { maxMs: number; firstSeenByReplica: number };
  /** Commits the replica applied in the window. */
  applied: number;
  /**
   * replica.stats().lagMs (a message's store in the stream to its apply),
   * sampled at each poll that saw a new message: over the warm-up, the
   * window and the catch-up after it.
   */
  streamLag: LatencySummary;
  /** From the window's end until the replica applied the newest commit resolved in it. */
  catchUpMs: number;
  /** The replica's openReplica(), bootstrapping from the checkpoint of the primary as it was. */
  openSeconds: number;
  polls: number;
}

interface Sample {
  at: number;
  appliedTs: number;
  records: number;
}

/** Polls a replica's stats every POLL_MS, keeping a sample each time appliedTs moves. */
class ApplyWatch {
  readonly samples: Sample[] = [];
  readonly streamLag: Histogram = latencyHistogram();
  polls = 0;
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly replica: Replica) {}

  start(): void {
    this.poll(true);
    this.#timer = setInterval(() => this.poll(false), POLL_MS);
  }

  poll(always: boolean): void {
    this.polls++;
    const s = this.replica.stats();
    const last = this.samples.at(-1);
    if (always || last === undefined || s.appliedTs !== last.appliedTs)
      this.samples.push({ at: performance.now(), appliedTs: s.appliedTs, records: s.records });
    if (s.appliedSeq !== this.#seq) {
      this.#seq = s.appliedSeq;
      recordMs(this.streamLag, s.lagMs);
    }
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.poll(true);
  }

  /** The records count at time `at`: that of the last sample taken by then. */
  recordsAt(at: number): number {
    let records = this.samples[0]?.records ?? 0;
    for (const s of this.samples) {
      if (s.at > at) break;
      records = s.records;
    }
    return records;
  }
}

/** The lag of each commit resolved in [from, until), from the replica's samples. */
function lagOf(
  commits: number[],
  resolvedAt: number[],
  window: Window,
  samples: Sample[],
): { lag: Lag['lag']; newestTs: number } {
  const histogram = latencyHistogram();
  const inWindow: number[] = [];
  for (let i = 0; i < commits.length; i++)
    if (resolvedAt[i]! >= window.from && resolvedAt[i]! < window.until) inWindow.push(i);
  inWindow.sort((a, b) => commits[a]! - commits[b]!);
  let j = 0;
  let maxMs = 0;
  let firstSeenByReplica = 0;
  for (const i of inWindow) {
    while (j < samples.length && samples[j]!.appliedTs < commits[i]!) j++;
    if (j === samples.length) throw new Error(`the replica never applied commit ${commits[i]}`);
    const ms = samples[j]!.at - resolvedAt[i]!;
    if (ms < 0) firstSeenByReplica++;
    maxMs = Math.max(maxMs, ms);
    recordMs(histogram, Math.max(0, ms));
  }
  const newestTs = inWindow.length === 0 ? 0 : commits[inWindow.at(-1)!]!;
  return { lag: { ...latencySummary(histogram), maxMs, firstSeenByReplica }, newestTs };
}

/** The time of the first sample that saw `ts` applied. */
function seenAt(samples: Sample[], ts: number): number {
  const s = samples.find((x) => x.appliedTs >= ts);
  if (s === undefined) throw new Error(`the replica never applied commit ${ts}`);
  return s.at;
}

/** Step 3, with the primary `db` of step 1 shipping to `stream`; the replica goes in `dir`. */
export async function replicaLag(
  db: Database,
  replication: Replication,
  nats: NatsAccess,
  stream: string,
  dir: string,
  rows: RowColumns,
  pace: Pace,
): Promise<Lag> {
  // A checkpoint of the table as it is now, so the replica does not replay step 1's commits one by one.
  await replication.checkpoint();
  const opened = performance.now();
  const replica = await openReplica({ ...nats, stream, dir });
  const openSeconds = (performance.now() - opened) / 1000;
  try {
    await replica.waitFor(db.stats().commitTs, { timeoutMs: CATCH_UP_LIMIT_MS });
    const watch = new ApplyWatch(replica);
    const commits: number[] = [];
    const resolvedAt: number[] = [];
    const table = db.table(LEDGER);
    const options = { durability: 'durable' } as const;
    watch.start();
    let window: Window;
    try {
      window = await runWindow(EVENT_LOOP_IN_FLIGHT, pace.warmMs, pace.seconds, async (i) => {
        commits.push(await table.upsert(ledgerRow(rows, i), options));
        resolvedAt.push(performance.now());
      });
      await replica.waitFor(
        commits.reduce((a, b) => Math.max(a, b), 0),
        { timeoutMs: CATCH_UP_LIMIT_MS },
      );
    } finally {
      watch.stop();
    }
    const { lag, newestTs } = lagOf(commits, resolvedAt, window, watch.samples);
    return {
      window,
      lag,
      applied: watch.recordsAt(window.until) - watch.recordsAt(window.from),
      streamLag: latencySummary(watch.streamLag),
      catchUpMs: Math.max(0, seenAt(watch.samples, newestTs) - window.until),
      openSeconds,
      polls: watch.polls,
    };
  } finally {
    await replica.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
