/**
 * The merge policy, from the oldest pair: a run whose live rows fit one data
 * file becomes one pair; failing that, a pair at least `deadFraction`
 * deleted is rewritten alone; failing that, three pairs whose live rows fit
 * two become two. Only mergeable pairs are taken.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CfpState } from '../src/checkpoint/cfp_format.js';
import { chooseMerge, liveBytes, type MergePolicy } from '../src/checkpoint/merge_policy.js';
import type { CfpEntry } from '../src/checkpoint/root_format.js';
import { FILE_HEADER_BYTES } from '../src/files/file_header.js';

const FILE = 1000 + FILE_HEADER_BYTES;
const policy: MergePolicy = { targetBytes: FILE - FILE_HEADER_BYTES, deadFraction: 0.5 };

/** Pairs of 1,000 data bytes and 100 rows each, `live` of them live, ids 1, 2, …. */
function pairs(...live: number[]): CfpEntry[] {
  return live.map((l, i) => ({
    id: i + 1,
    state: CfpState.ACTIVE,
    minVersion: i * 100,
    maxVersion: i * 100 + 99,
    firstCommitTs: i + 1,
    lastCommitTs: i + 1,
    capacity: FILE,
    dataLength: FILE,
    deltaLength: FILE_HEADER_BYTES,
    rows: 100,
    tombstones: 100 - l,
    sinceCheckpoint: 1,
  }));
}
const all = (): boolean => true;

test('live bytes are the data bytes times the live share', () => {
  assert.is(liveBytes(pairs(60)[0]!), 600);
});

test('a run that fits one data file becomes one pair, from the oldest', () => {
  assert.equal(chooseMerge(pairs(90, 40, 50, 45), all, policy), { sources: [2, 3], targets: 1 });
  assert.equal(chooseMerge(pairs(30, 30, 30, 90), all, policy), { sources: [1, 2, 3], targets: 1 });
});

test('three pairs whose live rows fit two data files become two, where no run fits one', () => {
  assert.equal(chooseMerge(pairs(75, 58, 64, 90), all, policy), { sources: [1, 2, 3], targets: 2 });
  assert.equal(chooseMerge(pairs(95, 70, 60, 70), all, policy), { sources: [2, 3, 4], targets: 2 });
});

test('a run into one is taken first, then a single rewrite, then three into two', () => {
  assert.equal(chooseMerge(pairs(60, 60, 60, 90, 45, 45), all, policy), { sources: [5, 6], targets: 1 });
  assert.equal(chooseMerge(pairs(60, 60, 60, 95, 40, 95), all, policy), { sources: [5], targets: 1 });
  assert.equal(chooseMerge(pairs(95, 60, 60, 60, 95), all, policy), { sources: [2, 3, 4], targets: 2 });
});

test('a pair at least deadFraction deleted is rewritten alone when nothing else fits', () => {
  assert.equal(chooseMerge(pairs(95, 50, 95), all, policy), { sources: [2], targets: 1 });
  assert.is(chooseMerge(pairs(95, 51, 95), all, policy), null);
  assert.is(chooseMerge(pairs(70, 70, 70), all, policy), null, 'three at 70% do not fit two files');
});

test('pairs that may not be merged now are never taken', () => {
  const p = pairs(60, 60, 60, 60);
  assert.equal(
    chooseMerge(p, (c) => c.id !== 1, policy),
    { sources: [2, 3, 4], targets: 2 },
  );
  assert.is(
    chooseMerge(p, (c) => c.id !== 2, policy),
    null,
  );
});

test.run();
