/**
 * Worker entry: the log writer. Wires the ring and the control API (comlink)
 * to LogWriterLoop through runLogWriter; all logic lives there. The loop
 * blocks in Atomics.wait for at most a few milliseconds at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import { endpointOf, NodeFileLayer, type LogWriterData } from '@tidemark/core/internal';
import { LogWriterLoop } from '../log_writer/loop.js';
import { runLogWriter } from '../log_writer/run.js';

const WAIT_MS = 5;

const loop = new LogWriterLoop(new NodeFileLayer(), workerData as LogWriterData);
const { api } = runLogWriter(loop, WAIT_MS, (error) => {
  parentPort!.postMessage({ type: 'worker-failed', message: error.message, code: (error as { code?: string }).code });
  // Rethrown by the loop: the thread ends with the error, as before.
  setImmediate(() => {
    throw error;
  });
});
expose(api, endpointOf(parentPort!));
