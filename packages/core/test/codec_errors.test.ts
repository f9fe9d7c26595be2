// Every error the row codec raises, by code and by the column name in its message.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeRowCodec } from '../src/schema/codec.js';
import { defineTable } from '../src/schema/schema.js';
import type { Row, TableDef } from '../src/schema/types.js';
import { ErrorCode, TidemarkError } from '../src/errors.js';

const INT64_MIN = -(2n ** 63n);

function throwsCode(fn: () => unknown, code: ErrorCode, ...mentions: string[]): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, TidemarkError);
    const e = error as TidemarkError;
    assert.is(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" should mention ${m}`);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

const ALL: TableDef = {
  name: 'all',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'big', type: 'int64' },
    { name: 'f', type: 'float64' },
    { name: 'ok', type: 'boolean' },
    { name: 's', type: 'string' },
    { name: 'b', type: 'bytes' },
    { name: 'j', type: 'json' },
    { name: 'opt', type: 'string', nullable: true },
    { name: 'dflt', type: 'int32', default: 5 },
  ],
  primaryKey: ['id'],
  indexes: [
    { name: 'by_s', columns: ['s'] },
    { name: 'by_opt_ok', columns: ['opt', 'ok'] },
  ],
};
const good = (): Row => ({ id: 1, big: 1n, f: 1.5, ok: true, s: 'x', b: new Uint8Array(1), j: { a: 1 } });

const errors = suite('codec errors');
const all = makeRowCodec(defineTable(ALL));

errors('a valid row with defaults measures, and absent columns take defaults', () => {
  const u8 = new Uint8Array(256);
  const size = all.measure(good());
  all.encodeMeasured(u8, new DataView(u8.buffer), 0);
  const row = all.decode(u8, new DataView(u8.buffer), 0, size);
  assert.is(row.dflt, 5);
  assert.is(row.opt, null);
});

errors('wrong types are SCHEMA_VIOLATION naming the column', () => {
  const cases: [string, unknown][] = [
    ['id', 1.5],
    ['id', 2 ** 31],
    ['id', -(2 ** 31) - 1],
    ['id', '1'],
    ['id', 1n],
    ['id', NaN],
    ['big', 1],
    ['big', 2n ** 63n],
    ['big', INT64_MIN - 1n],
    ['big', '1'],
    ['f', '1'],
    ['f', 1n],
    ['ok', 0],
    ['ok', 'true'],
    ['s', 1],
    ['s', {}],
    ['b', [1, 2]],
    ['b', 'ab'],
    ['b', new ArrayBuffer(2)],
    ['j', () => 1],
    ['j', Symbol('x')],
    ['j', 1n],
    ['dflt', 'x'],
    ['opt', 3],
  ];
  for (const [column, value] of cases) {
    throwsCode(() => all.measure({ ...good(), [column]: value }), ErrorCode.SCHEMA_VIOLATION, `"${column}"`);
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  throwsCode(() => all.measure({ ...good(), j: cyclic }), ErrorCode.SCHEMA_VIOLATION, '"j"', 'json');
});

errors('null and missing in non-nullable columns', () => {
  for (const column of ['id', 'big', 'f', 'ok', 's', 'b', 'j', 'dflt']) {
    throwsCode(() => all.measure({ ...good(), [column]: null }), ErrorCode.SCHEMA_VIOLATION, `"${column}"`, 'null');
  }
  for (const column of ['id', 'big', 'f', 'ok', 's', 'b', 'j']) {
    const row = good();
    delete row[column];
    throwsCode(() => all.measure(row), ErrorCode.SCHEMA_VIOLATION, `"${column}"`, 'missing');
    throwsCode(
      () => all.measure({ ...good(), [column]: undefined }),
      ErrorCode.SCHEMA_VIOLATION,
      `"${column}"`,
      'missing',
    );
  }
  throwsCode(() => all.measure({ ...good(), j: NaN }), ErrorCode.SCHEMA_VIOLATION, '"j"', 'null');
  throwsCode(() => all.measure(null as unknown as Row), ErrorCode.SCHEMA_VIOLATION, '"all"');
});

errors('unknown own properties are UNKNOWN_COLUMN naming them; undefined known ones and inherited ones are not', () => {
  throwsCode(() => all.measure({ ...good(), nope: 1 }), ErrorCode.UNKNOWN_COLUMN, '"nope"');
  throwsCode(() => all.measure({ ...good(), opt: undefined, nope: undefined }), ErrorCode.UNKNOWN_COLUMN, '"nope"');
  assert.ok(all.measure({ ...good(), opt: undefined }) > 0);
  const inherited = Object.assign(Object.create({ extra: 1 }) as Row, good());
  assert.ok(all.measure(inherited) > 0);
});

errors('names Object.prototype also has are read as own properties only', () => {
  const codec = makeRowCodec(
    defineTable({
      name: 'p',
      columns: [
        { name: 'toString', type: 'string' },
        { name: 'constructor', type: 'int32', nullable: true },
      ],
      primaryKey: ['toString'],
    }),
  );
  throwsCode(() => codec.measure({}), ErrorCode.SCHEMA_VIOLATION, '"toString"', 'missing');
  const u8 = new Uint8Array(32);
  const size = codec.measure({ toString: 'a' });
  codec.encodeMeasured(u8, new DataView(u8.buffer), 0);
  assert.equal(codec.decode(u8, new DataView(u8.buffer), 0, size), { toString: 'a', constructor: null });
});

errors('ROW_TOO_LARGE for rows, primary keys and index keys over the limits', () => {
  throwsCode(() => all.measure({ ...good(), opt: 'x'.repeat(1024 * 1024) }), ErrorCode.ROW_TOO_LARGE, '"all"');
  const big = makeRowCodec(defineTable({ name: 'k', columns: [{ name: 'id', type: 'string' }], primaryKey: ['id'] }));
  throwsCode(() => big.measure({ id: 'x'.repeat(4096) }), ErrorCode.ROW_TOO_LARGE, 'primary key');
  throwsCode(() => big.key.measure('x'.repeat(4096)), ErrorCode.ROW_TOO_LARGE, 'primary key');
  assert.is(big.key.measure('x'.repeat(4094)), 4096, 'a 2-byte length and 4,094 bytes fit exactly');
  throwsCode(() => all.measure({ ...good(), s: 'é'.repeat(2048) }), ErrorCode.ROW_TOO_LARGE, '"by_s"');
  throwsCode(() => all.indexKeys[0]!.measure('x'.repeat(5000)), ErrorCode.ROW_TOO_LARGE, '"by_s"');
});

errors('key codecs: shapes, arity, missing, null and bad values', () => {
  const pair = all.indexKeys[1]!;
  assert.is(pair.measure(['a', true]), 1 + 2 + 1);
  assert.is(pair.measure({ opt: null, ok: false }), 2);
  assert.is(all.key.measure([3]), 4);
  throwsCode(() => pair.measure(['a']), ErrorCode.SCHEMA_VIOLATION, '"opt"', '"ok"');
  throwsCode(() => pair.measure('a'), ErrorCode.SCHEMA_VIOLATION, '"opt"', '"ok"');
  throwsCode(() => pair.measure({ opt: 'a' }), ErrorCode.SCHEMA_VIOLATION, '"ok"', 'missing');
  throwsCode(() => pair.measure(['a', null]), ErrorCode.SCHEMA_VIOLATION, '"ok"', 'null');
  throwsCode(() => pair.measure([1, true]), ErrorCode.SCHEMA_VIOLATION, '"opt"', 'string');
  throwsCode(() => all.key.measure([1, 2]), ErrorCode.SCHEMA_VIOLATION, '"id"');
  throwsCode(() => all.key.measure(undefined), ErrorCode.SCHEMA_VIOLATION, '"id"', 'missing');
  throwsCode(() => all.key.measure(1.5), ErrorCode.SCHEMA_VIOLATION, '"id"', 'int32');
});

errors.run();
