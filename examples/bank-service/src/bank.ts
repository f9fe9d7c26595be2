/**
 * The service's data and rules, over one Tidemark database: accounts with a
 * balance in cents (int64), and transfers between them, each recorded. A
 * transfer is one transaction read and committed in one turn (so
 * concurrent requests never conflict) that refuses an overdraft; it
 * resolves once durable (its commit shares the fdatasync with every
 * transfer committed meanwhile), or, on a cluster node, once replicated.
 */
import { isTidemarkError, ErrorCode, type Database, type TableDef } from '@tidemark/core';

export const TABLES: TableDef[] = [
  {
    name: 'accounts',
    columns: [
      { name: 'id', type: 'string' },
      { name: 'owner', type: 'string' },
      { name: 'balance', type: 'int64' },
    ],
    primaryKey: ['id'],
    indexes: [{ name: 'byOwner', columns: ['owner'], kind: 'hash' }],
  },
  {
    name: 'transfers',
    columns: [
      { name: 'id', type: 'int64' },
      { name: 'from', type: 'string' },
      { name: 'to', type: 'string' },
      { name: 'amount', type: 'int64' },
      { name: 'at', type: 'float64' },
    ],
    primaryKey: ['id'],
  },
];

/** A refusal the API turns into a 4xx answer: a stable code and a message. */
export class BankError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Account {
  id: string;
  owner: string;
  balance: bigint;
}

export class Bank {
  #nextTransfer: bigint;

  /**
   * `replicated`: each write answers once the cluster's stream holds it too
   * (a node of `joinCluster`, see cluster.ts), not only the local disk.
   */
  constructor(
    readonly db: Database,
    private readonly durability: 'durable' | 'replicated' = 'durable',
  ) {
    // Transfer ids continue after the largest one recovered.
    let max = 0n;
    for (const t of db.table('transfers').scan({ columns: ['id'] })) if ((t.id as bigint) > max) max = t.id as bigint;
    this.#nextTransfer = max + 1n;
  }

  async open(account: Account): Promise<Account> {
    if (account.balance < 0n) throw new BankError(400, 'NEGATIVE_BALANCE', 'an opening balance cannot be negative');
    try {
      await this.db.table('accounts').insert({ ...account }, { durability: this.durability });
    } catch (error) {
      if (isTidemarkError(error, ErrorCode.DUPLICATE_KEY))
        throw new BankError(409, 'ACCOUNT_EXISTS', `account ${account.id} exists`);
      throw error;
    }
    return account;
  }

  account(id: string): Account | undefined {
    return this.db.table('accounts').get(id) as Account | undefined;
  }

  /** Moves `amount` cents; resolves with the transfer once it is durable. */
  async transfer(
    from: string,
    to: string,
    amount: bigint,
  ): Promise<{ id: bigint; from: string; to: string; amount: bigint }> {
    if (amount <= 0n) throw new BankError(400, 'BAD_AMOUNT', 'the amount must be a positive number of cents');
    if (from === to) throw new BankError(400, 'SAME_ACCOUNT', 'cannot transfer to the same account');
    const id = this.#nextTransfer++;
    // Read and commit in one turn, so concurrent requests never conflict; then wait until durable (or replicated).
    const tx = this.db.begin({ durability: this.durability });
    try {
      const a = tx.get('accounts', from, { columns: ['balance'] });
      const b = tx.get('accounts', to, { columns: ['balance'] });
      if (a === undefined || b === undefined)
        throw new BankError(404, 'NO_ACCOUNT', `no account ${a === undefined ? from : to}`);
      if ((a.balance as bigint) < amount)
        throw new BankError(409, 'INSUFFICIENT_FUNDS', `account ${from} holds ${a.balance} cents, less than ${amount}`);
      tx.update('accounts', from, { balance: (a.balance as bigint) - amount });
      tx.update('accounts', to, { balance: (b.balance as bigint) + amount });
      tx.insert('transfers', { id, from, to, amount, at: Date.now() });
    } catch (error) {
      tx.abort();
      throw error;
    }
    await tx.commit();
    return { id, from, to, amount };
  }
}
