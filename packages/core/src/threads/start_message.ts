/**
 * How an engine worker gets its data: the main thread starts the thread
 * first (opening spawns it before recovery, so the bundle loads while the
 * checkpoint does) and posts this message once recovery has decided where
 * the log and the checkpoint go on. The entry waits for it before it
 * builds its loop and exposes its API; comlink calls posted after it are
 * handled after it.
 */
import type { MessagePort, Worker } from 'node:worker_threads';

export interface StartMessage<Data> {
  type: 'tidemark-start';
  data: Data;
}

/** Sends a started thread its data (SharedArrayBuffers in it are shared, not copied). */
export function sendStart<Data>(worker: Worker, data: Data): void {
  const message: StartMessage<Data> = { type: 'tidemark-start', data };
  worker.postMessage(message);
}

/** Calls `start` with the data of the first start message on `port` (in a worker entry: parentPort). */
export function onStart<Data>(port: MessagePort, start: (data: Data) => void): void {
  const listener = (message: Partial<StartMessage<Data>>): void => {
    if (message?.type !== 'tidemark-start') return;
    port.off('message', listener);
    start(message.data as Data);
  };
  port.on('message', listener);
}
