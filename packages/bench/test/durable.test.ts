/**
 * The `durable` workload at a tiny size, in a folder the test owns: every
 * sub-measurement reports, none runs more commits than --ops, and nothing is
 * left behind. Timings are reported, never asserted. Also the `dir` option's
 * validation, which only `durable` relies on so far.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBench, UsageError } from '../src/index.js';

const OPS = 5_000;

test('durable reports every figure within --ops and removes its files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-bench-durable-'));
  try {
    const [doc] = (await runBench({ names: ['durable'], ops: OPS, seconds: 2, dir, write: false, log: () => {} }))
      .workloads;
    assert.ok(doc !== undefined);
    assert.is(doc.parameters.dir, dir);
    const names = doc.figures.map((f) => f.name);
    for (const k of ['1', '16', '256', '4,096']) {
      for (const suffix of ['', ': latency p50', ': latency p99', ': latency p99.9']) {
        assert.ok(names.includes(`durable, ${k} in flight${suffix}`), `figure "durable, ${k} in flight${suffix}"`);
      }
    }
    assert.ok(
      names.some((n) => n.startsWith('fdatasync')),
      'the fdatasync limit',
    );
    assert.ok(names.includes('delayed durability'), 'delayed vs in-memory');
    assert.ok(
      names.some((n) => n.startsWith('event-loop delay')),
      'event-loop delay',
    );
    for (const f of doc.figures) {
      for (const value of [f.tidemark, f.baseline])
        assert.ok(value === null || (Number.isFinite(value) && value >= 0), `${f.name}: ${value}`);
    }
    for (const [name, count] of Object.entries(doc.counts)) assert.ok(count >= 1 && count <= OPS, `${name}: ${count}`);
    assert.equal(readdirSync(dir), [], 'the temporary folder is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dir must name an existing directory', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'tidemark-bench-dir-'));
  try {
    const file = join(parent, 'a-file');
    writeFileSync(file, '');
    for (const dir of [join(parent, 'missing'), file, '']) {
      try {
        await runBench({ names: ['durable'], dir, write: false, log: () => {} });
        assert.unreachable(`dir "${dir}" was accepted`);
      } catch (error) {
        assert.instance(error, UsageError);
        assert.match((error as Error).message, 'options.dir');
      }
    }
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test.run();
