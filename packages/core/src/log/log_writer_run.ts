/**
 * Runs a LogWriterLoop until the ring closes: a step at a time, yielding to
 * the event loop when idle and every few batches, so control calls are
 * answered while it runs. The worker entry runs it on its own thread; fault
 * tests run it on the main thread (waitMs 0) over a simulated file layer.
 */
import { closeQuietly, type Running, yieldTurn } from '../threads/loop_runner.js';
import type { LogWriterApi } from './log_writer_api.js';
import type { LogWriterLoop } from './log_writer_loop.js';

const YIELD_EVERY_BATCHES = 16;

/** Starts the loop; `onFailed` hears the error that ends it (then the returned API's stop rejects with it). */
export function runLogWriter(
  loop: LogWriterLoop,
  waitMs: number,
  onFailed: (error: Error) => void,
): Running<LogWriterApi> {
  let halted = false;
  const finished = (async () => {
    let batches = 0;
    let closed = false;
    try {
      while (!halted) {
        const result = loop.step(waitMs);
        closed = result === 'closed';
        if (closed) break;
        if (result === 'idle' || ++batches % YIELD_EVERY_BATCHES === 0) await yieldTurn();
      }
    } catch (error) {
      loop.markFailed();
      onFailed(error as Error);
      closeQuietly(loop);
      throw error;
    }
    // The ring closed (a clean close) or the loop was halted (a simulated crash: nothing more is written).
    loop.close(closed);
  })();
  finished.catch(() => {});
  const api: LogWriterApi = {
    stats: () => loop.stats(),
    stop: async () => {
      await finished;
      return loop.stats();
    },
  };
  return { api, halt: () => void (halted = true) };
}
