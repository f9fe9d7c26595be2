/**
 * How an engine thread gets its data after it has started: the first start
 * message, once, whatever else arrives on the port before or after it.
 */
import { MessageChannel } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { onStart } from '../src/threads/start_message.js';

test('onStart takes the first start message only, and ignores other messages', async () => {
  const { port1, port2 } = new MessageChannel();
  const seen: number[] = [];
  let done: () => void = () => {};
  const started = new Promise<void>((resolve) => (done = resolve));
  onStart<number>(port1, (data) => {
    seen.push(data);
    done();
  });
  // A port delivers in order, so once the last message has reached a listener of port1, the second start message
  // has been delivered too: a second call, were there one, has been made.
  const delivered = new Promise<void>((resolve) =>
    port1.on('message', (message: { type?: string }) => {
      if (message?.type === 'last') resolve();
    }),
  );
  port2.postMessage({ type: 'something-else', data: 1 });
  port2.postMessage({ type: 'tidemark-start', data: 5 });
  port2.postMessage({ type: 'tidemark-start', data: 6 });
  port2.postMessage({ type: 'last' });
  await started;
  await delivered;
  assert.equal(seen, [5]);
  port1.close();
  port2.close();
});

test.run();
