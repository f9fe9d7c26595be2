/**
 * The harness at a tiny size: every workload runs, reports a figure for
 * each side, and writes a JSON document that parses back. No figure is
 * asserted as a speed: timings are for the harness, not for tests.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBench, workloads } from '../src/index.js';

test('every workload runs at a small size and writes valid JSON', async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'tidemark-bench-'));
  try {
    const lines: string[] = [];
    // A short time limit: workloads that run for a duration (reclaim's 60 s phases) stop early.
    const docs = await runBench({ names: workloads.map((w) => w.name), rows: 5_000, ops: 5_000, seconds: 0.5, outDir, log: (l) => lines.push(l) });
    assert.is(docs.length, workloads.length);
    const files = readdirSync(outDir).filter((f) => f.endsWith('.json'));
    assert.is(files.length, workloads.length, `files: ${files.join(', ')}`);
    for (const file of files) {
      const doc = JSON.parse(readFileSync(join(outDir, file), 'utf8'));
      const figures = doc.figures ?? doc.result?.figures;
      assert.ok(Array.isArray(figures) && figures.length > 0, `${file} has figures`);
      for (const f of figures) assert.ok(f.tidemark === null || Number.isFinite(f.tidemark), `${file}: ${f.name} is a number`);
    }
    assert.ok(lines.some((l) => l.includes('tidemark')), 'a table was printed');
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

test.run();
