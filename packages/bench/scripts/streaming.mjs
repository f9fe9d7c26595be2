// A spot check for A/B comparisons of checkpoint streaming, lighter than the
// harness's `checkpoint` workload: N single-row delayed inserts (4,096 in
// flight) on a fresh database with the workload's small triggers, then a
// checkpoint; it prints one JSON line with the streamer's own figures: MB/s
// of pair files over its busy time, its streaming and checkpoint time, pool
// misses (a pair pre-created while streaming), the time it waited for a
// core (Linux), and the WAL rate. Run it in
// turns with two builds and compare medians.
//
//   node packages/bench/scripts/streaming.mjs [N=1000000] ['{...open options}']
//
// It needs `node scripts/build.mjs` first (it imports the built @tidemark/core).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '@tidemark/core';
import { ACCOUNTS } from './accounts.mjs';

const MiB = 1024 * 1024;
const rows = Number(process.argv[2] ?? 1_000_000);
const extra = JSON.parse(process.argv[3] ?? '{}');
if (!Number.isSafeInteger(rows) || rows <= 0) {
  console.error("usage: streaming.mjs [rows>0] ['{...open options}']");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'tidemark-streaming-'));
try {
  const db = await open({
    dir,
    tables: [ACCOUNTS],
    walSegmentBytes: 4 * MiB,
    checkpointWalBytes: 16 * MiB,
    dataFileSizeBytes: 8 * MiB,
    checkpointIntervalMs: 250,
    ...extra,
  });
  const t = db.table('accounts');
  const delayed = { durability: 'delayed' };
  const started = performance.now();
  for (let i = 0; i < rows; i += 4096) {
    const pending = [];
    for (let j = i; j < Math.min(rows, i + 4096); j++)
      pending.push(t.insert({ id: j, name: `n${j}`, balance: j, ts: j }, delayed));
    await Promise.all(pending);
  }
  await db.flush();
  const seconds = (performance.now() - started) / 1000;
  const wal = (await db.logStats()).writer;
  await db.checkpoint();
  const s = (await db.logStats()).streamer;
  const busy = (s.streamMs + s.checkpointMs) / 1000;
  console.log(
    JSON.stringify({
      streamMBs: +(s.bytesWritten / MiB / busy).toFixed(1),
      streamMs: Math.round(s.streamMs),
      checkpointMs: Math.round(s.checkpointMs),
      checkpoints: s.checkpoints,
      streamCoreWaitMs: s.streamCoreWaitMs === null ? null : Math.round(s.streamCoreWaitMs),
      checkpointCoreWaitMs: s.checkpointCoreWaitMs === null ? null : Math.round(s.checkpointCoreWaitMs),
      poolMisses: s.poolMisses,
      poolMs: s.poolMs === undefined ? null : Math.round(s.poolMs),
      pairMiB: +(s.bytesWritten / MiB).toFixed(1),
      walMBs: +(wal.bytes / MiB / seconds).toFixed(1),
      insertsPerSec: Math.round(rows / seconds),
    }),
  );
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
