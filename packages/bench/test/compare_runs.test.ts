/**
 * `--compare` on made-up results: a rate that rose is faster, a time or
 * size that rose is worse, a change under the noise threshold is the same,
 * figures only one run has are counted apart; and ratios to the best other
 * store and to a limit come out as the report explains them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { vsBestPeer, vsLimit, type Comparison, type Measurement } from '../src/compare/measurement.js';
import { compareRuns, formatRunComparison } from '../src/report/compare_runs.js';
import { benchResults, ResultsFileError, readResults } from '../src/report/results.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function m(store: string, value: number | null, extra: Partial<Measurement> = {}): Measurement {
  return {
    workload: 'durable commits',
    figure: 'commits/s, 16 in flight',
    unit: 'commits/s',
    better: 'higher',
    store,
    setting: 's',
    durable: true,
    value,
    ...extra,
  };
}

function comparison(measurements: Measurement[]): Comparison {
  return {
    cases: [],
    limits: [{ key: 'fdatasync', name: 'fdatasync rate', unit: 'syncs/s', value: 1000, note: '' }],
    measurements,
    notes: [],
  };
}

test('vsBestPeer compares with the best other store of the same class; lower-is-better is inverted', () => {
  const all = [m('tidemark', 300), m('sqlite', 100), m('lmdb', 200), m('redis', 900, { durable: false })];
  assert.is(vsBestPeer(all[0]!, all)!.ratio, 1.5);
  assert.is(vsBestPeer(all[0]!, all)!.best.store, 'lmdb');
  assert.is(vsBestPeer(all[3]!, all), null, 'no other store in its class');
  const seconds = [m('tidemark', 2, { better: 'lower', unit: 's' }), m('redis', 4, { better: 'lower', unit: 's' })];
  assert.is(vsBestPeer(seconds[0]!, seconds)!.ratio, 2);
  assert.is(vsBestPeer(m('x', null), all), null);
  assert.is(vsLimit(m('tidemark', 500, { limit: 'fdatasync' }), comparison([]).limits), 0.5);
  assert.is(vsLimit(m('tidemark', 500), comparison([]).limits), null);
});

test('compareRuns sorts changes into better, worse and same', () => {
  const before = benchResults(
    'quick',
    [],
    new Date(),
    comparison([m('tidemark', 100), m('sqlite', 100), m('lmdb', 100), m('gone', 1)]),
    [],
  );
  const secondsOld = { ...m('tidemark', 10, { better: 'lower', unit: 's', workload: 'recovery', figure: 'seconds' }) };
  before.comparison!.measurements.push(secondsOld);
  const after = benchResults(
    'quick',
    [],
    new Date(),
    comparison([m('tidemark', 150), m('sqlite', 80), m('lmdb', 103), m('new', 1)]),
    [],
  );
  after.comparison!.measurements.push({ ...secondsOld, value: 12 });
  const c = compareRuns(before, after);
  const verdict = (store: string, workload = 'durable commits'): string =>
    c.changes.find((x) => x.key.startsWith(workload) && x.key.includes(store))!.verdict;
  assert.is(verdict('tidemark'), 'better');
  assert.is(verdict('sqlite'), 'worse');
  assert.is(verdict('lmdb'), 'same');
  assert.is(verdict('tidemark', 'recovery'), 'worse', 'more seconds is worse');
  assert.is(c.onlyOld.length, 1);
  assert.is(c.onlyNew.length, 1);
  assert.equal(c.warnings, [], 'the same mode and machine');
  const text = formatRunComparison(c, 'old.json', 'new.json');
  assert.ok(text.includes('1 better, 2 worse, 1 within 5%'), text);
  assert.ok(/\+50\.0%\s+faster/.test(text), text);
});

test('runs of another size or machine are compared with a warning', () => {
  const quick = benchResults('quick', [], new Date(), comparison([m('tidemark', 100)]), []);
  const full = benchResults('full', [], new Date(), comparison([m('tidemark', 100)]), []);
  full.machine = { ...full.machine, cpuModel: 'Another CPU', cores: 64 };
  const c = compareRuns(quick, full);
  assert.is(c.warnings.length, 2);
  assert.match(formatRunComparison(c, 'a', 'b'), /^WARNING: the runs are of different sizes \(quick and full\)/m);
  assert.match(formatRunComparison(c, 'a', 'b'), /^WARNING: the runs are from different machines/m);
});

test('readResults refuses what is not a results file, naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-results-'));
  try {
    const path = join(dir, 'x.json');
    for (const text of ['not json', '{}', '{"format":"tidemark-bench-results","version":99,"workloads":[]}']) {
      writeFileSync(path, text);
      try {
        readResults(path);
        assert.unreachable(`accepted ${text}`);
      } catch (error) {
        assert.instance(error, ResultsFileError);
        assert.ok((error as Error).message.includes(path));
        assert.is((error as ResultsFileError).code, 'TM_BENCH_RESULTS');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
