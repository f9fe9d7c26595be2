/**
 * Worker entry: the checkpoint streamer. Wires the control API (comlink) to
 * StreamerLoop through runStreamer (core's checkpoint/); all logic lives there. The thread starts
 * before its data is known and waits for it (threads/start_message.ts). The
 * loop blocks in Atomics.wait for at most a few milliseconds at a time.
 */
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import {
  endpointOf,
  lowerThreadPriority,
  onStart,
  coreWaitClock,
  NodeFileLayer,
  PoolMergeRunner,
  runStreamer,
  StreamerLoop,
  toWire,
  type StreamerData,
} from '@tidemark/core/internal';

const WAIT_MS = 20;

lowerThreadPriority(); // background work: commits come first (threads/priority.ts)

onStart<StreamerData>(parentPort!, (data) => {
  const merges = new PoolMergeRunner();
  const loop = new StreamerLoop(new NodeFileLayer(data.fileMode), data, merges, undefined, coreWaitClock());
  const { api } = runStreamer(loop, merges, WAIT_MS, (error) => {
    parentPort!.postMessage({ type: 'worker-failed', ...toWire(error) });
    setImmediate(() => {
      throw error;
    });
  });
  expose(api, endpointOf(parentPort!));
});
