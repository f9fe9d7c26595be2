/**
 * Runs a StreamerLoop until stopped: a step at a time, yielding to the event
 * loop between steps so control calls are answered. The worker entry runs it
 * on its own thread; fault tests run it on the main thread (waitMs 0) over a
 * simulated file layer with merges run inline.
 */
import { closeQuietly, type Running, yieldTurn } from '../threads/loop_runner.js';
import type { MergeRunner } from './merge_task.js';
import type { StreamerApi } from './streamer_api.js';
import type { StreamerLoop } from './streamer_loop.js';

/** Starts the loop; `onFailed` hears the error that ends it (then stop rejects with it). */
export function runStreamer(
  loop: StreamerLoop,
  merges: MergeRunner,
  waitMs: number,
  onFailed: (error: Error) => void,
): Running<StreamerApi> {
  let finalTs: number | null = null;
  let halted = false;
  const finished = (async () => {
    try {
      while (finalTs === null && !halted) {
        loop.step(waitMs);
        await yieldTurn();
      }
      if (halted) {
        loop.close();
        return;
      }
      await loop.settleMerge();
      loop.finish(finalTs!);
    } catch (error) {
      onFailed(error as Error);
      loop.failAll(error as Error);
      closeQuietly(loop);
      throw error;
    } finally {
      await merges.close();
    }
  })();
  finished.catch(() => {});
  const api: StreamerApi = {
    checkpoint: (uptoTs) => loop.requestCheckpoint(uptoTs),
    inventory: () => loop.inventory(),
    merge: (uptoTs) => loop.requestMerge(uptoTs),
    stats: () => loop.stats(),
    stop: async (ts) => {
      finalTs = ts;
      await finished;
      return loop.stats();
    },
  };
  return { api, halt: () => void (halted = true) };
}
