// defineTable: what a valid definition resolves to, and every INVALID_SCHEMA
// case, by code and by the name of the bad thing in the message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { defineTable } from '../src/schema/schema.js';
import type { ColumnDef, TableDef } from '../src/schema/types.js';
import { ErrorCode, TidemarkError } from '../src/errors.js';
import { MAX_COLUMNS } from '../src/constants.js';

const base = (): TableDef => ({
  name: 'users',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'email', type: 'string' },
    { name: 'age', type: 'int32', nullable: true },
    { name: 'meta', type: 'json', nullable: true },
  ],
  primaryKey: ['id'],
});

function invalid(def: unknown, ...mentions: string[]): void {
  try {
    defineTable(def as TableDef);
  } catch (error) {
    assert.instance(error, TidemarkError);
    const e = error as TidemarkError;
    assert.is(e.code, ErrorCode.INVALID_SCHEMA, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" should mention ${m}`);
    return;
  }
  assert.unreachable(
    `expected INVALID_SCHEMA for ${JSON.stringify(def, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`,
  );
}

const withColumns = (...extra: ColumnDef[]): TableDef => ({ ...base(), columns: [...base().columns, ...extra] });

test('resolves a valid definition with its defaults, frozen', () => {
  const schema = defineTable({
    ...base(),
    indexes: [
      { name: 'by_email', columns: ['email'], unique: true },
      { name: 'by_age', columns: ['age', 'id'], kind: 'ordered' },
    ],
  });
  assert.is(schema.name, 'users');
  assert.is(schema.durability, 'durable');
  assert.equal(schema.primaryKey, [0]);
  assert.equal(
    schema.columns.map((c) => [c.name, c.index, c.type, c.nullable, c.fixedBytes, c.hasDefault]),
    [
      ['id', 0, 'int32', false, 4, false],
      ['email', 1, 'string', false, 0, false],
      ['age', 2, 'int32', true, 4, false],
      ['meta', 3, 'json', true, 0, false],
    ],
  );
  assert.equal(schema.indexes, [
    { name: 'by_email', index: 0, kind: 'hash', unique: true, columns: [1] },
    { name: 'by_age', index: 1, kind: 'ordered', unique: false, columns: [2, 0] },
  ]);
  assert.is(schema.columnsByName.get('age'), schema.columns[2]);
  for (const frozen of [
    schema,
    schema.columns,
    schema.columns[0],
    schema.primaryKey,
    schema.indexes,
    schema.indexes[1],
    schema.indexes[1]!.columns,
  ]) {
    assert.ok(Object.isFrozen(frozen));
  }
});

test('fixedBytes per type', () => {
  const types = ['int32', 'int64', 'float64', 'boolean', 'string', 'bytes', 'json'] as const;
  const schema = defineTable({
    name: 't',
    columns: types.map((type, i) => ({ name: `c${i}`, type })),
    primaryKey: ['c0'],
  });
  assert.equal(
    schema.columns.map((c) => c.fixedBytes),
    [4, 8, 8, 1, 0, 0, 0],
  );
});

test('names: any characters, at most 128', () => {
  assert.is(defineTable({ ...base(), name: 'имя 🙂 "x"' }).name, 'имя 🙂 "x"');
  assert.is(defineTable({ ...base(), name: 'n'.repeat(128) }).name.length, 128);
  invalid({ ...base(), name: 'n'.repeat(129) }, 'table name', '128');
  invalid({ ...base(), name: '' }, 'table name');
  invalid({ ...base(), name: 3 }, 'table name');
  invalid(withColumns({ name: 'c'.repeat(129), type: 'int32' }), 'column 4', '128');
});

test('the definition and its lists must have the right shape', () => {
  for (const def of [null, undefined, [], 'users', 3]) invalid(def, 'object');
  invalid({ ...base(), columns: [] }, '"users"', 'columns');
  invalid({ ...base(), columns: 'id' }, '"users"', 'columns');
  const many = Array.from({ length: MAX_COLUMNS + 1 }, (_, i): ColumnDef => ({ name: `c${i}`, type: 'int32' }));
  invalid({ ...base(), columns: many }, `${MAX_COLUMNS}`);
  assert.is(
    defineTable({ ...base(), columns: many.slice(0, MAX_COLUMNS), primaryKey: ['c0'] }).columns.length,
    MAX_COLUMNS,
  );
  invalid({ ...base(), indexes: {} }, 'indexes');
  invalid({ ...base(), durability: 'eventual' }, 'durability');
  assert.is(defineTable({ ...base(), durability: 'schemaOnly' }).durability, 'schemaOnly');
});

test('columns: names, types, nullable', () => {
  invalid(withColumns(null as unknown as ColumnDef), 'column 4');
  invalid(withColumns({ name: '', type: 'int32' }), 'column 4');
  invalid(withColumns({ name: 'email', type: 'int32' }), '"email"', 'twice');
  invalid(withColumns({ name: 'n', type: 'int' as 'int32' }), '"n"', 'type', 'int');
  invalid(withColumns({ name: 'n', type: 'int32', nullable: 'yes' as unknown as boolean }), '"n"', 'nullable');
  invalid(withColumns({ name: '__proto__', type: 'int32' }), '__proto__');
});

test('primary key: non-empty, distinct, known, non-nullable, not json, fits MAX_KEY_BYTES', () => {
  invalid({ ...base(), primaryKey: [] }, 'primaryKey');
  invalid({ ...base(), primaryKey: undefined }, 'primaryKey');
  invalid({ ...base(), primaryKey: ['nope'] }, 'primaryKey', '"nope"');
  invalid({ ...base(), primaryKey: [7] }, 'primaryKey', '7');
  invalid({ ...base(), primaryKey: ['id', 'id'] }, 'primaryKey', '"id"', 'twice');
  invalid({ ...base(), primaryKey: ['age'] }, 'primaryKey', '"age"', 'nullable');
});

test('primary key and index limits on json and size', () => {
  invalid({ ...withColumns({ name: 'j', type: 'json' }), primaryKey: ['j'] }, 'primaryKey', '"j"', 'json');
  const wide = Array.from({ length: 513 }, (_, i): ColumnDef => ({ name: `c${i}`, type: 'int64' }));
  invalid({ name: 'w', columns: wide, primaryKey: wide.map((c) => c.name) }, 'primaryKey', '4104');
  assert.ok(defineTable({ name: 'w', columns: wide, primaryKey: wide.slice(0, 512).map((c) => c.name) }));
});

test('indexes: names, columns, kind, unique', () => {
  const ix = (index: unknown): TableDef => ({ ...base(), indexes: [index as never] });
  invalid(ix(null), 'index 0');
  invalid(ix({ name: '', columns: ['email'] }), 'index 0');
  invalid(
    {
      ...base(),
      indexes: [
        { name: 'a', columns: ['email'] },
        { name: 'a', columns: ['age'] },
      ],
    },
    '"a"',
    'twice',
  );
  invalid(ix({ name: 'a', columns: [] }), '"a"', 'columns');
  invalid(ix({ name: 'a' }), '"a"', 'columns');
  invalid(ix({ name: 'a', columns: ['nope'] }), '"a"', '"nope"');
  invalid(ix({ name: 'a', columns: ['email', 'email'] }), '"a"', '"email"', 'twice');
  invalid(ix({ name: 'a', columns: ['meta'] }), '"a"', '"meta"', 'json');
  invalid(ix({ name: 'a', columns: ['email'], kind: 'btree' }), '"a"', 'kind');
  invalid(ix({ name: 'a', columns: ['email'], unique: 1 }), '"a"', 'unique');
});

test('defaults pass the codec value check; null only when nullable; stored as private copies', () => {
  const bad: [ColumnDef, string][] = [
    [{ name: 'd', type: 'int32', default: 1.5 }, 'int32'],
    [{ name: 'd', type: 'int32', default: 2 ** 31 }, 'int32'],
    [{ name: 'd', type: 'int64', default: 1 }, 'int64'],
    [{ name: 'd', type: 'int64', default: 2n ** 63n }, 'int64'],
    [{ name: 'd', type: 'float64', default: '1' }, 'float64'],
    [{ name: 'd', type: 'boolean', default: 0 }, 'boolean'],
    [{ name: 'd', type: 'string', default: 1 }, 'string'],
    [{ name: 'd', type: 'bytes', default: [1] }, 'Uint8Array'],
    [{ name: 'd', type: 'json', default: () => 1 }, 'json'],
    [{ name: 'd', type: 'json', default: 1n }, 'json'],
    [{ name: 'd', type: 'json', default: NaN }, 'null'],
    [{ name: 'd', type: 'int32', default: null }, 'null'],
  ];
  for (const [column, mention] of bad) invalid(withColumns(column), '"d"', 'default', mention);
  const json = { tags: ['a'] };
  const bytes = new Uint8Array([1, 2]);
  const schema = defineTable(
    withColumns(
      { name: 'j', type: 'json', default: json },
      { name: 'b', type: 'bytes', default: bytes },
      { name: 'n', type: 'string', nullable: true, default: null },
      { name: 'i', type: 'int64', default: -(2n ** 63n) },
    ),
  );
  json.tags.push('b');
  bytes[0] = 9;
  assert.equal(schema.columnsByName.get('j')!.defaultValue, { tags: ['a'] });
  assert.ok(Object.isFrozen((schema.columnsByName.get('j')!.defaultValue as { tags: string[] }).tags));
  assert.equal(schema.columnsByName.get('b')!.defaultValue, new Uint8Array([1, 2]));
  assert.is(schema.columnsByName.get('n')!.hasDefault, true);
  assert.is(schema.columnsByName.get('i')!.defaultValue, -(2n ** 63n));
  assert.is(schema.columnsByName.get('email')!.hasDefault, false);
});

test('random valid definitions resolve; dropping the primary key always fails', () => {
  const columnArb = fc.record({
    type: fc.constantFrom('int32', 'int64', 'float64', 'boolean', 'string', 'bytes' as const),
    nullable: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(columnArb, { minLength: 1, maxLength: 20 }), (columns) => {
      const def: TableDef = {
        name: 't',
        columns: columns.map((c, i) => ({ name: `c${i}`, ...c, nullable: i === 0 ? false : c.nullable })),
        primaryKey: ['c0'],
      };
      const schema = defineTable(def);
      assert.is(schema.columns.length, columns.length);
      invalid({ ...def, primaryKey: [] }, 'primaryKey');
    }),
  );
});

test.run();
