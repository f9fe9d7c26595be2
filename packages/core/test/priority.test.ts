/**
 * Background threads lower their own priority, and only their own: the
 * process (the main thread, where commits run) keeps its nice value.
 */
import { Worker } from 'node:worker_threads';
import { getPriority } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BACKGROUND_NICE, lowerThreadPriority } from '../src/threads/priority.js';

test('a worker thread lowers its own priority; the main thread keeps its own', async () => {
  if (process.platform !== 'linux') {
    assert.is(lowerThreadPriority(), false);
    return;
  }
  const before = getPriority();
  // The worker runs the same steps as priority.ts (a plain script: it is not built through tsx).
  const code = `
    const { readlinkSync } = require('node:fs');
    const { getPriority, setPriority } = require('node:os');
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, ${BACKGROUND_NICE});
    require('node:worker_threads').parentPort.postMessage({ tid, nice: getPriority(tid) });`;
  const worker = new Worker(code, { eval: true });
  const seen = await new Promise<{ tid: number; nice: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.is(seen.nice, Math.max(before, BACKGROUND_NICE));
  assert.ok(seen.tid !== process.pid);
  assert.is(getPriority(), before, 'the main thread is untouched');
});

test('lowerThreadPriority on the main thread of a child process reports success and changes that thread', async () => {
  if (process.platform !== 'linux') return;
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      '-e',
      `import('${new URL('../src/threads/priority.ts', import.meta.url).href}').then((m) => { const ok = m.lowerThreadPriority(); console.log(JSON.stringify({ ok, nice: require('node:os').getPriority() })); })`,
    ],
    { encoding: 'utf8' },
  );
  const result = JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; nice: number };
  assert.is(result.ok, true);
  assert.is(result.nice, BACKGROUND_NICE);
});

test.run();
