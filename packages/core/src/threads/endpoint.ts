/** comlink over worker_threads: the one place that knows where comlink keeps its Node adapter. */
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Endpoint } from 'comlink';
import type { MessagePort, Worker } from 'node:worker_threads';

export function endpointOf(port: MessagePort | Worker): Endpoint {
  return nodeEndpoint(port);
}
