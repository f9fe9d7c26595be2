// What it costs the main thread to hear from a worker: the floor under a
// durable commit with one in flight. A worker spins on a shared cell (so its
// own wake-up costs nothing), busy-waits `work` µs (standing in for write +
// fdatasync), then signals the main thread, which is idle in its event loop:
// through Atomics.notify + Atomics.waitAsync (what the durable sink uses), or
// through a MessagePort. The round trip minus `work` is the main thread's
// wake-up. It prints one JSON line per way.
//
//   node packages/bench/scripts/wake_floor.mjs [work µs=130] [round trips=20000]
import { MessageChannel, Worker } from 'node:worker_threads';

const work = Number(process.argv[2] ?? 130);
const trips = Number(process.argv[3] ?? 20_000);

const WORKER = `
const { workerData } = require('node:worker_threads');
const cells = new Int32Array(workerData.sab);
let seen = 0;
for (;;) {
  let v = Atomics.load(cells, 0);
  while (v === seen) v = Atomics.load(cells, 0);
  seen = v;
  if (v < 0) break;
  const until = performance.now() + workerData.work / 1000;
  while (performance.now() < until);
  if (workerData.way === 'port') workerData.port.postMessage(v);
  else { Atomics.store(cells, 1, v); Atomics.notify(cells, 1); }
}`;

async function measure(way) {
  const sab = new SharedArrayBuffer(8);
  const cells = new Int32Array(sab);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER, { eval: true, workerData: { sab, work, way, port: port2 }, transferList: [port2] });
  let onMessage = () => {};
  port1.on('message', () => onMessage());
  await new Promise((resolve) => setTimeout(resolve, 200));
  const us = [];
  for (let i = 1; i <= trips; i++) {
    const started = performance.now();
    if (way === 'port') {
      const heard = new Promise((resolve) => (onMessage = resolve));
      Atomics.store(cells, 0, i);
      await heard;
    } else {
      Atomics.store(cells, 0, i);
      const wait = Atomics.waitAsync(cells, 1, i - 1);
      if (wait.async) await wait.value;
    }
    us.push((performance.now() - started) * 1000);
  }
  Atomics.store(cells, 0, -1);
  port1.close();
  await worker.terminate();
  us.sort((a, b) => a - b);
  const p50 = us[us.length >> 1];
  return {
    way,
    workUs: work,
    roundTripP50Us: +p50.toFixed(1),
    wakeUpP50Us: +(p50 - work).toFixed(1),
    p99Us: +us[Math.floor(us.length * 0.99)].toFixed(1),
  };
}

for (const way of ['waitAsync', 'port']) console.log(JSON.stringify(await measure(way)));
