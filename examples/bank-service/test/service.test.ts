/**
 * The example service answers a scripted sequence of requests correctly:
 * accounts open (and a duplicate is refused), transfers move money and are
 * durable when answered, bad requests get a 4xx with a stable code and
 * change nothing, /stats and /metrics report, and after a restart on the
 * same directory every answered transfer is still there.
 */
import { open } from '@tidemark/core';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TABLES } from '../src/bank.js';
import { createBankServer } from '../src/server.js';

async function withService<T>(
  dir: string,
  body: (
    // biome-ignore lint/suspicious/noExplicitAny: the service's JSON replies, read field by field by the assertions
    call: (method: string, path: string, json?: unknown) => Promise<{ status: number; body: any; text: string }>,
  ) => Promise<T>,
): Promise<T> {
  const db = await open({ dir, tables: TABLES });
  const { server } = createBankServer(db);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: json === undefined ? null : typeof json === 'string' ? json : JSON.stringify(json),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: res.status, body, text };
  };
  try {
    return await body(call);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  }
}

test('a scripted sequence of requests gets the right answers, and survives a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-bank-'));
  try {
    await withService(dir, async (call) => {
      assert.equal((await call('POST', '/accounts', { id: 'alice', owner: 'Alice', balance: '10000' })).status, 201);
      assert.equal((await call('POST', '/accounts', { id: 'bob', owner: 'Bob', balance: 500 })).status, 201);
      const dup = await call('POST', '/accounts', { id: 'bob', owner: 'Bobby', balance: '1' });
      assert.equal([dup.status, dup.body.code], [409, 'ACCOUNT_EXISTS']);
      const t1 = await call('POST', '/transfers', { from: 'alice', to: 'bob', amount: '2500' });
      assert.equal([t1.status, t1.body.from, t1.body.to, t1.body.amount], [201, 'alice', 'bob', '2500']);
      const t2 = await call('POST', '/transfers', { from: 'bob', to: 'alice', amount: 1000 });
      assert.is(t2.status, 201);
      const overdraft = await call('POST', '/transfers', { from: 'bob', to: 'alice', amount: '1000000' });
      assert.equal([overdraft.status, overdraft.body.code], [409, 'INSUFFICIENT_FUNDS']);
      assert.equal(
        (await call('POST', '/transfers', { from: 'alice', to: 'nobody', amount: '1' })).body.code,
        'NO_ACCOUNT',
      );
      assert.equal(
        (await call('POST', '/transfers', { from: 'alice', to: 'bob', amount: '-5' })).body.code,
        'BAD_AMOUNT',
      );
      assert.equal(
        (await call('POST', '/transfers', { from: 'alice', to: 'alice', amount: '5' })).body.code,
        'SAME_ACCOUNT',
      );
      assert.equal((await call('POST', '/transfers', '{not json')).body.code, 'BAD_JSON');
      assert.equal(
        (await call('POST', '/transfers', { from: 'alice', to: 'bob', amount: 1.5 })).body.code,
        'BAD_FIELD',
      );
      assert.equal((await call('GET', '/nowhere')).status, 404);
      const huge = await call(
        'POST',
        '/transfers',
        JSON.stringify({ from: 'alice', to: 'bob', amount: '1', pad: 'x'.repeat(100_000) }),
      );
      assert.equal([huge.status, huge.body.code], [413, 'BODY_TOO_LARGE']);
      assert.equal((await call('GET', '/accounts/alice')).body, { id: 'alice', owner: 'Alice', balance: '8500' });
      assert.equal((await call('GET', '/accounts/bob')).body, { id: 'bob', owner: 'Bob', balance: '2000' });
      assert.equal((await call('GET', '/accounts/carol')).status, 404);
      const stats = await call('GET', '/stats');
      assert.is(stats.status, 200);
      assert.equal(
        stats.body.tables.map((t: { name: string; rows: number }) => [t.name, t.rows]),
        [
          ['accounts', 2],
          ['transfers', 2],
        ],
      );
      assert.is(stats.body.durability.lagTs, 0, 'answered transfers are durable');
      assert.is(stats.body.durability.waiting, 0);
      const metrics = await call('GET', '/metrics');
      assert.is(metrics.status, 200);
      assert.match(metrics.text, /^tidemark_table_rows\{table="transfers"\} 2$/m);
      assert.match(metrics.text, /^tidemark_commits_total \d+$/m);
    });
    await withService(dir, async (call) => {
      assert.equal((await call('GET', '/accounts/alice')).body.balance, '8500', 'the balance after a restart');
      const t3 = await call('POST', '/transfers', { from: 'alice', to: 'bob', amount: '1' });
      assert.is(t3.body.id, '3', 'transfer ids continue after the recovered ones');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
