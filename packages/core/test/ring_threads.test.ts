// The log ring in two real threads: this thread produces at a random pace and
// waits for space when the ring is full; a worker consumes at its own random
// pace and checks every record. Both fold (seq, length) into a digest; equal
// counts and digests and no bad byte mean nothing was lost, duplicated,
// reordered or corrupted, across many wrap-arounds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { CONTROL_BYTES, SLOT_HEAD, SLOT_TAIL } from '../src/ring/layout.js';
import { createRingBuffer, RingProducer } from '../src/ring/ring.js';
import {
  digestRecord,
  DIGEST_SEED,
  fillRecord,
  random,
  type ConsumerPlan,
  type ConsumerReport,
} from './fixtures/ring_records.js';

/** Longer than any pause in a run: a wait this long means a lost wake-up (or a dead worker). */
const DEADLINE_MS = 3000;

interface ProducerPlan {
  capacity: number;
  count: number;
  seed: number;
  /** Where both cursors start; near 2^32 in some runs so they wrap. */
  start: number;
  skew: 'small' | 'mixed' | 'large';
  maxBatch: number;
  pauseChance: number;
  pauseKind: 'microtask' | 'immediate' | 'timer';
  /**
   * Chance that the producer idles after a publish until the consumer has
   * released everything: a lost wake-up then hangs (and fails the run) instead
   * of being rescued by the next publish.
   */
  drainChance: number;
  /** Chance and longest time (busy, this thread cannot sleep) of a stall in a race window of waitForSpace. */
  stallChance: number;
  stallMs: number;
}

const stats = { runs: 0, records: 0, bytes: 0, spaceWaits: 0, drains: 0 };
const Threads = suite('ring: two threads');
let worker: Worker | null = null;

/** The consumer worker, once it says it is ready (its start is not timed: it is not what the test is about). */
async function consumerThread(): Promise<Worker> {
  if (worker !== null) return worker;
  // A .mjs entry that registers tsx itself: see the comment in it for why not the .ts file.
  const started = new Worker(new URL('./fixtures/ring_consumer.mjs', import.meta.url));
  const ready = await reportOf(started);
  assert.is(ready as unknown, 'ready', 'the consumer thread says it is ready first');
  worker = started;
  return worker;
}

async function stopWorker(): Promise<void> {
  const stopping = worker;
  worker = null;
  if (stopping !== null) await stopping.terminate();
}

Threads.after(stopWorker);

/** Races `promise` against DEADLINE_MS; the timer is always cleared so no handle leaks. */
async function deadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: nothing after ${DEADLINE_MS} ms (lost wake-up?)`)),
      DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function reportOf(thread: Worker): Promise<ConsumerReport> {
  return new Promise((resolve, reject) => {
    const onMessage = (report: ConsumerReport): void => {
      thread.off('error', onError);
      resolve(report);
    };
    const onError = (error: Error): void => {
      thread.off('message', onMessage);
      reject(error);
    };
    thread.once('message', onMessage);
    thread.once('error', onError);
  });
}

/** Mostly small records, some up to the largest, and the largest itself now and then. */
function pickLength(next: () => number, max: number, skew: ProducerPlan['skew']): number {
  const r = next();
  const large = skew === 'small' ? 0.005 : skew === 'mixed' ? 0.03 : 0.2;
  if (r < large / 10) return max;
  if (r < large) return Math.floor(next() * (max + 1));
  if (r < 0.3) return Math.floor(next() * 2048);
  return Math.floor(next() * 65);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function drain(producer: RingProducer, seq: number): Promise<void> {
  stats.drains++;
  const until = performance.now() + DEADLINE_MS;
  while (producer.free() < producer.capacity) {
    if (performance.now() > until)
      throw new Error(`producer draining at record ${seq}: consumer idle for ${DEADLINE_MS} ms (lost wake-up?)`);
    await nextTurn();
  }
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function pause(kind: ProducerPlan['pauseKind']): Promise<void> {
  if (kind === 'microtask') return Promise.resolve();
  if (kind === 'immediate') return nextTurn();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function produce(sab: SharedArrayBuffer, plan: ProducerPlan): Promise<{ count: number; digest: number }> {
  const next = random(plan.seed);
  const stall = (): void => {
    if (next() < plan.stallChance) spin(next() * plan.stallMs);
  };
  const producer = new RingProducer(sab, { onRaceWindow: stall });
  let digest = DIGEST_SEED;
  let batch = 0;
  let batchSize = 1 + Math.floor(next() * plan.maxBatch);
  for (let seq = 0; seq < plan.count; seq++) {
    const length = pickLength(next, producer.maxRecordBytes, plan.skew);
    let offset = producer.reserve(length);
    if (offset < 0) {
      producer.publish();
      stats.spaceWaits++;
      await deadline(producer.waitForSpace(length), `producer waiting for ${length} bytes at record ${seq}`);
      offset = producer.reserve(length);
      assert.ok(offset >= 0, 'waitForSpace resolved without room');
    }
    fillRecord(producer.bytes, offset, length, seq);
    digest = digestRecord(digest, seq, length);
    stats.bytes += length;
    if (++batch >= batchSize) {
      producer.publish();
      batch = 0;
      batchSize = 1 + Math.floor(next() * plan.maxBatch);
      if (next() < plan.pauseChance) await pause(plan.pauseKind);
      if (next() < plan.drainChance) await drain(producer, seq);
    }
  }
  producer.publish();
  producer.close();
  return { count: plan.count, digest };
}

async function runOnce(plan: ProducerPlan, consumer: Omit<ConsumerPlan, 'sab'>): Promise<void> {
  const sab = createRingBuffer(plan.capacity);
  const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  control[SLOT_HEAD] = control[SLOT_TAIL] = plan.start | 0;
  const thread = await consumerThread();
  const reported = reportOf(thread);
  thread.postMessage({ ...consumer, sab } satisfies ConsumerPlan);
  try {
    const sent = await produce(sab, plan);
    const report = await deadline(reported, 'consumer report');
    assert.is(report.error, null);
    assert.is(report.count, sent.count);
    assert.is(report.digest, sent.digest);
  } catch (error) {
    // The worker may be stuck in the ring; a fresh one serves the next run.
    await stopWorker();
    throw error;
  }
  stats.runs++;
  stats.records += plan.count;
}

/** A fraction in [min, max] percent. fc.double favours extremes (1e-300), which would leave most runs calm. */
const percent = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max }).map((x) => x / 100);
/** Milliseconds from whole microseconds, for the same reason. */
const micros = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max }).map((x) => x / 1000);

const producerArb: fc.Arbitrary<ProducerPlan> = fc.record({
  capacity: fc.constantFrom(64 * 1024, 128 * 1024),
  count: fc.integer({ min: 1, max: 5000 }),
  seed: fc.integer(),
  start: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 2 ** 32 - 2 ** 20, max: 2 ** 32 - 1 }).map((x) => (x & ~3) >>> 0),
  ),
  skew: fc.constantFrom('small', 'mixed', 'large'),
  maxBatch: fc.integer({ min: 1, max: 64 }),
  pauseChance: percent(0, 5),
  pauseKind: fc.constantFrom('microtask', 'immediate', 'timer'),
  drainChance: percent(0, 50),
  stallChance: percent(0, 50),
  stallMs: micros(50),
});

const consumerArb: fc.Arbitrary<Omit<ConsumerPlan, 'sab'>> = fc.record({
  seed: fc.integer(),
  maxBatch: fc.integer({ min: 1, max: 64 }),
  pauseChance: percent(0, 10),
  pauseMs: micros(500),
  holdChance: percent(0, 90),
  stallChance: percent(0, 50),
  stallMs: micros(100),
});

Threads('random sizes and speeds: every record arrives once, in order, intact', async () => {
  // A race does not replay from its counterexample, and a hang costs DEADLINE_MS per
  // shrink step: report the first failure (with its seed) instead of shrinking.
  await fc.assert(fc.asyncProperty(producerArb, consumerArb, runOnce), {
    numRuns: 30,
    endOnFailure: true,
    includeErrorInReport: true,
  });
  // Guard the guard: the runs must have wrapped the ring many times and filled it.
  assert.ok(stats.bytes > 50 * 128 * 1024, `only ${stats.bytes} bytes went through`);
  assert.ok(stats.spaceWaits > 30, `the producer waited for space only ${stats.spaceWaits} times`);
});

Threads.run();
