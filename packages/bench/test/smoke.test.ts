/**
 * The quick harness, as a user runs it (`pnpm bench` is the built CLI with
 * --expose-gc): it must finish, and write a valid results.json, report.md
 * and the SVG charts; `--compare` must read two results files back. No
 * figure is asserted as a speed: timings are for the harness, not for tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { workloads } from '../src/index.js';
import { readResults } from '../src/report/results.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function bench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--expose-gc', CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

// The whole quick benchmark takes minutes: the long tier only (TIDEMARK_LONG=1).
(process.env.TIDEMARK_LONG === '1' ? test : test.skip)(
  'the quick harness finishes and writes results.json, report.md and SVG charts',
  () => {
    const work = mkdtempSync(join(tmpdir(), 'tidemark-bench-smoke-'));
    const out = join(work, 'out');
    try {
      const run = bench(['--out', out, '--dir', work]);
      assert.is(run.status, 0, `exit status; stderr:\n${run.stderr.slice(-2000)}`);
      assert.ok(/\(1\/\d+\) peers side by side/.test(run.stdout), 'progress is printed');
      const results = readResults(join(out, 'results.json'));
      assert.is(results.mode, 'quick');
      assert.is(results.workloads.length, workloads.length, 'every Tidemark workload');
      const comparison = results.comparison;
      assert.ok(comparison !== null, 'the comparison ran');
      assert.equal(
        comparison.limits.map((l) => l.key),
        ['fdatasync', 'seqWrite', 'seqRead', 'mapSet', 'mapGet', 'mapSetLoop', 'mapGetLoop'],
      );
      for (const limit of comparison.limits)
        assert.ok(Number.isFinite(limit.value) && limit.value > 0, `limit ${limit.key}: ${limit.value}`);
      for (const c of comparison.cases) {
        const own = comparison.measurements.filter((m) => m.store === c.store && m.setting === c.setting);
        if (c.skipped !== undefined) {
          assert.ok(c.skipped.length > 0 && own.length === 0, `${c.store} (${c.setting}) is skipped with a reason`);
          continue;
        }
        for (const workload of [
          'batched commits',
          'point reads',
          'ycsb',
          c.durable ? 'durable commits' : 'delayed commits',
        ]) {
          assert.ok(
            own.some((m) => m.workload === workload),
            `${c.store} (${c.setting}) has ${workload}`,
          );
        }
      }
      assert.ok(
        comparison.cases.some((c) => c.store === 'tidemark' && c.skipped === undefined),
        'tidemark ran',
      );
      for (const m of comparison.measurements) {
        const ok = m.value === null ? typeof m.error === 'string' : Number.isFinite(m.value) && m.value >= 0;
        assert.ok(ok, `${m.workload} / ${m.figure} / ${m.store} (${m.setting}): ${m.value} ${m.error ?? ''}`);
      }
      const tidemarkFailures = comparison.measurements.filter((m) => m.store === 'tidemark' && m.value === null);
      assert.equal(
        tidemarkFailures.map((m) => `${m.figure}: ${m.error}`),
        [],
        'no tidemark figure failed',
      );
      const report = readFileSync(join(out, 'report.md'), 'utf8');
      for (const chart of [
        'durable-commits',
        'delayed-commits',
        'commit-latency',
        'ycsb',
        'recovery',
        'disk-over-time',
        'memory-over-time',
      ]) {
        const path = join(out, 'charts', `${chart}.svg`);
        assert.ok(existsSync(path), `${chart}.svg written`);
        const svg = readFileSync(path, 'utf8');
        assert.ok(
          svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>') && svg.includes('<path'),
          `${chart}.svg is an SVG with marks`,
        );
        assert.ok(report.includes(`charts/${chart}.svg`), `report.md shows ${chart}.svg`);
      }
      const same = bench(['--compare', join(out, 'results.json'), join(out, 'results.json')]);
      assert.is(same.status, 0, same.stderr);
      assert.ok(/^0 better, 0 worse, \d+ within/m.test(same.stdout), same.stdout);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);

test('bad command lines exit 2 with the reason', () => {
  const missing = bench(['--compare', '/nonexistent/old.json', '/nonexistent/new.json']);
  assert.is(missing.status, 2);
  assert.ok(missing.stderr.includes('/nonexistent/old.json'), missing.stderr);
  const one = bench(['--compare', 'a.json']);
  assert.is(one.status, 2);
  assert.ok(one.stderr.includes('two results.json files'), one.stderr);
  const unknown = bench(['no-such-workload']);
  assert.is(unknown.status, 2);
  assert.ok(unknown.stderr.includes('unknown workload "no-such-workload"'), unknown.stderr);
  const fullNamed = bench(['durable', '--full']);
  assert.is(fullNamed.status, 2);
});

test.run();
