/**
 * The demo's service: a bank of accounts and the transfers between them.
 * A transfer is one transaction that moves `amount` from one account to
 * another and records itself in `transfers` under its id, so after a crash
 * the demo can check, by id, that every transfer it was told is durable is
 * there, and that money was neither created nor lost.
 */
import type { Database, OpenOptions, TableDef } from '@tidemark/core';
import { prng } from '../data.js';

export const ACCOUNTS_TABLE: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'owner', type: 'string' },
    { name: 'balance', type: 'int64' },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byOwner', columns: ['owner'], kind: 'hash', unique: true }],
};

export const TRANSFERS_TABLE: TableDef = {
  name: 'transfers',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'from', type: 'int32' },
    { name: 'to', type: 'int32' },
    { name: 'amount', type: 'int64' },
  ],
  primaryKey: ['id'],
};

export const ACCOUNTS = 10_000;
export const OPENING_BALANCE = 1_000n;
export const TOTAL_MONEY = BigInt(ACCOUNTS) * OPENING_BALANCE;

/** Small files, so that a few seconds of transfers close pairs, checkpoint and merge. */
export const DEMO_OPTIONS: OpenOptions = {
  dataFileSizeBytes: 2 * 1024 * 1024,
  checkpointWalBytes: 8 * 1024 * 1024,
  walSegmentBytes: 8 * 1024 * 1024,
  tables: [ACCOUNTS_TABLE, TRANSFERS_TABLE],
};

export function seedAccounts(db: Database): void {
  db.transactionSync((tx) => {
    for (let id = 0; id < ACCOUNTS; id++) tx.insert('accounts', { id, owner: `owner-${id}`, balance: OPENING_BALANCE });
  });
}

/** A generator of transfers: random distinct accounts, an amount of 1..50. */
export function transferPicker(seed: number): () => { from: number; to: number; amount: bigint } {
  const next = prng(seed);
  return () => {
    const from = next() % ACCOUNTS;
    let to = next() % ACCOUNTS;
    if (to === from) to = (to + 1) % ACCOUNTS;
    return { from, to, amount: BigInt(1 + (next() % 50)) };
  };
}

/**
 * Transfer `id`: resolves once durable (fdatasync'd) with true, or false if
 * the payer could not afford it (nothing is written then).
 *
 * The transaction is synchronous (transactionSync): it reads and commits in
 * one turn, so no other transfer can commit in between and it never meets a
 * conflict, however many are in flight. Then it waits for the log to make
 * it durable (flush: every commit so far), sharing the fdatasync with the
 * transfers committed meanwhile.
 */
export async function transfer(
  db: Database,
  id: number,
  t: { from: number; to: number; amount: bigint },
): Promise<boolean> {
  const done = db.transactionSync((tx) => {
    const from = tx.get('accounts', t.from, { columns: ['balance'] })!;
    if ((from.balance as bigint) < t.amount) return false;
    const to = tx.get('accounts', t.to, { columns: ['balance'] })!;
    tx.update('accounts', t.from, { balance: (from.balance as bigint) - t.amount });
    tx.update('accounts', t.to, { balance: (to.balance as bigint) + t.amount });
    tx.insert('transfers', { id, from: t.from, to: t.to, amount: t.amount });
    return true;
  });
  if (done) await db.flush();
  return done;
}

/** Total money over every account (must stay TOTAL_MONEY). */
export function totalMoney(db: Database): bigint {
  return db
    .table('accounts')
    .scan({ columns: ['balance'] })
    .reduce((sum, r) => sum + (r.balance as bigint), 0n);
}

/** Runs transfers with `inFlight` at once until `stop()` says so; `onDurable(id)` hears every one made durable. */
export async function runTransfers(
  db: Database,
  options: { firstId: number; inFlight: number; seed: number; stop: () => boolean; onDurable: (id: number) => void },
): Promise<number> {
  const pick = transferPicker(options.seed);
  let nextId = options.firstId;
  const lane = async (): Promise<void> => {
    while (!options.stop()) {
      const id = nextId++;
      if (await transfer(db, id, pick())) options.onDurable(id);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, lane));
  return nextId;
}
