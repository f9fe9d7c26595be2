// A spot check for A/B comparisons of reclaiming space, lighter than the
// harness's `reclaim` workload: 1 M rows, then delayed updates of random rows
// (2,000 per event-loop turn; keys uniform, or Zipfian as the harness draws
// them) for S seconds, on a fresh directory. It prints one JSON line:
// updates/s, the pair files on disk each second (MiB), in how many of those
// samples a pre-created pair was held (`poolHeld`), and at the end the
// arena's live and reserved MiB, db.stats().cleaner and .durability.merges.
// Extra open() options may be given as JSON (e.g.
// '{"cleaner":false,"merges":false}').
//
//   node packages/bench/scripts/update_churn.mjs [S=10] ['{...options}'] [uniform|zipfian]
//
// It needs `node scripts/build.mjs` first (it imports the built @tidemark/core and @tidemark/bench).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '@tidemark/core';
import { keyPicker } from '@tidemark/bench';
import { ACCOUNTS } from './accounts.mjs';

const MiB = 1024 * 1024;
const ROWS = 1_000_000;
const seconds = Number(process.argv[2] ?? 10);
const extra = JSON.parse(process.argv[3] ?? '{}');
const keys = process.argv[4] ?? 'uniform';
if (!(seconds > 0) || (keys !== 'uniform' && keys !== 'zipfian')) {
  console.error("usage: update_churn.mjs [seconds>0] ['{...open options}'] [uniform|zipfian]");
  process.exit(2);
}

// The harness's key picker (ids 1..n; the rows here are 0..n-1), seeded afresh each run.
const pick = keyPicker(keys, ROWS, (Math.random() * 2 ** 32) >>> 0);
const nextKey = () => pick() - 1;
const dir = mkdtempSync(join(tmpdir(), 'tidemark-churn-'));
const pairMiB = () =>
  readdirSync(dir)
    .filter((f) => /^(data|delta)-/.test(f))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) / MiB;
try {
  const db = await open({
    dir,
    tables: [ACCOUNTS],
    dataFileSizeBytes: 16 * MiB,
    checkpointWalBytes: 64 * MiB,
    walSegmentBytes: 16 * MiB,
    durability: 'delayed',
    ...extra,
  });
  for (let i = 0; i < ROWS; i += 1000) {
    db.transactionSync((tx) => {
      for (let j = i; j < i + 1000; j++) tx.insert('accounts', { id: j, name: `n${j}`, balance: j, ts: j });
    });
    if (i % 50_000 === 0) await db.flush();
  }
  const t = db.table('accounts');
  const diskMiB = [];
  let poolHeld = 0;
  let updates = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  let nextSample = started + 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 2000; k++) void t.update(nextKey(), { balance: updates++ });
    await new Promise((resolve) => setImmediate(resolve));
    if (performance.now() > nextSample) {
      diskMiB.push(Math.round(pairMiB()));
      if (db.stats().durability.cfps.PRECREATED > 0) poolHeld++;
      nextSample += 1000;
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  const stats = db.stats();
  const { liveBytes, reservedBytes } = stats.tables[0];
  const memory = { liveMiB: +(liveBytes / MiB).toFixed(1), reservedMiB: +(reservedBytes / MiB).toFixed(1) };
  console.log(
    JSON.stringify({
      keys,
      updatesPerSec: Math.round(updates / elapsed),
      diskMiB,
      poolHeld: `${poolHeld} of ${diskMiB.length}`,
      memory,
      cleaner: stats.cleaner,
      merges: stats.durability.merges,
    }),
  );
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
