/**
 * Worker entry: the log writer. Wires the ring and the control API (comlink)
 * to LogWriterLoop; all logic lives there. The loop blocks in Atomics.wait
 * for at most a few milliseconds at a time and yields to the event loop in
 * between, so control calls are answered while it runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import { endpointOf, NodeFileLayer, type LogWriterApi, type LogWriterData } from '@tidemark/core/internal';
import { LogWriterLoop } from '../log_writer/loop.js';

const WAIT_MS = 5;
const YIELD_EVERY_BATCHES = 16;

const loop = new LogWriterLoop(new NodeFileLayer(), workerData as LogWriterData);
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const finished = (async () => {
  let batches = 0;
  try {
    for (;;) {
      const result = loop.step(WAIT_MS);
      if (result === 'closed') break;
      if (result === 'idle' || ++batches % YIELD_EVERY_BATCHES === 0) await yieldTurn();
    }
  } catch (error) {
    parentPort!.postMessage({ type: 'worker-failed', message: (error as Error).message, code: (error as { code?: string }).code });
    throw error;
  }
  loop.close();
})();

const api: LogWriterApi = {
  stats: () => loop.stats(),
  stop: async () => {
    await finished;
    return loop.stats();
  },
};
expose(api, endpointOf(parentPort!));
