/**
 * One open of the `recovery` workload, in a process of its own (started by
 * workloads/recovery.ts through child.ts), so each is measured as a restart
 * is: a fresh heap, with nothing the build or an earlier open left behind.
 *
 *   argv[2]: JSON RecoveryRequest
 *   stdout:  JSON RecoveryResult
 *
 * The time counts from just before open() until it resolves; then a sample
 * of the kept keys (read from `keptPath`, int32 little-endian) must all be
 * found, and the row count must be exact, or the child fails.
 */
import { readFileSync } from 'node:fs';
import { open, type CheckpointLoad, type OpenOptions } from '@tidemark/core';
import { prng, TABLE } from '../data.js';

export interface RecoveryRequest {
  dir: string;
  /** options.recoveryWorkers (null: the default). */
  workers: number | null;
  keptPath: string;
  checkedKeys: number;
  seed: number;
  /** Other open() options (JSON), as the directory was written with. */
  options?: OpenOptions;
}

export interface RecoveryResult {
  seconds: number;
  workers: number;
  load: CheckpointLoad;
  rows: number;
}

async function main(request: RecoveryRequest): Promise<RecoveryResult> {
  const kept = new Int32Array(readFileSync(request.keptPath).buffer.slice(0));
  const started = performance.now();
  const options = { ...request.options, dir: request.dir };
  const db = await open(request.workers === null ? options : { ...options, recoveryWorkers: request.workers });
  const seconds = (performance.now() - started) / 1000;
  try {
    const table = db.table(TABLE);
    const next = prng(request.seed);
    for (let i = 0; i < request.checkedKeys; i++) {
      const id = kept[next() % kept.length]!;
      if (table.get(id) === undefined) throw new Error(`recovery lost row ${id}`);
    }
    const rows = db.stats().tables[0]!.rows;
    if (rows !== kept.length) throw new Error(`recovered ${rows} rows, ${kept.length} expected`);
    const load = db.recovery!.checkpoint!;
    return { seconds, workers: load.workers, load, rows };
  } finally {
    await db.close();
  }
}

const result = await main(JSON.parse(process.argv[2]!) as RecoveryRequest);
process.stdout.write(`${JSON.stringify(result)}\n`);
