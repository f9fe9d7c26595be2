// The row codec against a model: random schemas and rows, every column type,
// checked by round trip and against TextEncoder/TextDecoder/JSON. The UTF-8
// helpers are tested in codec_utf8.test.ts, every error the codec raises in
// codec_errors.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { hashBytes, makeRowCodec, type RowCodec } from '../src/schema/codec.js';
import { defineTable } from '../src/schema/schema.js';
import type { ColumnType, Row, TableDef, TableSchema } from '../src/schema/types.js';
import { decoder, encoder, stringArb } from './helpers/strings.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TYPES: ColumnType[] = ['int32', 'int64', 'float64', 'boolean', 'string', 'bytes', 'json'];

function valueArb(type: ColumnType, nullable: boolean): fc.Arbitrary<unknown> {
  const value: Record<ColumnType, fc.Arbitrary<unknown>> = {
    int32: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, 0, -0)),
    int64: fc.oneof(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.constantFrom(INT64_MIN, INT64_MAX, 0n, -1n)),
    float64: fc.oneof(
      fc.double(),
      fc.constantFrom(NaN, -0, 0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE),
    ),
    boolean: fc.boolean(),
    string: stringArb,
    bytes: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 128, maxLength: 300 })),
    // A non-nullable json column refuses values that serialize to null.
    json: nullable ? fc.jsonValue() : fc.jsonValue().filter((v) => JSON.stringify(v) !== 'null'),
  };
  return nullable ? fc.option(value[type], { nil: null, freq: 4 }) : value[type];
}

/** What decoding gives back for a value written in a column (`inKey`: canonical floats). */
function expected(type: ColumnType, value: unknown, inKey: boolean): unknown {
  if (value === null) return null;
  if (type === 'int32') return (value as number) | 0;
  if (type === 'float64' && inKey && value === 0) return 0;
  if (type === 'string') return decoder.decode(encoder.encode(value as string));
  if (type === 'json') return JSON.parse(JSON.stringify(value)) as unknown;
  return value;
}

/** dequal treats -0 as 0; float columns must keep their exact value. */
function assertSame(actual: unknown, wanted: unknown, what: string): void {
  assert.equal(actual, wanted, what);
  if (typeof wanted === 'number')
    assert.ok(Object.is(actual, wanted), `${what}: ${String(actual)} is not ${String(wanted)}`);
}

interface ColumnSpec {
  type: ColumnType;
  nullable: boolean;
  withDefault: boolean;
}

const NAME_BASES = ['c', 'x y', '"q"', 'ü', '\\'];

/** A random table: 1-8 columns, a primary key and up to 3 indexes over non-json columns, some defaults. */
const tableArb: fc.Arbitrary<TableDef> = fc
  .tuple(
    fc.array(fc.record({ type: fc.constantFrom(...TYPES), nullable: fc.boolean(), withDefault: fc.boolean() }), {
      minLength: 1,
      maxLength: 8,
    }),
    fc.constantFrom(...NAME_BASES),
  )
  .chain(([specs, base]: [ColumnSpec[], string]) => {
    if (specs.every((s) => s.type === 'json')) specs[0]!.type = 'int32';
    const eligible = specs.flatMap((s, i) => (s.type === 'json' ? [] : [i]));
    const keyArb = fc.shuffledSubarray(eligible, { minLength: 1, maxLength: Math.min(3, eligible.length) });
    return fc
      .record({
        pk: keyArb,
        indexes: fc.array(keyArb, { maxLength: 3 }),
        defaults: fc.tuple(...specs.map((s) => valueArb(s.type, false))),
      })
      .map(({ pk, indexes, defaults }) => {
        const inPk = new Set(pk);
        const columns = specs.map((s, i) => ({
          name: `${base}${i}`,
          type: s.type,
          nullable: s.nullable && !inPk.has(i),
          ...(s.withDefault ? { default: defaults[i] } : {}),
        }));
        const name = (i: number): string => columns[i]!.name;
        return {
          name: 'random',
          columns,
          primaryKey: pk.map(name),
          indexes: indexes.map(
            (cols, j) => ({ name: `ix${j}`, columns: cols.map(name), kind: j % 2 ? 'ordered' : 'hash' }) as const,
          ),
        };
      });
  });

/** A row of the table; columns that may be left out sometimes are. */
function rowArb(def: TableDef): fc.Arbitrary<Row> {
  const parts = def.columns.map((c) => {
    const value = valueArb(c.type, c.nullable ?? false);
    const mayOmit = (c.nullable ?? false) || c.default !== undefined;
    return mayOmit ? fc.option(value, { nil: undefined, freq: 3 }) : value;
  });
  return fc.tuple(...parts).map((values) => {
    const row: Row = {};
    values.forEach((v, i) => {
      if (v !== undefined) row[def.columns[i]!.name] = v;
    });
    return row;
  });
}

/** The row as stored: defaults and nulls filled in, every column present. */
function filled(schema: TableSchema, row: Row): Row {
  const out: Row = {};
  for (const c of schema.columns) {
    let v = row[c.name];
    if (v === undefined) v = c.hasDefault ? c.defaultValue : null;
    if (c.type === 'json' && JSON.stringify(v) === 'null') v = null;
    out[c.name] = v;
  }
  return out;
}

function keyForm(schema: TableSchema, columns: readonly number[], row: Row): unknown {
  const values = columns.map((i) => expected(schema.columns[i]!.type, row[schema.columns[i]!.name], true));
  return columns.length === 1 ? values[0] : values;
}

function checkRow(codec: RowCodec, row: Row, offset: number, subset: number[]): void {
  const { schema } = codec;
  const u8 = new Uint8Array(new SharedArrayBuffer(offset + 2 * 1024 * 1024 + 64));
  const dv = new DataView(u8.buffer);
  const size = codec.measure(row);
  assert.is(codec.encodeMeasured(u8, dv, offset), size, 'bytes written == measured');
  const stored = filled(schema, row);
  const decoded = codec.decode(u8, dv, offset, size);
  assert.equal(
    Object.keys(decoded),
    schema.columns.map((c) => c.name),
    'every column, declared order',
  );
  for (const c of schema.columns) {
    assertSame(decoded[c.name], expected(c.type, stored[c.name], schema.primaryKey.includes(c.index)), c.name);
  }
  const picked = codec.decodeColumns(u8, dv, offset, size, subset);
  assert.equal(
    Object.keys(picked),
    subset.map((i) => schema.columns[i]!.name),
    'decodeColumns order',
  );
  for (const i of subset)
    assertSame(picked[schema.columns[i]!.name], decoded[schema.columns[i]!.name], 'decodeColumns value');
  checkKeys(codec, stored, u8, dv, offset);
}

function checkKeys(codec: RowCodec, stored: Row, u8: Uint8Array, dv: DataView, offset: number): void {
  const { schema, key } = codec;
  const keyLength = codec.keyLength(u8, dv, offset);
  assert.is(key.measureFromRow(stored), keyLength, 'keyLength == key size');
  const pkValues = key.valuesFromRow(stored);
  assert.is(key.measure(pkValues.length === 1 ? pkValues[0] : pkValues), keyLength, 'key measure');
  const scratch = new Uint8Array(keyLength + 3);
  assert.is(key.encodeMeasured(scratch, new DataView(scratch.buffer), 3), keyLength);
  assert.equal(scratch.subarray(3), u8.slice(offset, offset + keyLength), 'key codec bytes == row prefix');
  assert.is(hashBytes(scratch, 3, keyLength), hashBytes(u8, offset, keyLength), 'hash of equal bytes');
  assertSame(key.decode(u8, dv, offset), keyForm(schema, schema.primaryKey, stored), 'key decode');
  for (const [j, ix] of codec.indexKeys.entries()) {
    const columns = schema.indexes[j]!.columns;
    const size = ix.measureFromRow(stored);
    const bytes = new Uint8Array(size);
    assert.is(ix.encodeMeasured(bytes, new DataView(bytes.buffer), 0), size);
    assertSame(ix.decode(bytes, new DataView(bytes.buffer), 0), keyForm(schema, columns, stored), 'index key decode');
    const values = ix.valuesFromRow(stored);
    const byObject = Object.fromEntries(columns.map((i, k) => [schema.columns[i]!.name, values[k]]));
    assert.is(ix.measure(columns.length === 1 ? values[0] : byObject), size, 'index key measure');
    const again = new Uint8Array(size);
    ix.encodeMeasured(again, new DataView(again.buffer), 0);
    assert.equal(again, bytes, 'measure and measureFromRow encode alike');
  }
}

const roundTrip = suite('codec round trip');

roundTrip('random schemas and rows round-trip', () => {
  const caseArb = tableArb.chain((def) =>
    fc.tuple(
      fc.constant(def),
      fc.array(rowArb(def), { minLength: 1, maxLength: 4 }),
      fc.shuffledSubarray(def.columns.map((_, i) => i)),
      fc.nat(64),
    ),
  );
  fc.assert(
    fc.property(caseArb, ([def, rows, subset, offset]) => {
      const codec = makeRowCodec(defineTable(def));
      for (const row of rows) checkRow(codec, row, offset, subset);
    }),
    { numRuns: 400 },
  );
});

roundTrip('byte layout matches docs/FORMAT.md', () => {
  const codec = makeRowCodec(
    defineTable({
      name: 'users',
      columns: [
        { name: 'id', type: 'int32' },
        { name: 'email', type: 'string' },
        { name: 'age', type: 'int32', nullable: true },
      ],
      primaryKey: ['id'],
    }),
  );
  const u8 = new Uint8Array(16);
  const size = codec.measure({ id: 7, email: 'a@b', age: null });
  codec.encodeMeasured(u8, new DataView(u8.buffer), 0);
  assert.equal([...u8.subarray(0, size)], [7, 0, 0, 0, 1, 0, 0, 0, 0, 3, 0x61, 0x40, 0x62]);
});

roundTrip('long values use multi-byte varint lengths', () => {
  const codec = makeRowCodec(
    defineTable({
      name: 't',
      columns: [
        { name: 'id', type: 'string' },
        { name: 's', type: 'string' },
        { name: 'b', type: 'bytes' },
      ],
      primaryKey: ['id'],
    }),
  );
  const row = { id: 'k'.repeat(200), s: 'é'.repeat(100_000), b: new Uint8Array(20_000).fill(9) };
  checkRow(codec, row, 5, [2, 0, 1]);
  assert.is(codec.measure(row), 202 + 3 + 200_000 + 3 + 20_000);
});

roundTrip('float keys are canonical: -0 and every NaN give the bytes of +0 and NaN', () => {
  const codec = makeRowCodec(defineTable({ name: 't', columns: [{ name: 'f', type: 'float64' }], primaryKey: ['f'] }));
  const bytesOf = (v: number): number[] => {
    const u8 = new Uint8Array(8);
    codec.key.measure(v);
    codec.key.encodeMeasured(u8, new DataView(u8.buffer), 0);
    return [...u8];
  };
  assert.equal(bytesOf(-0), bytesOf(0));
  const otherNaN = new Float64Array(new BigUint64Array([0xfff8000000000001n]).buffer)[0]!;
  assert.equal(bytesOf(otherNaN), [0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
  assert.equal(bytesOf(NaN), [0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
});

roundTrip('hashBytes is MurmurHash3 x86_32 with seed 0x9747b28c', () => {
  const hash = (s: string): number => hashBytes(encoder.encode(s), 0, encoder.encode(s).length);
  assert.is(hash('Hello, world!'), 0x24884cba);
  assert.is(hash('abc'), 0xc84a62dd);
  assert.is(hash('aaaa'), 0x5a97808a);
  const u8 = encoder.encode('xxHello, world!yy');
  assert.is(hashBytes(u8, 2, 13), 0x24884cba, 'offset and length respected');
});

roundTrip.run();
