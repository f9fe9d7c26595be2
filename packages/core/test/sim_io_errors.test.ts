/**
 * The I/O-error loop: a fixed workload (recovery, commits, checkpoints, root
 * replacement, merges, close) runs over a simulated file system that fails
 * its N-th operation, for every N, with EIO and ENOSPC, once and from then
 * on, and with a short write. The fault is cleared as soon as the workload
 * notices it (a write refused, a commit that does not become durable, a
 * failed database). Then:
 *
 * - no acknowledged transaction is missing, none is applied in part and no
 *   delete is undone: every reopen holds a prefix of the transactions that
 *   includes every acknowledged one;
 * - writes resume: by themselves when the disk was only full, after a
 *   reopen when the engine stopped (a failed fdatasync, an EIO); the
 *   workload then finishes and the database equals the model.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isTidemarkError, type Database } from '../src/index.js';
import { SimFileLayer, type SimFaultKind } from '../src/files/sim_layer.js';
import { makeRandom } from './helpers/dirs.js';
import { abandon, applyTxn, dbHash, modelHashes, openSim, prefixOf, runTxns } from './helpers/sim_db.js';
import { eventually } from './helpers/wait.js';

const SETUP = 40;
const TXNS = 120;
const PLAN = { checkpointEvery: 20, mergeEvery: 40 };
const hashes = modelHashes(TXNS);
/** Why the engine stopped, by message shape (TIDEMARK_SIM_REASONS=1 prints them). */
const reasons = new Map<string, number>();
const reasonOf = (error: unknown): string =>
  `${(error as { code?: string }).code} ${(error as Error).message.replace(/[0-9a-f]{16}|\d+/g, '#')}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The directory after transactions 1..SETUP and a clean close: each case starts from a copy. */
async function setup(): Promise<SimFileLayer> {
  const layer = new SimFileLayer();
  const db = await openSim(layer);
  const run = await runTxns(db, 1, SETUP, PLAN);
  assert.is(run.error, null);
  await db.close();
  return layer;
}

interface Outcome {
  /** Why the database was reopened rather than resuming by itself: open failed, the engine stopped, close failed (null: it resumed). */
  restarted: 'open' | 'stop' | 'close' | null;
  /** Writes were refused with DISK_FULL at least once. */
  refused: boolean;
}

class Case {
  acked = SETUP;
  outcome: Outcome = { restarted: null, refused: false };
  constructor(
    readonly layer: SimFileLayer,
    readonly label: string,
  ) {}

  /** Opens, healing the disk if the first try fails (the fault was in recovery). */
  async open(): Promise<Database> {
    try {
      return await openSim(this.layer);
    } catch {
      this.layer.heal();
      this.outcome.restarted ??= 'open';
      return openSim(this.layer).catch((error: Error) => {
        throw new Error(`${this.label}: reopening failed: ${error.message}`, { cause: error });
      });
    }
  }

  /** Checks a reopened database: it holds a prefix with every acknowledged transaction; returns it. */
  check(db: Database, when: string): number {
    const prefix = prefixOf(db, hashes);
    assert.ok(prefix >= 0, `${this.label}: ${when}: the content is no prefix of the transactions`);
    assert.ok(
      prefix >= this.acked,
      `${this.label}: ${when}: ${prefix} transactions present, ${this.acked} acknowledged`,
    );
    return prefix;
  }

  /** Runs `action` until it does not find the disk full; each time it does, clears the fault and waits `stepMs` (5 s at most). */
  async untilNotFull(what: string, stepMs: number, action: () => unknown): Promise<void> {
    for (let waited = 0; ; waited += stepMs) {
      try {
        await action();
        return;
      } catch (error) {
        if (!isTidemarkError(error, 'TM_DISK_FULL')) throw error;
        this.outcome.refused = true;
        this.layer.heal();
        if (waited > 5000) throw new Error(`${this.label}: ${what} did not resume within 5 s of the disk healing`);
        await sleep(stepMs);
      }
    }
  }

  /** Waits for everything committed to be durable; if the log stalls on a full disk first, heals it. */
  async flush(db: Database): Promise<void> {
    const flushed = db.flush();
    let settled = false;
    const done = flushed.then(() => true).finally(() => void (settled = true));
    // The log stalls when a write finds the disk full: that, not a time, is when to heal.
    const stalled = eventually(
      () => settled || db.stats().durability!.disk === 'stalled',
      `${this.label}: the flush settles or the log stalls`,
    ).then(() => false);
    if (!(await Promise.race([done, stalled]))) {
      this.layer.heal();
      await Promise.race([
        flushed,
        sleep(5000).then(() =>
          Promise.reject(new Error(`${this.label}: the log did not resume within 5 s of the disk healing`)),
        ),
      ]);
    }
  }

  /** Transactions from..TXNS; returns the first not done if the engine stopped (an error other than a full disk). */
  async run(db: Database, from: number): Promise<number | null> {
    for (let i = from; i <= TXNS; i++) {
      try {
        await this.untilNotFull('writes', 2, () => db.transactionSync((tx) => applyTxn(tx, i)));
        if (i % 4 === 0 || i === TXNS) {
          await this.flush(db);
          this.acked = i;
        }
        if (i % PLAN.checkpointEvery === 0) await this.untilNotFull('checkpoints', 10, () => db.checkpoint());
        if (i % PLAN.mergeEvery === 0) await this.untilNotFull('merges', 10, () => db.merge());
      } catch (error) {
        if ((error as Error).message.startsWith(this.label)) throw error;
        if (process.env.TIDEMARK_SIM_REASONS) reasons.set(reasonOf(error), (reasons.get(reasonOf(error)) ?? 0) + 1);
        return i;
      }
    }
    return null;
  }
}

/** One case: the fault, the workload to the end (reopening after a stop), and the checks. */
async function runCase(
  base: SimFileLayer,
  at: number,
  kind: SimFaultKind,
  persistent: boolean,
  random: (n: number) => number,
): Promise<Outcome> {
  const layer = base.image('clean', random);
  layer.failAt(at, kind, persistent);
  const c = new Case(layer, `${kind} ${persistent ? 'from' : 'at'} operation ${at}`);
  if (process.env.TIDEMARK_TRACE === c.label) layer.onOp = (i, op, path) => console.log(`    ${i} ${op} ${path}`);
  let db = await c.open();
  let from = c.check(db, 'first open') + 1;
  for (let restarts = 0; ; restarts++) {
    assert.ok(restarts < 3, `${c.label}: the workload did not finish after 3 reopens`);
    const stopped = await c.run(db, from);
    if (stopped === null) {
      const closed = await db.close().then(
        () => true,
        () => false,
      );
      if (closed) break;
    }
    // The engine stopped (or could not close): clear the fault, reopen the directory as it is, go on after what it holds.
    c.outcome.restarted ??= stopped === null ? 'close' : 'stop';
    layer.heal();
    await abandon(db);
    db = await c.open();
    from = c.check(db, 'reopen after a stop') + 1;
  }
  db = await c.open();
  assert.is(dbHash(db), hashes[TXNS], `${c.label}: the finished workload equals the model`);
  await db.close();
  return c.outcome;
}

test('every operation failing with EIO or ENOSPC, once or from then on, or writing short: nothing acknowledged is lost', async () => {
  const base = await setup();
  const dry = base.image('clean', makeRandom(1));
  const opsBefore = dry.ops;
  {
    const db = await openSim(dry);
    const c = new Case(dry, 'dry run');
    assert.is(await c.run(db, SETUP + 1), null);
    await db.close();
  }
  const total = dry.ops - opsBefore;
  const random = makeRandom(Number(process.env.TIDEMARK_SEED ?? 11));
  const modes: Array<[SimFaultKind, boolean]> = [
    ['EIO', false],
    ['EIO', true],
    ['ENOSPC', false],
    ['ENOSPC', true],
    ['short', false],
  ];
  const started = Date.now();
  const lines: string[] = [];
  for (const [kind, persistent] of modes) {
    const counts = { cases: 0, resumed: 0, open: 0, stop: 0, close: 0, refused: 0 };
    for (let at = 1; at <= total; at++) {
      const outcome = await runCase(base, at, kind, persistent, random);
      counts.cases++;
      if (outcome.restarted === null) counts.resumed++;
      else counts[outcome.restarted]++;
      if (outcome.refused) counts.refused++;
    }
    lines.push(
      `${kind} ${persistent ? 'persistent' : 'once'}: ${counts.cases} fault points; ${counts.resumed} resumed by themselves ` +
        `(${counts.refused} after refusing a write, checkpoint or merge with TM_DISK_FULL); reopened after open failed ${counts.open}, after the engine stopped ${counts.stop}, after close failed ${counts.close}`,
    );
  }
  if (reasons.size > 0) console.log([...reasons].map(([r, n]) => `${n} × ${r}`).join('\n'));
  console.log(
    `  I/O-error loop over ${total} operations (${((Date.now() - started) / 1000).toFixed(1)} s), 0 lost, 0 resurrected, 0 partial:\n    ${lines.join('\n    ')}`,
  );
});

test.run();
