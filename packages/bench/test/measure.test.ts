import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { median } from '../src/measure.js';

test('median: the middle value, the mean of the middle two for an even count, NaN for none; the input is left as it was', () => {
  const values = [5, 1, 4];
  assert.is(median(values), 4);
  assert.equal(values, [5, 1, 4]);
  assert.is(median([3, 1, 4, 2]), 2.5);
  assert.is(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
  // Numbers, not strings: 10 sorts after 9.
  assert.is(median([9, 10, 100]), 10);
});

test.run();
