/**
 * The checkpoint streamer's supervisor, over fake thread handles: a streamer
 * that finds the disk full is restarted, and a statistics call that meets
 * its end answers null instead of rejecting (the real ENOSPC test's child
 * once died of a db.logStats() that rejected with TM_DISK_FULL that way).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Remote } from 'comlink';
import { ErrorCode, TidemarkError } from '../src/errors.js';
import type { StreamerApi } from '../src/checkpoint/streamer_api.js';
import type { ThreadHandle } from '../src/threads/engine_threads.js';
import { StreamerSupervisor } from '../src/log/streamer_supervisor.js';
import { rejectsWith } from './helpers/dirs.js';
import { eventually } from './helpers/wait.js';

/** A streamer handle whose calls answer, or die with `dieWith` the way a real one does (the supervisor hears of it, and the call rejects). */
class FakeStreamer implements ThreadHandle<StreamerApi> {
  dieWith: TidemarkError | null = null;
  terminated = false;
  constructor(private readonly onFailure: (error: TidemarkError) => void) {}
  async call<T>(f: (api: Remote<StreamerApi>) => Promise<T>): Promise<T> {
    const error = this.dieWith;
    if (error !== null) {
      this.onFailure(error);
      throw error;
    }
    return f({ stats: async () => 'stats' } as unknown as Remote<StreamerApi>);
  }
  async stop<T>(last: (api: Remote<StreamerApi>) => Promise<T>): Promise<T> {
    return this.call(last);
  }
  async terminate(): Promise<void> {
    this.terminated = true;
  }
}

function supervised(retryMs: number): {
  supervisor: StreamerSupervisor;
  started: FakeStreamer[];
  fatal: TidemarkError[];
} {
  const started: FakeStreamer[] = [];
  const fatal: TidemarkError[] = [];
  const supervisor = new StreamerSupervisor(
    (_restart, onFailure) => {
      const handle = new FakeStreamer(onFailure);
      started.push(handle);
      return handle;
    },
    (error) => fatal.push(error),
    retryMs,
  );
  return { supervisor, started, fatal };
}

const stats = (api: Remote<StreamerApi>): Promise<unknown> => api.stats();

test('a statistics call that meets a full disk answers null; the streamer is restarted and answers again', async () => {
  const { supervisor, started, fatal } = supervised(5);
  assert.is(await supervisor.callUnlessDown(stats), 'stats');
  started[0]!.dieWith = new TidemarkError(ErrorCode.DISK_FULL, 'streamer: ENOSPC on fd 30');
  assert.is(await supervisor.callUnlessDown(stats), null, 'the call the streamer died in');
  assert.is(await supervisor.callUnlessDown(stats), null, 'while it is down');
  await rejectsWith(() => supervisor.call(stats), ErrorCode.DISK_FULL);
  assert.ok(started[0]!.terminated, 'the dead streamer is ended');
  await eventually(() => started.length === 2, 'a new streamer starts');
  assert.is(supervisor.restarts, 1);
  assert.is(await supervisor.callUnlessDown(stats), 'stats');
  assert.equal(fatal, [], 'a full disk stops no database');
  await supervisor.terminate();
});

test('any other failure still rejects the call and reaches the engine', async () => {
  const { supervisor, started, fatal } = supervised(5);
  started[0]!.dieWith = new TidemarkError(ErrorCode.IO_ERROR, 'streamer: EIO');
  await rejectsWith(() => supervisor.callUnlessDown(stats), ErrorCode.IO_ERROR);
  assert.is(fatal.length, 1);
  assert.is(fatal[0]!.code, ErrorCode.IO_ERROR);
  await supervisor.terminate();
});

test.run();
