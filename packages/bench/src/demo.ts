/**
 * The README's main job: a short tour of the engine that prints what it did.
 * It creates tables, commits transfers between accounts (autocommit calls,
 * synchronous and interactive transactions, a conflict and its retry),
 * reads by key, by secondary index and by range, and checks that money was
 * neither created nor lost. Later releases grow it into the full
 * commit → checkpoint → merge → kill → recover demonstration.
 */
import { open, type Database } from '@tidemark/core';

const ACCOUNTS = 10_000;
const TRANSFERS = 100_000;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function setUp(): Promise<Database> {
  const db = await open({
    tables: [
      {
        name: 'accounts',
        columns: [
          { name: 'id', type: 'int32' },
          { name: 'owner', type: 'string' },
          { name: 'balance', type: 'int64' },
          { name: 'tier', type: 'string', default: 'basic' },
        ],
        primaryKey: ['id'],
        indexes: [
          { name: 'byOwner', columns: ['owner'], kind: 'hash', unique: true },
          { name: 'byBalance', columns: ['balance'], kind: 'ordered' },
        ],
      },
    ],
  });
  const started = performance.now();
  db.transactionSync((tx) => {
    for (let id = 0; id < ACCOUNTS; id++) tx.insert('accounts', { id, owner: `owner-${id}`, balance: 1_000n });
  });
  say(`created table "accounts" and inserted ${ACCOUNTS.toLocaleString()} rows in one transaction (${(performance.now() - started).toFixed(1)} ms)`);
  return db;
}

/** Moves money between random accounts, one synchronous transaction each. */
function transfer(db: Database): void {
  let seed = 42;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed % n;
  };
  const started = performance.now();
  for (let i = 0; i < TRANSFERS; i++) {
    const from = random(ACCOUNTS);
    const to = random(ACCOUNTS);
    if (from === to) continue;
    db.transactionSync((tx) => {
      const a = tx.get('accounts', from, { columns: ['balance'] })!;
      const b = tx.get('accounts', to, { columns: ['balance'] })!;
      const amount = BigInt(random(50));
      if ((a.balance as bigint) < amount) return;
      tx.update('accounts', from, { balance: (a.balance as bigint) - amount });
      tx.update('accounts', to, { balance: (b.balance as bigint) + amount });
    });
  }
  const ms = performance.now() - started;
  say(`committed ${TRANSFERS.toLocaleString()} transfer transactions in ${ms.toFixed(0)} ms (${Math.round(TRANSFERS / (ms / 1000)).toLocaleString()} transactions/s)`);
}

/** Two transactions write the same row: the second to commit gets a conflict, and db.transaction() retries it. */
async function conflict(db: Database): Promise<void> {
  const first = db.begin();
  let attempts = 0;
  await db.transaction((tx) => {
    attempts++;
    const a = tx.get('accounts', 7)!;
    const b = tx.get('accounts', 8)!;
    tx.update('accounts', 7, { tier: 'gold', balance: (a.balance as bigint) - 1n });
    tx.update('accounts', 8, { balance: (b.balance as bigint) + 1n });
    if (attempts === 1) {
      first.update('accounts', 7, { tier: 'silver' });
      first.commitSync(); // commits first, so this attempt will conflict
    }
  });
  say(`a conflicting transaction was retried: ${attempts} attempts, account 7 is now ${JSON.stringify(db.table('accounts').get(7), big)}`);
}

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

function report(db: Database): void {
  const accounts = db.table('accounts');
  const richest = accounts.scan({ index: 'byBalance', reverse: true, limit: 3, columns: ['id', 'balance'] });
  say(`three richest (ordered index, reverse range scan): ${JSON.stringify(richest, big)}`);
  say(`lookup by unique hash index "byOwner" = "owner-42": ${JSON.stringify(accounts.find('byOwner', 'owner-42'), big)}`);
  const total = accounts.scan({ columns: ['balance'] }).reduce((sum, r) => sum + (r.balance as bigint), 0n);
  const stats = db.stats();
  const table = stats.tables[0]!;
  const expected = BigInt(ACCOUNTS) * 1_000n;
  say(`total money: ${total}, expected ${expected}: ${total === expected ? 'ok, nothing created or lost' : 'MISMATCH'}`);
  say(
    `stats: ${stats.commits.toLocaleString()} commits, ${stats.conflicts} conflict(s); ${table.rows.toLocaleString()} rows, ` +
      `${(table.bytesInUse / 1024 / 1024).toFixed(1)} MiB of versions (${(table.deadBytes / 1024 / 1024).toFixed(1)} MiB dead, reclaimed by the cleaner in a later release), ` +
      `${(table.indexBytes / 1024).toFixed(0)} KiB primary index`,
  );
  if (total !== expected) process.exitCode = 1;
}

async function main(): Promise<void> {
  say('Tidemark demo — in-memory engine (the write-ahead log and checkpoints arrive in the next releases)');
  const db = await setUp();
  transfer(db);
  await conflict(db);
  report(db);
  await db.close();
  say('closed.');
}

await main();
