/**
 * Reopening with a table definition that differs from the stored one is
 * refused (TM_INVALID_SCHEMA) with what differs; two definitions of one
 * name in options.tables are refused as that, not as a difference from the
 * database.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, type TableDef } from '../src/index.js';
import { rejectsWith, tempDirs } from './helpers/dirs.js';

const accounts: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'owner', type: 'string' },
    { name: 'balance', type: 'int64', default: 0n },
    { name: 'note', type: 'string', nullable: true },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byOwner', columns: ['owner'], kind: 'hash' }],
};

const dirs = tempDirs('tidemark-schema-reopen-');
test.after(() => dirs.cleanup());

const changed = (patch: (def: TableDef) => TableDef): TableDef => patch(structuredClone(accounts));

test('a changed definition: the message says what differs', async () => {
  const dir = dirs.make();
  await (await open({ dir, tables: [accounts] })).close();
  const cases: Array<[TableDef, RegExp[]]> = [
    [
      changed((d) => ({ ...d, columns: [...d.columns, { name: 'email', type: 'string', nullable: true }] })),
      [/column "email" \(string\) is given but not in the database/],
    ],
    [
      changed((d) => ({ ...d, columns: d.columns.filter((c) => c.name !== 'note') })),
      [/column "note" \(string\) is in the database but not given/],
    ],
    [
      changed((d) => ({
        ...d,
        columns: d.columns.map((c) => (c.name === 'balance' ? { ...c, type: 'int32', default: 0 } : c)),
      })),
      [/column "balance" is int64 in the database, int32 given/],
    ],
    [
      changed((d) => ({ ...d, columns: d.columns.map((c) => (c.name === 'note' ? { ...c, nullable: false } : c)) })),
      [/column "note" is nullable in the database, not nullable given/],
    ],
    [
      changed((d) => ({ ...d, columns: d.columns.map((c) => (c.name === 'balance' ? { ...c, default: 5n } : c)) })),
      [/column "balance" has default 0n in the database, default 5n given/],
    ],
    [
      changed((d) => ({ ...d, primaryKey: ['id', 'owner'] })),
      [/the primary key is \(id\) in the database, \(id, owner\) given/],
    ],
    [changed((d) => ({ ...d, indexes: [] })), [/index "byOwner" \(hash on owner\) is in the database but not given/]],
    [
      changed((d) => ({
        ...d,
        indexes: [...d.indexes!, { name: 'byBalance', columns: ['balance'], kind: 'ordered' }],
      })),
      [/index "byBalance" \(ordered on balance\) is given but not in the database/],
    ],
    [
      changed((d) => ({ ...d, indexes: [{ name: 'byOwner', columns: ['owner'], kind: 'ordered', unique: true }] })),
      [/index "byOwner" is hash on owner in the database, unique ordered on owner given/],
    ],
    [
      changed((d) => ({
        ...d,
        columns: [...d.columns.filter((c) => c.name !== 'note'), { name: 'email', type: 'string' }],
        indexes: [],
      })),
      [
        /column "email" \(string\) is given/,
        /column "note" \(string\) is in the database but not given/,
        /index "byOwner"/,
      ],
    ],
  ];
  for (const [definition, patterns] of cases) {
    const error = await rejectsWith(() => open({ dir, tables: [definition] }), 'TM_INVALID_SCHEMA');
    assert.match(error.message, /^table "accounts" exists in the database with a different definition: /);
    for (const pattern of patterns) assert.match(error.message, pattern);
  }
  const same = await open({ dir, tables: [accounts] });
  await same.close();
  // The order of the columns is no difference: rows are read by name, and added columns go last.
  const reordered = changed((d) => ({ ...d, columns: [d.columns[1]!, d.columns[0]!, d.columns[2]!, d.columns[3]!] }));
  await (await open({ dir, tables: [reordered] })).close();
});

test('two definitions of one name in options.tables: their own message, in memory or not', async () => {
  for (const dir of [undefined, dirs.make()]) {
    const error = await rejectsWith(
      () =>
        open({
          ...(dir === undefined ? {} : { dir }),
          tables: [accounts, { ...accounts, columns: accounts.columns.slice(0, 2) }],
        }),
      'TM_INVALID_SCHEMA',
    );
    assert.is(
      error.message,
      'options.tables holds two definitions of table "accounts" (options.tables[0] and options.tables[1]); give each table once',
    );
    assert.not.match(error.message, /in the database/);
  }
});

test.run();
