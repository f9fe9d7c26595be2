/**
 * A load script for the bank service: opens ACCOUNTS accounts, then keeps
 * CONCURRENCY transfer requests in flight for SECONDS and prints the rate
 * and latency percentiles, then checks that no money was made or lost.
 *
 *   pnpm --filter @tidemark/example-bank load -- --url http://127.0.0.1:8080 --seconds 10
 */
import { argsOrExit, loadArgs } from './args.js';

const args = argsOrExit(loadArgs, process.argv.slice(2));
const base = args.url;
const accounts = args.accounts;
const concurrency = args.concurrency;
const prefix = `load-${Date.now().toString(36)}-`;

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

for (let i = 0; i < accounts; i++) {
  const r = await call('POST', '/accounts', { id: `${prefix}${i}`, owner: `owner ${i}`, balance: '100000' });
  if (r.status !== 201) throw new Error(`opening an account answered ${r.status} ${JSON.stringify(r.json)}`);
}
const latencies: number[] = [];
const statuses = new Map<number, number>();
const stopAt = performance.now() + args.seconds * 1000;
let seed = 1;
const random = (n: number): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) % n;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < stopAt) {
      const from = random(accounts);
      const to = (from + 1 + random(accounts - 1)) % accounts;
      const t0 = performance.now();
      const r = await call('POST', '/transfers', {
        from: `${prefix}${from}`,
        to: `${prefix}${to}`,
        amount: String(1 + random(500)),
      });
      latencies.push(performance.now() - t0);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (p: number): string =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(2);
console.log(
  `${latencies.length.toLocaleString('en-US')} transfer requests in ${seconds.toFixed(1)} s: ${Math.round(latencies.length / seconds).toLocaleString('en-US')}/s, ` +
    `latency p50 ${at(50)} ms, p99 ${at(99)} ms, p99.9 ${at(99.9)} ms; answers ${JSON.stringify(Object.fromEntries(statuses))}`,
);
let total = 0n;
for (let i = 0; i < accounts; i++)
  total += BigInt((await call('GET', `/accounts/${prefix}${i}`)).json.balance as string);
console.log(
  total === BigInt(accounts) * 100000n ? `money check: ok (${total} cents)` : `money check FAILED: ${total} cents`,
);
if (total !== BigInt(accounts) * 100000n) process.exitCode = 1;
