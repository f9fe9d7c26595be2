/**
 * `feed`: the change feed at full durable load. On an empty durable table:
 *
 *   1. 256 lanes of durable single-row inserts start (insert_lanes.ts);
 *      after WARM_MS, a window of `seconds` with no feed open ("without").
 *   2. A consumer opens `db.changes()` (durable commits, from now on) and
 *      counts the changes of every batch in a `for await` loop on the main
 *      thread, beside the lanes. After WARM_MS, a window of `seconds`:
 *      the changes the consumer received in it against the commits the
 *      lanes made in it, and at its end the consumer's lag (the newest
 *      commitTs against the last one it received). The consumer stops
 *      while the lanes still commit, so its last batch comes; then the
 *      lanes stop.
 *   3. Untargeted: the feed catching up over a WAL of N commits
 *      (feed_catch_up.ts).
 *
 * Each insert is one commit with one change, so changes/s and commits/s
 * are counted in the same unit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Changes, Database } from '@tidemark/core';
import { EVENT_LOOP_IN_FLIGHT, TARGET_FEED_RATIO } from '../constants.js';
import { generateRows, openAccounts, TABLE } from '../data.js';
import { collectGarbage, rate } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { type CatchUp, measureCatchUp } from './feed_catch_up.js';
import { InsertLanes, type LaneWindow } from './insert_lanes.js';

/** The lanes run this long before each window opens (the JIT, the log writer's pace, the feed's start). */
const WARM_MS = 500;

/** A `for await` loop over a feed that counts what it receives, until asked to stop. */
class Consumer {
  changes = 0;
  batches = 0;
  lastCommitTs = 0;
  /** Wall-clock ms of the last batch's commit. */
  lastTime: number | null = null;
  #stopping = false;
  readonly #done: Promise<void>;

  constructor(feed: Changes) {
    this.#done = this.#run(feed);
  }

  async #run(feed: Changes): Promise<void> {
    for await (const batch of feed) {
      this.changes += batch.changes.length;
      this.batches++;
      this.lastCommitTs = batch.commitTs;
      this.lastTime = batch.time;
      if (this.#stopping) break;
    }
  }

  /** Ends the loop after the next batch: commits must still be coming. */
  stop(): Promise<void> {
    this.#stopping = true;
    return this.#done;
  }
}

/** Steps 1 and 2. */
interface Live {
  without: LaneWindow<void>;
  with: LaneWindow<void>;
  /** Changes the consumer received during the "with" window. */
  delivered: number;
  inserted: number;
  /**
   * At the window's end: the newest durable commitTs (what a durable feed
   * can hand out) minus the consumer's last, and the ms since its commit.
   */
  lagCommits: number;
  lagMs: number | null;
  batches: number;
}

async function withConsumer(
  db: Database,
  lanes: InsertLanes,
  seconds: number,
): Promise<Omit<Live, 'without' | 'inserted'>> {
  const consumer = new Consumer(db.changes());
  try {
    await sleep(WARM_MS);
    const from = consumer.changes;
    const window = await lanes.during(() => sleep(seconds * 1000));
    const delivered = consumer.changes - from;
    const stats = db.stats();
    const lagCommits = (stats.durability?.durableTs ?? stats.commitTs) - consumer.lastCommitTs;
    const lagMs = consumer.lastTime === null ? null : Date.now() - consumer.lastTime;
    return { with: window, delivered, lagCommits, lagMs, batches: consumer.batches };
  } finally {
    await consumer.stop();
  }
}

async function measureLive(base: string, params: WorkloadParams, log: (line: string) => void): Promise<Live> {
  const seconds = params.secondsLimit ?? 0;
  const db = await openAccounts(join(base, 'live'));
  try {
    const lanes = new InsertLanes(db.table(TABLE), generateRows(params.ops, params.seed + 1), EVENT_LOOP_IN_FLIGHT);
    log(
      `feed: durable inserts, ${EVENT_LOOP_IN_FLIGHT} in flight, ${seconds} s without a feed, then ${seconds} s with one`,
    );
    lanes.start();
    try {
      await sleep(WARM_MS);
      const without = await lanes.during(() => sleep(seconds * 1000));
      const live = await withConsumer(db, lanes, seconds);
      const inserted = await lanes.stop();
      return { without, inserted, ...live };
    } finally {
      await lanes.stop().catch(() => {});
    }
  } finally {
    await db.close();
  }
}

function figures(live: Live, catchUp: CatchUp): Figure[] {
  const k = `${EVENT_LOOP_IN_FLIGHT} in flight`;
  const ranOut = live.without.ranOut || live.with.ranOut;
  const n = catchUp.commits.toLocaleString('en-US');
  return [
    {
      name: `db.changes(), durable inserts ${k}: changes/s delivered to a for-await consumer vs commits/s made, same window`,
      unit: '/s',
      tidemark: ranOut ? null : rate(live.delivered, live.with.seconds),
      baseline: ranOut ? null : rate(live.with.commits, live.with.seconds),
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_FEED_RATIO },
    },
    {
      name: `db.changes(): the consumer's lag at the window's end (newest durable commitTs minus the last it received)`,
      unit: 'commits',
      tidemark: live.lagCommits,
      baseline: null,
      target: null,
    },
    {
      name: `db.changes(): durable inserts, ${k}, with the consumer vs without a feed`,
      unit: 'commits/s',
      tidemark: ranOut ? null : rate(live.with.commits, live.with.seconds),
      baseline: ranOut ? null : rate(live.without.commits, live.without.seconds),
      target: null,
    },
    {
      name: `db.changes(): event-loop delay p99, inserts ${k}, with the consumer vs without a feed`,
      unit: 'ms',
      tidemark: live.with.loopDelayP99Ms,
      baseline: live.without.loopDelayP99Ms,
      target: null,
    },
    {
      name: `db.changes({ since: 0 }) catching up over a WAL of ${n} single-row commits: changes/s read`,
      unit: '/s',
      tidemark: rate(catchUp.changes, catchUp.seconds),
      baseline: null,
      target: null,
    },
  ];
}

function notes(live: Live, catchUp: CatchUp): string[] {
  const count = (x: number): string => x.toLocaleString('en-US');
  const w = (name: string, x: LaneWindow<void>): string =>
    `${name} (${x.seconds.toFixed(2)} s) ${count(x.commits)} commits, latency p50 ${x.latency.p50Ms.toFixed(3)} ms, p99 ${x.latency.p99Ms.toFixed(3)} ms, event-loop delay p99 ${x.loopDelayP99Ms.toFixed(2)} ms, max ${x.loopDelayMaxMs.toFixed(2)} ms`;
  const lines = [
    `${w('Without a feed', live.without)}; ${w('with the consumer', live.with)}, ${count(live.delivered)} changes delivered to it in that window; at its end the consumer was ${count(live.lagCommits)} commits behind the newest durable one${live.lagMs === null ? '' : `, its last batch committed ${live.lagMs.toFixed(1)} ms before`}; ${count(live.batches)} batches received in all, ${count(live.inserted)} rows inserted.`,
    `Catch-up: ${count(catchUp.changes)} changes in ${count(catchUp.batches)} batches in ${catchUp.seconds.toFixed(2)} s, from ${(catchUp.walBytes / 2 ** 20).toFixed(1)} MiB of WAL records (written with delayed durability and flushed, checkpoints off, nothing else running).`,
  ];
  if (live.without.ranOut || live.with.ranOut)
    lines.push('The inserts ran out of rows before the windows ended, so the rates are not reported: raise --ops.');
  return lines;
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-feed-'));
  try {
    const live = await measureLive(base, params, log);
    collectGarbage();
    const catchUp = await measureCatchUp(base, generateRows(params.rows, params.seed), log);
    return {
      figures: figures(live, catchUp),
      notes: [
        `Files in ${parent}. Rows are { id int32, name string(16), balance float64, ts float64 }; each insert is one durable commit of one row (one change), ${EVENT_LOOP_IN_FLIGHT} lanes each keeping one in flight. The consumer is a for-await loop over db.changes() (durable commits only, the default) on the main thread beside the lanes, counting each batch's changes; it opens ${WARM_MS} ms before its window.`,
        ...notes(live, catchUp),
      ],
      counts: {
        rowsInserted: live.inserted,
        commitsWithout: live.without.commits,
        commitsWith: live.with.commits,
        changesDelivered: live.delivered,
        catchUpCommits: catchUp.commits,
        catchUpChanges: catchUp.changes,
      },
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export const feedWorkload: Workload = {
  name: 'feed',
  description:
    'db.changes() at full durable load (256 in flight): changes/s delivered to a consumer vs commits/s; its lag; catching up over a WAL of N commits',
  baseline: 'the commits/s made in the same window (delivery); inserts without a feed (commits, delay)',
  // rows: commits of the catch-up WAL; ops: rows the inserts may use; seconds: each window.
  sizes: {
    full: { rows: 1_000_000, ops: 4_000_000, seconds: 5 },
    quick: { rows: 50_000, ops: 500_000, seconds: 0.5 },
  },
  run,
};
