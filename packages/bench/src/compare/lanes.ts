/**
 * A closed loop with K operations in flight, for any store: K lanes each
 * start an operation, wait for it, record its latency and start the next,
 * until `maxOps` operations were started or `seconds` have passed. The
 * main thread's event-loop delay is sampled meanwhile.
 *
 * Every store is measured the same way:
 * - Latency is what a caller sees: from the moment its lane is ready to
 *   issue (its previous operation done) to the moment this one is done. A
 *   synchronous store (better-sqlite3, LMDB's transactionSync) runs each
 *   operation to the end when it is called, so K callers take turns and the
 *   wait for their turn is part of their latency, as it is for a store
 *   that queues them.
 * - The loop gives the event loop a turn (setImmediate) every YIELD_EVERY
 *   operations, so a store that never yields by itself still lets timers
 *   run (a snapshot every second) and the event-loop delay be sampled.
 * - An operation that returns a value instead of a promise (a synchronous
 *   get) is not awaited, so it pays no microtask.
 * - The first operation to fail stops every lane; the loop rejects with it
 *   once all of them have stopped.
 */
import type { Histogram } from 'hdr-histogram-js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EVENT_LOOP_RESOLUTION_MS } from '../constants.js';
import { rowAt, type Account, type RowColumns } from '../data.js';
import { latencyHistogram, latencySummary, recordMs } from '../measure.js';
import type { Peer } from '../peers/peer.js';

/** Operation number i (0, 1, 2, ...); its result is ignored. */
export type Operation = (i: number) => unknown;

export interface LoopResult {
  ops: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  loopDelayP99Ms: number;
}

interface Shared {
  next: number;
  readonly maxOps: number;
  readonly stopAt: number;
  stopped: boolean;
  /** Operations since the event loop last had a turn, over all lanes. */
  sinceYield: number;
}

/** Operations between two turns given to the event loop (and two looks at the clock). */
const YIELD_EVERY = 256;

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function lane(op: Operation, shared: Shared, histogram: Histogram): Promise<void> {
  let ready = performance.now();
  try {
    while (!shared.stopped && shared.next < shared.maxOps) {
      const result = op(shared.next++);
      if (result instanceof Promise) await result;
      const done = performance.now();
      recordMs(histogram, done - ready);
      if (++shared.sinceYield >= YIELD_EVERY) {
        shared.sinceYield = 0;
        if (done >= shared.stopAt) shared.stopped = true;
        await yieldTurn();
      }
      ready = performance.now();
    }
  } catch (error) {
    shared.stopped = true;
    throw error;
  }
}

/** Samples the main thread's event-loop delay while `work` runs; its p99 in ms (0 if no sample was taken). */
async function withLoopDelay<T>(work: () => Promise<T>): Promise<{ value: T; loopDelayP99Ms: number }> {
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  try {
    const value = await work();
    return { value, loopDelayP99Ms: delay.count > 0 ? delay.percentile(99) / 1e6 : 0 };
  } finally {
    delay.disable();
  }
}

/** Rows of `rows` in commits of `batchRows` (the batched load of the comparison and of recovery). */
export async function putInBatches(peer: Pick<Peer, 'putBatch'>, rows: RowColumns, batchRows: number): Promise<void> {
  for (let i = 0; i < rows.count; i += batchRows) {
    const batch: Account[] = [];
    for (let j = i; j < Math.min(rows.count, i + batchRows); j++) batch.push(rowAt(rows, j));
    await peer.putBatch(batch);
  }
}

/** Runs `op` with `inFlight` operations outstanding; resolves once every lane has stopped. */
export async function closedLoop(
  op: Operation,
  inFlight: number,
  maxOps: number,
  seconds: number | null,
): Promise<LoopResult> {
  const histogram = latencyHistogram();
  const started = performance.now();
  const shared: Shared = {
    next: 0,
    maxOps,
    stopAt: seconds === null ? Infinity : started + seconds * 1000,
    stopped: false,
    sinceYield: 0,
  };
  const { loopDelayP99Ms } = await withLoopDelay(async () => {
    const lanes: Array<Promise<void>> = [];
    for (let i = 0; i < Math.min(inFlight, maxOps); i++) lanes.push(lane(op, shared, histogram));
    const settled = await Promise.allSettled(lanes);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  });
  const elapsed = (performance.now() - started) / 1000;
  const latency = latencySummary(histogram);
  return {
    ops: shared.next,
    seconds: elapsed,
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    p999Ms: latency.p999Ms,
    loopDelayP99Ms,
  };
}

/** Runs `work` once, sampling the event-loop delay meanwhile: its seconds and the delay's p99 in ms. */
export async function timed(work: () => Promise<unknown>): Promise<{ seconds: number; loopDelayP99Ms: number }> {
  const started = performance.now();
  const { loopDelayP99Ms } = await withLoopDelay(work);
  return { seconds: (performance.now() - started) / 1000, loopDelayP99Ms };
}
