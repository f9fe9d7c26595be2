/**
 * Crash test with real processes: a child commits transfers at full speed
 * and reports each acknowledged (durable) one over its stdout pipe; the test
 * SIGKILLs it at a random moment; the next child's open recovers the
 * directory and prints what it found, and the test checks that every
 * acknowledged transfer is there, that no transaction is partial, and
 * that the state equals the model after exactly the transfers present.
 * Receipts inserted and deleted by every transfer show a resurrected delete.
 * Files and triggers are small, so kills land during streaming, pair closes,
 * checkpoints and root replacements, and the WAL on disk must stay within
 * the checkpoint trigger plus one segment. Every FULL_CHECK_EVERY cycles the
 * test opens the directory itself and checks that its close leaves no file
 * the root does not need. TIDEMARK_CRASH_CYCLES sets the
 * number of cycles (default 1,000 with TIDEMARK_LONG=1, what CI runs, else 100); a fresh directory is started
 * every CYCLES_PER_DIR cycles.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CfpState, open } from '../src/index.js';
import { runAndKill } from './helpers/kill_child.js';
import { readNewestRoot } from '../src/checkpoint/root_format.js';
import { NodeFileLayer } from '../src/files/file_layer.js';
// @ts-expect-error: a plain .mjs fixture, shared with the child process
import { OPTIONS, TABLES, balancesAfter, receiptsAfter } from './fixtures/crash_model.mjs';

const CYCLES = Number(process.env.TIDEMARK_CRASH_CYCLES ?? (process.env.TIDEMARK_LONG === '1' ? 1000 : 100));
const CYCLES_PER_DIR = 25;
/** Every this many cycles the test opens the directory itself, and checks that close leaves no file the root does not need. */
const FULL_CHECK_EVERY = 10;
const child = fileURLToPath(new URL('./fixtures/crash_child.mjs', import.meta.url));

/** What the child's open recovered, as it printed it before committing anything. */
interface Recovered {
  n: number;
  balances: number[];
  receipts: number[];
  fromCheckpoint: boolean;
  /** Merged pairs not yet deleted: the kill came during a merge's install or retirement. */
  merging: boolean;
}

/** Checks a recovered state against the model: at least `acked` transfers, never fewer than before, none partial. */
function checkRecovered(r: Recovered, acked: number, lastN: number, where: string): void {
  assert.ok(r.n >= acked, `${where}: transfer ${acked} was acknowledged but the database holds ${r.n}`);
  assert.ok(r.n >= lastN, `${where}: went back from ${lastN} to ${r.n}`);
  assert.equal(r.balances, balancesAfter(r.n), `${where}: state after ${r.n} transfers`);
  assert.equal(r.receipts, receiptsAfter(r.n), `${where}: receipts after ${r.n} transfers`);
}

test(`SIGKILL at random moments, ${CYCLES} cycles: every acknowledged commit survives, none is partial`, async () => {
  let dir = '';
  let seed = 12345;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let totalAcked = 0;
  let lastN = 0;
  let progress = 0;
  let mostWal = 0;
  let checkpoints = 0;
  let mergedSeen = 0;
  let lastAcked = 0;
  let fullChecks = 0;
  let recoveries = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    if (cycle % CYCLES_PER_DIR === 0) {
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync(join(tmpdir(), 'tidemark-crash-'));
      progress += lastN;
      lastN = 0;
    }
    // The next child's open is this kill's recovery: it prints what it found before committing anything.
    const { recovered, acked: ackedBefore } = await runAndKill<Recovered>(
      child,
      [dir, String([1, 16, 256, 0][cycle % 4]!)],
      random(40),
    );
    if (cycle % CYCLES_PER_DIR !== 0) {
      checkRecovered(recovered, lastAcked, lastN, `cycle ${cycle - 1}`);
      checkpoints += recovered.fromCheckpoint ? 1 : 0;
      recoveries++;
      mergedSeen += recovered.merging ? 1 : 0;
      lastN = recovered.n;
    }
    const acked = ackedBefore;
    totalAcked += Math.max(0, acked - lastN);
    lastAcked = acked;
    const walBytes = readdirSync(dir)
      .filter((f) => /^wal-[0-9a-f]{16}$/.test(f))
      .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    mostWal = Math.max(mostWal, walBytes);
    if (cycle % FULL_CHECK_EVERY !== FULL_CHECK_EVERY - 1 && cycle % CYCLES_PER_DIR !== CYCLES_PER_DIR - 1) continue;
    // Now and then, and before a directory is dropped, the test opens it itself and checks the close too.
    const db = await open({ dir, tables: TABLES as never, ...OPTIONS });
    const n = (db.table('meta').get('n')?.value as number | undefined) ?? 0;
    checkRecovered(
      {
        n,
        balances: db
          .table('accounts')
          .scan()
          .sort((a, b) => (a.id as number) - (b.id as number))
          .map((r) => r.balance as number),
        receipts: db
          .table('receipts')
          .scan()
          .map((r) => r.n as number)
          .sort((a, b) => a - b),
        fromCheckpoint: db.recovery!.root !== null,
        merging: false,
      },
      acked,
      lastN,
      `cycle ${cycle}`,
    );
    checkpoints += db.recovery!.root === null ? 0 : 1;
    recoveries++;
    const merged = (await db.checkpointFiles()).some(
      (f) => f.state === CfpState.MERGED_SOURCE || f.state === CfpState.TOMBSTONE,
    );
    if (merged) mergedSeen++;
    await db.close();
    fullChecks++;
    // The close checkpointed: every pair file left is one the newest root needs.
    const { root } = readNewestRoot(new NodeFileLayer(), dir);
    const needed = new Set(
      (root?.cfps ?? [])
        .filter((c) => c.state !== CfpState.TOMBSTONE && c.state !== CfpState.MERGE_TARGET)
        .map((c) => c.id),
    );
    const orphans = readdirSync(dir).filter(
      (f) => /^(data|delta)-[0-9a-f]{16}$/.test(f) && !needed.has(Number.parseInt(f.slice(-16), 16)),
    );
    assert.equal(orphans, [], `cycle ${cycle}: pair files no root needs`);
    lastN = n;
    lastAcked = n; // the close made everything durable
  }
  rmSync(dir, { recursive: true, force: true });
  progress += lastN;
  assert.ok(
    progress > CYCLES,
    `made progress: ${progress} transfers over ${CYCLES} cycles (${totalAcked} acknowledged)`,
  );
  assert.ok(mergedSeen > 0 || CYCLES < 50, `no reopen found a merge under way (${CYCLES} cycles)`);
  assert.ok(checkpoints > recoveries / 2, `${checkpoints} of ${recoveries} recoveries started from a checkpoint`);
  const bound = OPTIONS.checkpointWalBytes + OPTIONS.walSegmentBytes;
  assert.ok(mostWal <= bound, `the WAL reached ${mostWal} bytes on disk, over ${bound}`);
  console.log(
    `  SIGKILL cycles: ${CYCLES} kills, ${progress} transfers recovered (${totalAcked} acknowledged), ${recoveries} recoveries checked (${checkpoints} from a checkpoint, ${mergedSeen} with a merge under way; ${fullChecks} by the test's own open, whose close is checked too); 0 lost, 0 resurrected, 0 partial`,
  );
});

test.run();
