/**
 * The demo's victim: a child process that opens the demo database and
 * makes durable transfers until it is killed. It reports every transfer
 * once it is durable — and only then — to the parent over IPC, in batches,
 * so the parent knows exactly what was acknowledged when it sends SIGKILL.
 *
 *   parent ──fork──► child: open, transfers (256 in flight) ──{ durable: ids }──► parent
 *   parent ──SIGKILL──► child   (commits in flight, files open, workers running)
 */
import { open } from '@tidemark/core';
import { DEMO_OPTIONS, runTransfers } from './bank.js';

/** How often acknowledged ids are sent to the parent. */
const REPORT_MS = 5;
const IN_FLIGHT = 256;

export interface ChildMessage {
  ready?: true;
  durable?: number[];
}

export async function runChild(dir: string, firstId: number): Promise<void> {
  const send = (message: ChildMessage): void => void process.send!(message);
  const db = await open({ dir, ...DEMO_OPTIONS });
  let pending: number[] = [];
  const timer = setInterval(() => {
    if (pending.length === 0) return;
    send({ durable: pending });
    pending = [];
  }, REPORT_MS);
  send({ ready: true });
  await runTransfers(db, {
    firstId,
    inFlight: IN_FLIGHT,
    seed: firstId,
    stop: () => false,
    onDurable: (id) => pending.push(id),
  });
  clearInterval(timer);
}
