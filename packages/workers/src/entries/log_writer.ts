/**
 * Worker entry: the log writer. Wires the ring and the control API (comlink)
 * to LogWriterLoop through runLogWriter (core's log/); all logic lives there. The thread
 * starts before its data is known and waits for it (threads/start_message.ts).
 * The loop blocks in Atomics.wait for at most a few milliseconds at a time.
 */
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import {
  endpointOf,
  LogWriterLoop,
  NodeFileLayer,
  onStart,
  runLogWriter,
  toWire,
  type LogWriterData,
} from '@tidemark/core/internal';

const WAIT_MS = 5;

onStart<LogWriterData>(parentPort!, (data) => {
  const loop = new LogWriterLoop(new NodeFileLayer(data.fileMode), data);
  const { api } = runLogWriter(loop, WAIT_MS, (error) => {
    parentPort!.postMessage({ type: 'worker-failed', ...toWire(error) });
    // Rethrown by the loop: the thread ends with the error, as before.
    setImmediate(() => {
      throw error;
    });
  });
  expose(api, endpointOf(parentPort!));
});
