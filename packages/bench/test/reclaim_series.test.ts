/**
 * The reclaim workload's untargeted figures over a phase: the mean of the
 * held bytes against the mean of the live bytes, and the sample where the
 * held bytes stood highest against live data (not the largest in bytes).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { overPhase, type Sample } from '../src/workloads/reclaim.js';

const sample = (seconds: number, diskBytes: number, memoryBytes: number, liveBytes: number): Sample => ({
  seconds,
  updates: seconds * 1000,
  diskBytes,
  dirBytes: diskBytes + 10,
  memoryBytes,
  liveBytes,
});

test('the means over the phase and the largest sample against live data', () => {
  const samples = [
    sample(0, 100, 150, 100),
    sample(1, 300, 120, 200),
    sample(2, 250, 130, 100),
    sample(3, 150, 160, 100),
  ];
  const disk = overPhase(samples, 'diskBytes')!;
  assert.equal(disk.mean, { held: 200, live: 125 });
  assert.is(disk.largest.seconds, 2, 'the highest ratio (2.5x), not the most bytes (300 at 1.5x)');
  const memory = overPhase(samples, 'memoryBytes')!;
  assert.equal(memory.mean, { held: 140, live: 125 });
  assert.is(memory.largest.seconds, 3);
});

test('samples with nothing live are left out; none at all gives null', () => {
  const disk = overPhase([sample(0, 50, 50, 0), sample(1, 120, 90, 100)], 'diskBytes')!;
  assert.equal(disk.mean, { held: 120, live: 100 });
  assert.is(disk.largest.seconds, 1);
  assert.is(overPhase([], 'diskBytes'), null);
  assert.is(overPhase([sample(0, 50, 50, 0)], 'memoryBytes'), null);
});

test.run();
