/**
 * One node of the checker's cluster, in a process of its own so that the
 * nemesis can SIGKILL, SIGSTOP and restart it: joinCluster() with the
 * options in argv (JSON), answering the harness's requests over IPC.
 *
 *   { id, op: 'setup', accounts }               tables, and `accounts` accounts of 100 (primary only)
 *   { id, op: 'transfer', tid, from, to, amount } one transaction: both balances and a log row, replicated
 *   { id, op: 'insert', tid }                    a log row alone, replicated
 *   { id, op: 'read', tid, token }               waitFor(token), then whether the log row is there
 *   { id, op: 'role' }                           role, and the epoch it writes in (0: not the primary)
 *   { id, op: 'promote' }                        promote()
 *   { id, op: 'state' }                          role, epoch, commitTs and the content (rows, balances)
 *
 * Each answer is { id, ok: true, ... } or { id, ok: false, code, message }.
 */
import type { TableDef } from '@tidemark/core';
import { joinCluster } from '../../src/index.js';

const ACCOUNTS: TableDef = {
  name: 'accounts',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'balance', type: 'int32' },
  ],
};
const LOG: TableDef = {
  name: 'log',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: 'string' },
    { name: 'kind', type: 'string' },
  ],
};

type Request = { id: number; op: string; [key: string]: unknown };

/** Joins, trying again while the cluster is away (a supervisor would restart the process). */
async function join() {
  for (;;) {
    try {
      return await joinCluster(JSON.parse(process.argv[2]!));
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const member = await join();

function epoch(): number {
  return member.role === 'primary' ? (member.primary()?.epoch ?? 0) : 0;
}

async function handle(r: Request): Promise<Record<string, unknown>> {
  const db = member.db;
  switch (r.op) {
    case 'setup': {
      if (member.role !== 'primary') throw Object.assign(new Error('not the primary'), { code: 'NOT_PRIMARY' });
      db.createTable(ACCOUNTS);
      db.createTable(LOG);
      const tx = db.begin({ durability: 'replicated' });
      for (let i = 0; i < (r.accounts as number); i++) tx.insert('accounts', { id: i, balance: 100 });
      return { token: await tx.commit(), epoch: epoch() };
    }
    case 'transfer': {
      const before = epoch();
      const tx = db.begin({ durability: 'replicated' });
      const from = tx.get('accounts', r.from as number) as { balance: number };
      const to = tx.get('accounts', r.to as number) as { balance: number };
      tx.update('accounts', r.from as number, { balance: from.balance - (r.amount as number) });
      tx.update('accounts', r.to as number, { balance: to.balance + (r.amount as number) });
      tx.insert('log', { id: r.tid as string, kind: 'transfer' });
      const token = await tx.commit();
      return { token, epoch: before };
    }
    case 'insert': {
      const before = epoch();
      const token = await db.table('log').insert({ id: r.tid as string, kind: 'insert' }, { durability: 'replicated' });
      return { token, epoch: before };
    }
    case 'read': {
      await member.waitFor(r.token as number, { timeoutMs: 5_000 });
      return { found: member.db.table('log').get(r.tid as string) !== undefined };
    }
    case 'role':
      return { role: member.role, epoch: epoch(), stats: member.stats() };
    case 'promote':
      await member.promote();
      return { epoch: epoch() };
    case 'state': {
      const hasTables = db.tableNames().includes('log');
      return {
        role: member.role,
        epoch: member.primary()?.epoch ?? 0,
        node: member.stats().node,
        log: hasTables
          ? db
              .table('log')
              .scan()
              .map((row) => row.id)
          : [],
        balances: hasTables
          ? db
              .table('accounts')
              .scan()
              .map((row) => row.balance)
          : [],
      };
    }
  }
  throw new Error(`unknown op ${r.op}`);
}

// The harness gone (killed, timed out), this node goes too: no process is left behind.
process.on('disconnect', () => process.exit(0));
process.on('message', (r: Request) => {
  handle(r).then(
    (result) => process.send!({ id: r.id, ok: true, ...result }),
    (error: { code?: string; message?: string }) =>
      process.send!({ id: r.id, ok: false, code: error.code ?? 'ERROR', message: error.message }),
  );
});
process.send!({ id: 0, ok: true, ready: true });
