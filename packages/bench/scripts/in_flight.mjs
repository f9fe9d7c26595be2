// A spot check for A/B comparisons of the commit path, lighter than the
// harness's `durable` workload: K lanes each keep one single-row insert in
// flight until N rows are in, on a fresh database, and it prints one JSON
// line (commits/s, latency p50/p99 in ms). Run it in turns with two builds
// and compare medians; one run on this machine varies by ±15%.
//
//   node packages/bench/scripts/in_flight.mjs [K=256] [N=1000000] [durable|delayed|memory]
//
// It needs `node scripts/build.mjs` first (it imports the built @tidemark/core).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '@tidemark/core';
import { ACCOUNTS } from './accounts.mjs';

const K = Number(process.argv[2] ?? 256);
const N = Number(process.argv[3] ?? 1_000_000);
const mode = process.argv[4] ?? 'durable';
if (!(K >= 1 && N >= K && ['durable', 'delayed', 'memory'].includes(mode))) {
  console.error('usage: in_flight.mjs [K>=1] [N>=K] [durable|delayed|memory]');
  process.exit(2);
}
const dir = mode === 'memory' ? null : mkdtempSync(join(tmpdir(), 'tidemark-in-flight-'));
try {
  const db = await open(dir === null ? { tables: [ACCOUNTS] } : { dir, tables: [ACCOUNTS] });
  const t = db.table('accounts');
  const options = mode === 'delayed' ? { durability: 'delayed' } : undefined;
  const latency = [];
  let next = 0;
  const lane = async () => {
    while (next < N) {
      const id = next++;
      const started = performance.now();
      await t.insert({ id, name: `n${id}`, balance: id * 1.5, ts: id }, options);
      latency.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: K }, lane));
  const seconds = (performance.now() - started) / 1000;
  latency.sort((a, b) => a - b);
  const at = (q) => latency[Math.min(latency.length - 1, Math.floor(latency.length * q))].toFixed(2);
  console.log(JSON.stringify({ K, mode, perSec: Math.round(N / seconds), p50: at(0.5), p99: at(0.99) }));
  await db.close();
} finally {
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
}
