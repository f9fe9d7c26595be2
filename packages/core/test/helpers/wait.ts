/**
 * Waiting in tests for what the background threads publish, by polling with
 * a deadline, never by a fixed sleep: on a loaded machine a sleep that is
 * always long enough here is sometimes too short there.
 */
import * as assert from 'uvu/assert';
import type { Database } from '../../src/index.js';

/** Polls `check` every 10 ms until it is true; fails the test after `ms` (5 s by default). */
export async function eventually(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.unreachable(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once the checkpoint streamer has streamed every commit made so far and made any checkpoint that was due (it publishes both after the same step). */
export async function streamedUp(db: Database, ms = 10_000): Promise<void> {
  await db.flush();
  const commitTs = db.stats().commitTs;
  await eventually(
    () => db.stats().durability!.checkpoints.streamedTs >= commitTs,
    `the streamer reaches commit ${commitTs}`,
    ms,
  );
}
