/**
 * The thread's wait for a core, read from /proc/thread-self/schedstat on
 * Linux: the second number, in milliseconds; no clock elsewhere.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coreWaitClock, parseSchedstatWait } from '../src/threads/core_wait.js';

test('the wait is the second number, nanoseconds as milliseconds', () => {
  assert.is(parseSchedstatWait('858968 96884000 2\n'), 96.884);
  assert.is(parseSchedstatWait('1 0 0'), 0);
});

test('anything but three numbers is refused', () => {
  for (const bad of ['', '1 2', '1 2 3 4', 'a b c', '1 -2 3'])
    assert.throws(() => parseSchedstatWait(bad), /unexpected/);
});

test('on Linux the clock reads a wait that never goes down; elsewhere there is none', () => {
  const clock = coreWaitClock();
  if (process.platform !== 'linux') {
    assert.is(clock, null);
    return;
  }
  assert.ok(clock !== null);
  let last = clock.read();
  for (let i = 0; i < 100; i++) {
    const now = clock.read();
    assert.ok(Number.isFinite(now) && now >= last, `${now} after ${last}`);
    last = now;
  }
  clock.close();
  clock.close(); // a second close does nothing
  assert.throws(() => clock.read(), /closed/);
});

test.run();
