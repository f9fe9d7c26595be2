import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Snapshots } from '../src/txn/snapshots.js';

test('the oldest open snapshot matches a simple list under random acquire/release', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(5), fc.nat()), { maxLength: 300 }), (steps) => {
      const s = new Snapshots();
      const open: number[] = [];
      let now = 0;
      for (const [acquire, advance, pick] of steps) {
        if (acquire || open.length === 0) {
          now += advance;
          s.acquire(now);
          open.push(now);
        } else {
          const [ts] = open.splice(pick % open.length, 1);
          s.release(ts!);
        }
        assert.is(s.active, open.length);
        assert.is(s.oldest(), open.length === 0 ? Infinity : Math.min(...open));
      }
    }),
    { numRuns: 300 },
  );
});

test.run();
