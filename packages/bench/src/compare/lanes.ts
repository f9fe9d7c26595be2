/**
 * A closed loop with K operations in flight, for any store: K lanes each
 * start an operation, wait for it, record its latency and start the next,
 * until `maxOps` operations were started or `seconds` have passed. The
 * main thread's event-loop delay is sampled meanwhile.
 *
 * An operation that returns a value instead of a promise (a synchronous
 * store's get) is not awaited, so a synchronous store pays no microtask per
 * read; a lane then runs on without yielding, as a caller would.
 */
import type { Histogram } from 'hdr-histogram-js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EVENT_LOOP_RESOLUTION_MS } from '../constants.js';
import { latencyHistogram, latencySummary, recordMs } from '../measure.js';

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
}

/** Operations between two looks at the clock in a lane that does not yield. */
const CLOCK_EVERY = 256;

async function lane(op: Operation, shared: Shared, histogram: Histogram): Promise<void> {
  let sinceClock = 0;
  while (!shared.stopped && shared.next < shared.maxOps) {
    const started = performance.now();
    const result = op(shared.next++);
    if (result instanceof Promise) await result;
    const done = performance.now();
    recordMs(histogram, done - started);
    if (result instanceof Promise || ++sinceClock === CLOCK_EVERY) {
      sinceClock = 0;
      if (done >= shared.stopAt) shared.stopped = true;
    }
  }
}

/** Runs `op` with `inFlight` operations outstanding; resolves once every lane has stopped. */
export async function closedLoop(op: Operation, inFlight: number, maxOps: number, seconds: number | null): Promise<LoopResult> {
  const histogram = latencyHistogram();
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  const started = performance.now();
  const shared: Shared = { next: 0, maxOps, stopAt: seconds === null ? Infinity : started + seconds * 1000, stopped: false };
  delay.enable();
  try {
    const lanes: Array<Promise<void>> = [];
    for (let i = 0; i < Math.min(inFlight, maxOps); i++) lanes.push(lane(op, shared, histogram));
    await Promise.all(lanes);
  } finally {
    delay.disable();
  }
  const elapsed = (performance.now() - started) / 1000;
  const latency = latencySummary(histogram);
  const loopDelayP99Ms = delay.count > 0 ? delay.percentile(99) / 1e6 : 0;
  return { ops: shared.next, seconds: elapsed, p50Ms: latency.p50Ms, p99Ms: latency.p99Ms, p999Ms: latency.p999Ms, loopDelayP99Ms };
}

/** Runs `work` once, sampling the event-loop delay meanwhile: its seconds and the delay's p99 in ms. */
export async function timed(work: () => Promise<unknown>): Promise<{ seconds: number; loopDelayP99Ms: number }> {
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  const started = performance.now();
  delay.enable();
  try {
    await work();
  } finally {
    delay.disable();
  }
  return { seconds: (performance.now() - started) / 1000, loopDelayP99Ms: delay.count > 0 ? delay.percentile(99) / 1e6 : 0 };
}
