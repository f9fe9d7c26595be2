/**
 * The correctness check of a peer adapter: it must really store and read
 * back every row, at the setting it claims, so a fast but broken adapter
 * cannot win a benchmark.
 *
 * checkPeer writes rows in every way the workloads do, keeping a model (a
 * Map of what each id must hold), then compares every field of every row
 * read back with the model, exactly (Object.is, so a float64 must come back
 * bit for bit):
 *   1. the first part of the rows as single-row puts, `inFlight` at a time;
 *   2. the rest as batches of `batchRows` rows, one commit each;
 *   3. overwrites of every OVERWRITE_EVERY-th row: concurrent puts (some
 *      ids written twice while both are in flight: the later call must win)
 *      and one batch;
 * then checks `count()`, that an id never written reads as absent, closes,
 * reopens on the same directory with a fresh peer and compares again (every
 * setting keeps its acknowledged writes across a clean close; the durable
 * ones also across a power loss, which this check does not simulate).
 * Any mismatch throws an Error naming the peer, the setting, the phase and
 * the first rows that differ.
 */
import { generateRows, randomBalances, rowAt } from '../data.js';
import type { Account, Peer, PeerFactory } from './peer.js';

export interface CheckOptions {
  /** Rows written; ids 1..rows. Default 3,000. */
  rows?: number;
  /** Single-row puts kept in flight at once. Default 256. */
  inFlight?: number;
  /** Rows per batch commit. Default 500. */
  batchRows?: number;
  seed?: number;
}

export interface CheckReport {
  readonly peer: string;
  readonly setting: string;
  readonly durable: boolean;
  readonly rows: number;
  readonly puts: number;
  readonly batches: number;
  readonly overwrites: number;
  readonly elapsedMs: number;
}

const OVERWRITE_EVERY = 7;
/** Mismatching rows named in the error, at most. */
const REPORT_MISMATCHES = 5;

type Model = Map<number, Account>;

async function putInFlight(peer: Peer, rows: readonly Account[], inFlight: number, model: Model): Promise<number> {
  for (let i = 0; i < rows.length; i += inFlight) {
    const wave = rows.slice(i, i + inFlight);
    for (const row of wave) model.set(row.id, row);
    await Promise.all(wave.map((row) => peer.put({ ...row })));
  }
  return rows.length;
}

async function putBatches(peer: Peer, rows: readonly Account[], batchRows: number, model: Model): Promise<number> {
  let batches = 0;
  for (let i = 0; i < rows.length; i += batchRows) {
    const batch = rows.slice(i, i + batchRows);
    for (const row of batch) model.set(row.id, row);
    await peer.putBatch(batch.map((row) => ({ ...row })));
    batches++;
  }
  return batches;
}

/** Overwrites every OVERWRITE_EVERY-th id; every third of them twice at once, where the second write must win. */
async function overwrite(peer: Peer, count: number, inFlight: number, seed: number, model: Model): Promise<number> {
  const ids: number[] = [];
  for (let id = 1; id <= count; id += OVERWRITE_EVERY) ids.push(id);
  const balances = randomBalances(ids.length * 2, seed ^ 0x5eed);
  const changed = (id: number, k: number, tag: string): Account => ({
    id,
    name: `${tag}${id}`.padEnd(16, '.').slice(0, 16),
    balance: balances[k]! + 0.125,
    ts: -id - k / 3,
  });
  const concurrent: Account[] = [];
  ids.forEach((id, k) => {
    concurrent.push(changed(id, k, 'first'));
    if (k % 3 === 0) concurrent.push(changed(id, ids.length + k, 'second'));
  });
  await putInFlight(peer, concurrent, inFlight, model);
  const batch = ids.filter((_, k) => k % 2 === 1).map((id, k) => changed(id, k, 'batch'));
  await putBatches(peer, batch, batch.length, model);
  return concurrent.length + batch.length;
}

function same(a: Account, b: Account | undefined): boolean {
  return (
    b !== undefined &&
    Object.is(a.id, b.id) &&
    a.name === b.name &&
    Object.is(a.balance, b.balance) &&
    Object.is(a.ts, b.ts)
  );
}

async function verify(peer: Peer, model: Model, phase: string): Promise<void> {
  const where = `peer ${peer.name} (${peer.setting}), ${phase}`;
  const problems: string[] = [];
  for (const [id, expected] of model) {
    const actual = await peer.get(id);
    if (!same(expected, actual)) {
      problems.push(`id ${id}: stored ${JSON.stringify(expected)}, read ${JSON.stringify(actual ?? null)}`);
      if (problems.length >= REPORT_MISMATCHES) break;
    }
  }
  if (problems.length > 0) throw new Error(`${where}: rows differ from what was written:\n  ${problems.join('\n  ')}`);
  const absent = await peer.get(model.size + 1);
  if (absent !== undefined)
    throw new Error(`${where}: id ${model.size + 1} was never written but reads ${JSON.stringify(absent)}`);
  const count = await peer.count();
  if (count !== model.size) throw new Error(`${where}: count() is ${count}, ${model.size} rows were written`);
}

/** Writes, overwrites and reads back rows on a new peer in `dir` (an empty directory); throws on any mismatch. */
export async function checkPeer(
  factory: PeerFactory,
  setting: string,
  dir: string,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const count = options.rows ?? 3_000;
  const inFlight = options.inFlight ?? 256;
  const batchRows = options.batchRows ?? 500;
  const seed = options.seed ?? 1;
  if (!(count >= OVERWRITE_EVERY * 3 && inFlight >= 1 && batchRows >= 1))
    throw new Error('checkPeer: rows >= 21, inFlight >= 1, batchRows >= 1');
  const started = performance.now();
  const columns = generateRows(count, seed);
  const rows = Array.from({ length: count }, (_, i) => rowAt(columns, i));
  const model: Model = new Map();
  const split = Math.floor(count / 2);
  let peer = factory.create(setting);
  if (peer.name !== factory.name || peer.setting !== setting)
    throw new Error(`peer ${factory.name}: created '${peer.name}' at '${peer.setting}', not '${setting}'`);
  let puts: number;
  let batches: number;
  let overwrites: number;
  try {
    await peer.open(dir);
    puts = await putInFlight(peer, rows.slice(0, split), inFlight, model);
    batches = await putBatches(peer, rows.slice(split), batchRows, model);
    await verify(peer, model, 'after the first writes');
    overwrites = await overwrite(peer, count, inFlight, seed, model);
    await verify(peer, model, 'after the overwrites');
  } finally {
    await peer.close();
  }
  peer = factory.create(setting);
  try {
    await peer.open(dir);
    await verify(peer, model, 'after close and reopen');
  } finally {
    await peer.close();
  }
  const elapsedMs = performance.now() - started;
  return { peer: factory.name, setting, durable: peer.durable, rows: count, puts, batches, overwrites, elapsedMs };
}
