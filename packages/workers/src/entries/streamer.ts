/**
 * Worker entry: the checkpoint streamer. Wires the control API (comlink) to
 * StreamerLoop; all logic lives there. The loop blocks in Atomics.wait for
 * at most a few milliseconds at a time and yields to the event loop in
 * between, so control calls are answered while it runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import { endpointOf, NodeFileLayer, PoolMergeRunner, type StreamerApi, type StreamerData } from '@tidemark/core/internal';
import { StreamerLoop } from '../streamer/loop.js';

const WAIT_MS = 20;

const merges = new PoolMergeRunner();
const loop = new StreamerLoop(new NodeFileLayer(), workerData as StreamerData, merges);
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
let finalTs: number | null = null;

const finished = (async () => {
  try {
    while (finalTs === null) {
      loop.step(WAIT_MS);
      await yieldTurn();
    }
    await loop.settleMerge();
    loop.finish(finalTs);
  } catch (error) {
    loop.failAll(error as Error);
    parentPort!.postMessage({ type: 'worker-failed', message: (error as Error).message, code: (error as { code?: string }).code });
    throw error;
  } finally {
    await merges.close();
  }
})();

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
expose(api, endpointOf(parentPort!));
