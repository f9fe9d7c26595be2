/**
 * Schema changes under SIGKILL, with real processes and worker threads: a
 * child makes steps one after another (transactions, and every fifth step a
 * schema change: a column added, an index built and dropped, a column
 * dropped) and prints each once durable; the test kills it at a random
 * moment, and the next child's open recovers the directory and prints what
 * it holds. That must be the model's state after the steps it holds (the
 * schema version, the columns, each index whole, every row), at least every
 * acknowledged step. Files and triggers are small, so kills land in
 * checkpoints and merges too. TIDEMARK_SCHEMA_CRASH_CYCLES sets the cycles
 * (default 200 with TIDEMARK_LONG=1, else 30).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runAndKill } from './helpers/kill_child.js';
// @ts-expect-error: a plain .mjs fixture, shared with the child process
import { stateAfter } from './fixtures/schema_crash_model.mjs';

const CYCLES = Number(process.env.TIDEMARK_SCHEMA_CRASH_CYCLES ?? (process.env.TIDEMARK_LONG === '1' ? 200 : 30));
const child = fileURLToPath(new URL('./fixtures/schema_crash_child.mjs', import.meta.url));

interface Recovered {
  n: number;
  state: unknown;
}

test(`SIGKILL during schema changes, ${CYCLES} cycles: the schema and rows of every acknowledged step survive`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-schema-crash-'));
  let seed = 4242;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let lastAcked = 0;
  let lastN = 0;
  try {
    for (let cycle = 0; cycle <= CYCLES; cycle++) {
      const { recovered, acked } = await runAndKill<Recovered>(child, [dir], random(150));
      const where = `cycle ${cycle}`;
      assert.ok(
        recovered.n >= lastAcked,
        `${where}: step ${lastAcked} was acknowledged but the database holds ${recovered.n}`,
      );
      assert.ok(recovered.n >= lastN, `${where}: went back from ${lastN} to ${recovered.n}`);
      assert.equal(recovered.state, stateAfter(recovered.n), `${where}: the state after ${recovered.n} steps`);
      lastN = recovered.n;
      lastAcked = acked;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(lastN > 5 * 8, `made progress: ${lastN} steps (${Math.floor(lastN / 5)} schema changes)`);
  console.log(
    `  schema SIGKILL cycles: ${CYCLES} kills, ${lastN} steps recovered (${Math.floor(lastN / 5)} schema changes), 0 lost, 0 partial`,
  );
});

test.run();
