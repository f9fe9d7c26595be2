/**
 * Type tests of typed tables (schema/row_types.ts): compiled, never run, by
 * `tsc -p packages/core/test/types` (strict; typed_tables.test.ts runs it,
 * and the root typecheck includes this file). A line that compiles is a
 * positive assertion; each `@ts-expect-error` must stay an error, or tsc
 * fails with "Unused '@ts-expect-error' directive".
 */
import {
  open,
  tableDef,
  type Database,
  type InsertRowOf,
  type JsonValue,
  type PrimaryKeyOf,
  type Row,
  type RowOf,
  type Table,
  type TableDef,
  type Transaction,
  type TypesOf,
} from '../../src/index.js';

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

const accounts = tableDef({
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int64' },
    { name: 'email', type: 'string' },
    { name: 'nickname', type: 'string', nullable: true },
    { name: 'balance', type: 'int64', default: 0n },
    { name: 'score', type: 'float64', default: 0 },
    { name: 'visits', type: 'int32' },
    { name: 'active', type: 'boolean', default: true },
    { name: 'avatar', type: 'bytes', nullable: true },
    { name: 'prefs', type: 'json' },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byEmail', columns: ['email'], unique: true }],
});

const follows = tableDef({
  name: 'follows',
  columns: [
    { name: 'from', type: 'int64' },
    { name: 'to', type: 'int64' },
    { name: 'since', type: 'int32' },
  ],
  primaryKey: ['from', 'to'],
});

// The inferred types, whole.
expectType<
  Equal<
    RowOf<typeof accounts>,
    {
      id: bigint;
      email: string;
      nickname: string | null;
      balance: bigint;
      score: number;
      visits: number;
      active: boolean;
      avatar: Uint8Array | null;
      prefs: Exclude<JsonValue, null>;
    }
  >
>(true);
expectType<
  Equal<
    InsertRowOf<typeof accounts>,
    {
      id: bigint;
      email: string;
      visits: number;
      prefs: Exclude<JsonValue, null>;
      nickname?: string | null;
      balance?: bigint;
      score?: number;
      active?: boolean;
      avatar?: Uint8Array | null;
    }
  >
>(true);
expectType<
  Equal<PrimaryKeyOf<typeof follows>, readonly [bigint, bigint] | { readonly from: bigint; readonly to: bigint }>
>(true);
// A typed definition is still a TableDef.
const plain: TableDef = accounts;

export async function typedDatabase(): Promise<void> {
  const db = await open({ tables: [accounts, follows] });
  const users = db.table('accounts');
  expectType<Equal<typeof users, Table<TypesOf<typeof accounts>>>>(true);

  // Reads.
  const user = users.get(1n);
  if (user !== undefined) {
    const email: string = user.email;
    const balance: bigint = user.balance;
    const nickname: string | null = user.nickname;
    // @ts-expect-error a nullable column is not a string
    const nick: string = user.nickname;
    // @ts-expect-error no such column
    user.emial;
    // @ts-expect-error int64 reads as bigint
    const n: number = user.id;
    void [email, balance, nickname, nick, n];
  }
  const some = users.get(1n, { columns: ['email', 'balance'] });
  expectType<Equal<typeof some, { email: string; balance: bigint } | undefined>>(true);
  // @ts-expect-error only the columns asked for
  users.get(1n, { columns: ['email'] })?.balance;
  // @ts-expect-error no such column to ask for
  users.get(1n, { columns: ['emial'] });
  // @ts-expect-error the key is a bigint
  users.get('1');
  users.get([1n]);
  users.get({ id: 1n });
  const byEmail: string[] = users.find('byEmail', 'ada@example.com').map((r) => r.email);
  const ids: bigint[] = users.scan().map((r) => r.id);
  for (const row of users.iterate({ columns: ['visits'] })) {
    const visits: number = row.visits;
    // @ts-expect-error only the columns asked for
    row.email;
    void visits;
  }
  const count: number = users.count({ columns: ['id'] });
  void [byEmail, ids, count];

  // Writes.
  await users.insert({ id: 1n, email: 'ada@example.com', visits: 0, prefs: { theme: 'dark' } });
  await users.insert({ id: 2n, email: 'bob@example.com', visits: 0, prefs: [1, 'two'], nickname: null, balance: 5n });
  // @ts-expect-error a required column is missing (visits)
  await users.insert({ id: 3n, email: 'cy@example.com', prefs: {} });
  // @ts-expect-error a wrong column name
  await users.insert({ id: 3n, email: 'cy@example.com', visits: 0, prefs: {}, nickame: 'cy' });
  // @ts-expect-error a wrong value type (int64 takes a bigint)
  await users.insert({ id: 3, email: 'cy@example.com', visits: 0, prefs: {} });
  // @ts-expect-error a non-nullable column takes no null
  await users.upsert({ id: 3n, email: null, visits: 0, prefs: {} });
  // @ts-expect-error a non-nullable json column takes no null
  await users.upsert({ id: 3n, email: 'cy@example.com', visits: 0, prefs: null });
  await users.update(1n, { balance: 10n, nickname: null });
  // @ts-expect-error a wrong value type in a patch
  await users.update(1n, { balance: 10 });
  // @ts-expect-error a wrong column name in a patch
  await users.update(1n, { balanse: 10n });
  await users.delete(1n);
  // @ts-expect-error the key is a bigint
  await users.delete(1);

  // A composite key: an array in key order, or an object.
  const edges = db.table('follows');
  edges.get([1n, 2n]);
  edges.get({ from: 1n, to: 2n });
  // @ts-expect-error one value of two
  edges.get([1n]);
  // @ts-expect-error a bare value names a one-column key only
  edges.get(1n);

  // @ts-expect-error no such table
  db.table('acounts');

  // Transactions, by name or by handle.
  await db.transaction((tx) => {
    const from = tx.get('accounts', 1n)!;
    const to = tx.get(users, 2n)!;
    tx.update('accounts', 1n, { balance: from.balance - 10n });
    tx.update(users, 2n, { balance: to.balance + 10n });
    tx.insert('follows', { from: 1n, to: 2n, since: 2024 });
    const since: number[] = tx.scan('follows').map((r) => r.since);
    const emails = tx.get('accounts', 1n, { columns: ['email'] });
    expectType<Equal<typeof emails, { email: string } | undefined>>(true);
    // @ts-expect-error no such table
    tx.get('acounts', 1n);
    // @ts-expect-error a wrong value type in a patch
    tx.update('accounts', 1n, { balance: 'ten' });
    // @ts-expect-error a wrong column name in a patch
    tx.update('accounts', 1n, { balanse: 1n });
    // @ts-expect-error a missing required column
    tx.insert('follows', { from: 1n, to: 2n });
    // @ts-expect-error the key of follows is two values
    tx.delete('follows', 1n);
    // @ts-expect-error a nullable column is not a string
    const nickname: string = from.nickname;
    void [since, nickname];
  });
  const tx = db.begin();
  const row = tx.get('follows', { from: 1n, to: 2n });
  const since: number | undefined = row?.since;
  tx.abort();
  void since;

  // A typed database and its handles still go where untyped ones do.
  const untyped: Database = db;
  const handle: Table = users;
  const txUntyped: Transaction = db.begin();
  void [untyped, handle, txUntyped];

  // createTable of a typed definition gives a typed handle.
  const other = db.createTable(
    tableDef({ name: 'tags', columns: [{ name: 'tag', type: 'string' }], primaryKey: ['tag'] }),
  );
  const tag: string | undefined = other.get('x')?.tag;
  void tag;
  await db.close();
}

export async function untypedDatabase(tables: TableDef[]): Promise<void> {
  // Plain definitions, inline or not, and a mix with typed ones: untyped, as before.
  const db = await open({ tables });
  const row = db.table('anything').get(1);
  expectType<Equal<typeof row, Row | undefined>>(true);
  const mixed = await open({ tables: [accounts, plain, ...tables] });
  expectType<Equal<typeof mixed, Database>>(true);
  const inline = await open({
    tables: [{ name: 'kv', columns: [{ name: 'k', type: 'string' }], primaryKey: ['k'] }],
  });
  expectType<Equal<typeof inline, Database>>(true);
  await inline.table('kv').insert({ k: 1, anything: 'goes' });
  const memory = await open();
  expectType<Equal<typeof memory, Database>>(true);
  db.transactionSync((tx) => {
    const value: unknown = tx.get('anything', 1)?.value;
    tx.update({ name: 'anything' }, 1, { value: 2 });
    void value;
  });
  // Asking for columns by literal names narrows an untyped row too; it is still a Row.
  const some = db.table('t').get(1, { columns: ['a'] });
  expectType<Equal<typeof some, { a: unknown } | undefined>>(true);
  const asRow: Row | undefined = some;
  const columns: string[] = ['a'];
  const any = db.table('t').get(1, { columns });
  expectType<Equal<typeof any, Row | undefined>>(true);
  void asRow;
}

// tableDef() checks what it can see.
tableDef({
  name: 'bad',
  columns: [{ name: 'id', type: 'int32' }],
  // @ts-expect-error the primary key names no column
  primaryKey: ['idd'],
});
tableDef({
  name: 'bad',
  columns: [{ name: 'id', type: 'int32' }],
  primaryKey: ['id'],
  // @ts-expect-error an index names no column
  indexes: [{ name: 'x', columns: ['nope'] }],
});
tableDef({
  name: 'bad',
  // @ts-expect-error a default of the wrong type
  columns: [{ name: 'id', type: 'int64', default: 0 }],
  primaryKey: ['id'],
});
tableDef({
  name: 'bad',
  // @ts-expect-error no such column type
  columns: [{ name: 'id', type: 'int16' }],
  primaryKey: ['id'],
});

/** The README's "Typed tables" example, as written there, and what its comments claim. */
export async function readmeExample(): Promise<void> {
  const users = tableDef({
    name: 'users',
    columns: [
      { name: 'id', type: 'int64' },
      { name: 'email', type: 'string' },
      { name: 'nickname', type: 'string', nullable: true },
      { name: 'visits', type: 'int32', default: 0 },
    ],
    primaryKey: ['id'],
  });

  const db = await open({ tables: [users] });
  const table = db.table('users');
  // @ts-expect-error an unknown table name
  db.table('usres');
  await table.insert({ id: 1n, email: 'ada@example.com' });
  const ada: RowOf<typeof users> | undefined = table.get(1n);
  const email: string = ada!.email;
  const nickname: string | null = ada!.nickname;
  await db.transaction((tx) => {
    const row = tx.get('users', 1n)!;
    const visits: number = row.visits;
    tx.update('users', 1n, { visits: visits + 1 });
  });
  const visits = table.get(1n, { columns: ['visits'] });
  expectType<Equal<typeof visits, { visits: number } | undefined>>(true);
  void [email, nickname];
  await db.close();
}
