/**
 * One store at one setting through every comparison workload, in a fresh
 * directory: batched load, point reads, the YCSB mixes, then single-row
 * commits at each in-flight level. Each figure is caught on its own: a
 * figure that fails is recorded with its error and the next one runs.
 *
 *   load ids 1..loadRows in batches   -> 'batched commits'
 *   random gets over them             -> 'point reads'
 *   A / B / C x uniform / zipfian     -> 'ycsb'
 *   new ids above loadRows, K in flight -> 'durable commits' / 'delayed commits'
 */
import { generateRows, randomBalances, rowAt, type Account, type RowColumns } from '../data.js';
import { keyPicker, type KeyDistribution } from '../keys.js';
import { lossClass, type Peer, type PeerFactory } from '../peers/peer.js';
import { closedLoop, putInBatches, timed, type LoopResult } from './lanes.js';
import type { Measurement } from './measurement.js';
import type { CompareSizes } from './sizes.js';

/** The YCSB core mixes: the share of operations that read (the rest update). */
const YCSB_MIXES: ReadonlyArray<{ name: string; reads: number }> = [
  { name: 'A', reads: 0.5 },
  { name: 'B', reads: 0.95 },
  { name: 'C', reads: 1 },
];
const DISTRIBUTIONS: readonly KeyDistribution[] = ['uniform', 'zipfian'];

type Base = Pick<Measurement, 'store' | 'setting' | 'durable' | 'group'>;

/** Counts reads that find nothing: every id read was loaded, so a miss means the store lost or never kept a row. */
class ReadCheck {
  reads = 0;
  misses = 0;

  /** Wraps a get's result: counts it, and passes it on unchanged (a promise stays a promise). */
  check(result: unknown): unknown {
    if (result instanceof Promise) return result.then((row: unknown) => this.count(row));
    this.count(result);
    return result;
  }

  /** Throws if a read missed: the figure of a store that loses rows must not count. */
  verify(what: string): void {
    if (this.misses > 0)
      throw new Error(
        `${this.misses.toLocaleString('en-US')} of ${this.reads.toLocaleString('en-US')} ${what} reads found no row`,
      );
  }

  private count(row: unknown): void {
    this.reads++;
    if (row === undefined || row === null) this.misses++;
  }
}

function fromLoop(
  base: Base,
  workload: string,
  figure: string,
  unit: string,
  loop: LoopResult,
  extra: Partial<Measurement> = {},
): Measurement {
  return {
    workload,
    figure,
    unit,
    better: 'higher',
    ...base,
    value: loop.ops / loop.seconds,
    p50Ms: loop.p50Ms,
    p99Ms: loop.p99Ms,
    p999Ms: loop.p999Ms,
    loopDelayP99Ms: loop.loopDelayP99Ms,
    ...extra,
  };
}

function failed(
  base: Base,
  workload: string,
  figure: string,
  unit: string,
  error: unknown,
  extra: Partial<Measurement> = {},
): Measurement {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  return { workload, figure, unit, better: 'higher', ...base, value: null, error: message, ...extra };
}

/** Runs `measure`, recording its failure instead of throwing. */
async function attempt(
  out: Measurement[],
  onError: (error: unknown) => Measurement,
  measure: () => Promise<Measurement>,
): Promise<void> {
  try {
    out.push(await measure());
  } catch (error) {
    out.push(onError(error));
  }
}

/** Row `i` of the data set with its id moved to `id`. */
function rowWithId(rows: RowColumns, i: number, id: number): Account {
  const row = rowAt(rows, i % rows.count);
  row.id = id;
  return row;
}

function ycsbOperation(
  peer: Peer,
  rows: RowColumns,
  reads: number,
  distribution: KeyDistribution,
  seed: number,
  ops: number,
  check: ReadCheck,
): (i: number) => unknown {
  const pick = keyPicker(distribution, rows.count, seed);
  const balances = randomBalances(1024, seed ^ 0xb0b);
  const readEvery = Math.round(reads * 100);
  return (i: number) => {
    const id = pick();
    if (i % 100 < readEvery) return check.check(peer.get(id));
    const row = rowAt(rows, id - 1);
    row.balance = balances[i & 1023]!;
    row.ts = ops + i;
    return peer.put(row);
  };
}

/** What every figure of one store at one setting works with; figures are pushed to `out` as they are taken. */
interface StoreRun {
  peer: Peer;
  base: Base;
  out: Measurement[];
  rows: RowColumns;
  sizes: CompareSizes;
  seed: number;
}

export async function runStoreCase(
  factory: PeerFactory,
  setting: string,
  dir: string,
  sizes: CompareSizes,
  seed: number,
  log: (line: string) => void,
): Promise<Measurement[]> {
  const peer = factory.create(setting);
  const base: Base = { store: factory.name, setting, durable: peer.durable, group: lossClass(peer) };
  const out: Measurement[] = [];
  const rows = generateRows(sizes.loadRows, seed);
  const run: StoreRun = { peer, base, out, rows, sizes, seed };
  const commitClass = peer.durable ? 'durable commits' : 'delayed commits';
  const batchFigure = `rows/s, ${sizes.batchRows.toLocaleString('en-US')} rows per commit`;
  try {
    await peer.open(dir);
  } catch (error) {
    return [failed(base, 'batched commits', batchFigure, 'rows/s', error)];
  }
  try {
    log(`    ${factory.name} (${setting}): batched load of ${rows.count.toLocaleString('en-US')} rows`);
    await measureBatchedLoad(run, batchFigure);
    log(`    ${factory.name} (${setting}): point reads, YCSB A/B/C`);
    await measurePointReads(run);
    await measureYcsb(run);
    log(`    ${factory.name} (${setting}): single-row commits at ${sizes.inFlight.join('/')} in flight`);
    const written = await measureCommits(run, commitClass);
    await checkCount(run, written);
  } finally {
    await peer.close();
  }
  return out;
}

/** Loads ids 1..loadRows in batches of `batchRows` rows per commit. */
async function measureBatchedLoad({ peer, base, out, rows, sizes }: StoreRun, batchFigure: string): Promise<void> {
  await attempt(
    out,
    (e) => failed(base, 'batched commits', batchFigure, 'rows/s', e),
    async () => {
      const t = await timed(() => putInBatches(peer, rows, sizes.batchRows));
      return {
        workload: 'batched commits',
        figure: batchFigure,
        unit: 'rows/s',
        better: 'higher',
        ...base,
        value: rows.count / t.seconds,
        loopDelayP99Ms: t.loopDelayP99Ms,
        limit: 'mapSetLoop',
      };
    },
  );
}

/** Random gets over the loaded ids; every one must find its row. */
async function measurePointReads({ peer, base, out, rows, sizes, seed }: StoreRun): Promise<void> {
  const ids = keyPicker('uniform', rows.count, seed ^ 0x1d5);
  await attempt(
    out,
    (e) => failed(base, 'point reads', 'gets/s', 'gets/s', e),
    async () => {
      const check = new ReadCheck();
      const loop = await closedLoop(
        () => check.check(peer.get(ids())),
        sizes.opsInFlight,
        sizes.readOps,
        sizes.readSeconds,
      );
      check.verify('point');
      return fromLoop(base, 'point reads', 'gets/s', 'gets/s', loop, { limit: 'mapGetLoop' });
    },
  );
}

/** Each YCSB mix under each key distribution, one figure each. */
async function measureYcsb({ peer, base, out, rows, sizes, seed }: StoreRun): Promise<void> {
  for (const mix of YCSB_MIXES) {
    for (const distribution of DISTRIBUTIONS) {
      const figure = `${mix.name} (${Math.round(mix.reads * 100)}% reads), ${distribution}`;
      const extra: Partial<Measurement> = mix.reads === 1 ? { limit: 'mapGetLoop' } : {};
      await attempt(
        out,
        (e) => failed(base, 'ycsb', figure, 'ops/s', e, extra),
        async () => {
          const check = new ReadCheck();
          const op = ycsbOperation(
            peer,
            rows,
            mix.reads,
            distribution,
            seed ^ mix.name.charCodeAt(0),
            sizes.ycsbOps,
            check,
          );
          const loop = await closedLoop(op, sizes.opsInFlight, sizes.ycsbOps, sizes.ycsbSeconds);
          check.verify('YCSB');
          return fromLoop(base, 'ycsb', figure, 'ops/s', loop, extra);
        },
      );
    }
  }
}

/** Single-row commits of new ids at each in-flight level; resolves with the highest id written. */
async function measureCommits({ peer, base, out, rows, sizes }: StoreRun, commitClass: string): Promise<number> {
  // New ids above the loaded ones, never reused: a loop that fails part-way leaves its ids taken.
  let nextId = rows.count + 1;
  for (const inFlight of sizes.inFlight) {
    const figure = `commits/s, ${inFlight} in flight`;
    const limit = peer.durable ? (inFlight === 1 ? 'fdatasync' : undefined) : 'mapSetLoop';
    const extra: Partial<Measurement> = { x: inFlight, ...(limit === undefined ? {} : { limit }) };
    await attempt(
      out,
      (e) => failed(base, commitClass, figure, 'commits/s', e, extra),
      async () => {
        const loop = await closedLoop(
          (i) => peer.put(rowWithId(rows, i, nextId++)),
          inFlight,
          sizes.commitMaxOps,
          sizes.commitSeconds,
        );
        return fromLoop(base, commitClass, figure, 'commits/s', loop, extra);
      },
    );
  }
  return nextId - 1;
}

/**
 * A store that drops rows must not win: with every figure run to the end,
 * the count must be exact; if it is not, every figure of this store and
 * setting is marked failed.
 */
async function checkCount({ peer, out }: StoreRun, expected: number): Promise<void> {
  const count = await peer.count();
  if (out.every((m) => m.value !== null) && count !== expected) {
    const error = `holds ${count.toLocaleString('en-US')} rows after the run, ${expected.toLocaleString('en-US')} were written`;
    for (const m of out) {
      m.value = null;
      m.error = error;
    }
  }
}
