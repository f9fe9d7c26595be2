/**
 * The row codec: per-schema encode/decode functions generated with `new Function`,
 * so a row is checked, measured, written and read by straight-line code with the
 * column names and offsets baked in (docs/FORMAT.md, "Row payload").
 *
 *   +-------------------+-------------+---------------------+--------------------------+
 *   | key section       | null bitmap | fixed-width columns | variable-width columns   |
 *   | PK columns in key | ceil(n / 8) | declared order,     | declared order, varint   |
 *   | encoding          | bytes       | zeros when null     | length + bytes           |
 *   +-------------------+-------------+---------------------+--------------------------+
 *
 * Invariants:
 * - measure() either throws or returns the exact size encodeMeasured() then
 *   writes; a row that passes measure() has a primary key and index keys within
 *   MAX_KEY_BYTES, so indexing it never fails on size.
 * - measure()/encodeMeasured() of one codec are a pair: nothing may measure
 *   another row with the same codec in between (the stash is per codec, not per call).
 * - decode() checks that it consumed exactly `length` bytes.
 */
import { MAX_KEY_BYTES, MAX_ROW_BYTES } from '../constants.js';
import {
  codecErrors,
  compile,
  fixedExpr,
  measureValueSource,
  propSource,
  readKeySource,
  readValueSource,
  skipKeySource,
  skipVariableSource,
  writeKeySource,
  writeRowSource,
} from './codegen.js';
import type { Column, Row, TableSchema } from './types.js';

/**
 * Encodes and decodes the rows of one table. Every `u8`/`dv` pair must view the
 * same bytes from the same start (`new DataView(u8.buffer, u8.byteOffset, u8.byteLength)`).
 */
export interface RowCodec {
  readonly schema: TableSchema;
  /**
   * Validate a full row (applying defaults for absent columns that have one) and
   * return the payload size in bytes. Stashes per-call state (string lengths,
   * JSON text) for encodeMeasured. Throws TidemarkError: SCHEMA_VIOLATION (the
   * message names the column and what was wrong), UNKNOWN_COLUMN (an own
   * enumerable property that is not a column; the message names it),
   * ROW_TOO_LARGE (the row is over MAX_ROW_BYTES, or its primary key or an index
   * key is over MAX_KEY_BYTES). An absent column is one whose value is undefined.
   */
  measure(row: Row): number;
  /** Write the row passed to the last measure() at u8[offset...]; returns bytes written (== measured size). */
  encodeMeasured(u8: Uint8Array, dv: DataView, offset: number): number;
  /** Decode a full row from payload bytes to a fresh plain object (every column present; null for null). */
  decode(u8: Uint8Array, dv: DataView, offset: number, length: number): Row;
  /** Decode only these column positions (in that order) to a fresh object. */
  decodeColumns(u8: Uint8Array, dv: DataView, offset: number, length: number, columns: readonly number[]): Row;
  /** Byte length of the primary-key prefix of an encoded row payload starting at offset. */
  keyLength(u8: Uint8Array, dv: DataView, offset: number): number;
  /** Primary key codec (same encoding as the row's key prefix). */
  readonly key: KeyCodec;
  /** Key codec for a secondary index (by its position in schema.indexes). */
  readonly indexKeys: readonly KeyCodec[];
}

/** Where each column sits in the payload layout. */
interface Layout {
  readonly keys: readonly Column[];
  readonly fixed: readonly Column[];
  readonly variable: readonly Column[];
  /** For each nullable non-key column position: [byte, mask] of its bit in the bitmap. */
  readonly nullBit: ReadonlyMap<number, readonly [number, number]>;
  readonly bitmapBytes: number;
  readonly keyFixedBytes: number;
  readonly fixedBytes: number;
}

function layoutOf(schema: TableSchema): Layout {
  const inKey = new Set(schema.primaryKey);
  const keys = schema.primaryKey.map((i) => schema.columns[i]!);
  const rest = schema.columns.filter((c) => !inKey.has(c.index));
  const nullBit = new Map<number, readonly [number, number]>();
  rest.filter((c) => c.nullable).forEach((c, bit) => nullBit.set(c.index, [bit >> 3, 1 << (bit & 7)]));
  const fixed = rest.filter((c) => c.fixedBytes > 0);
  return {
    keys,
    fixed,
    variable: rest.filter((c) => c.fixedBytes === 0),
    nullBit,
    bitmapBytes: Math.ceil(nullBit.size / 8),
    keyFixedBytes: keys.reduce((sum, c) => sum + c.fixedBytes, 0),
    fixedBytes: fixed.reduce((sum, c) => sum + c.fixedBytes, 0),
  };
}

export function makeRowCodec(schema: TableSchema): RowCodec {
  const layout = layoutOf(schema);
  const source = [
    stashSource(schema.columns),
    measureSource(schema, layout),
    encodeSource(layout),
    decodeSource(schema, layout),
    decodeColumnsSource(schema, layout),
    keyLengthSource(layout),
    'return { measure, encodeMeasured, decode, decodeColumns, keyLength };',
  ].join('\n');
  const fns = compile<Pick<RowCodec, 'measure' | 'encodeMeasured' | 'decode' | 'decodeColumns' | 'keyLength'>>(
    source,
    codecErrors(schema),
    schema.columns.map((c) => c.defaultValue),
  );
  const key = makeKeyCodec(schema, schema.primaryKey, 'primary key');
  const indexKeys = Object.freeze(schema.indexes.map((ix) => makeKeyCodec(schema, ix.columns, `index "${ix.name}"`)));
  return Object.freeze({ schema, ...fns, key, indexKeys });
}

/** Closure variables holding what measure() found for encodeMeasured(). */
function stashSource(columns: readonly Column[]): string {
  const names = columns.flatMap((c) => [
    `v${c.index} = null`,
    ...(c.fixedBytes === 0 ? [`l${c.index} = 0`] : []),
    ...(c.type === 'json' ? [`t${c.index} = ''`] : []),
  ]);
  return `let ${names.join(', ')};`;
}

/** measure(): one block per column in declared order, then the unknown-column and size checks. */
function measureSource(schema: TableSchema, layout: Layout): string {
  const inKey = new Set(schema.primaryKey);
  const blocks = schema.columns.map((c) => {
    const acc = inKey.has(c.index) ? 'ks' : 'size';
    const absent = c.hasDefault ? `v = D[${c.index}];` : c.nullable ? 'v = null;' : `throw H.missing(${c.index});`;
    // A null variable-width column still takes its zero length byte.
    const onNull = c.fixedBytes === 0 ? ` else ${acc} += 1;` : '';
    const present = c.nullable
      ? `if (v !== null) { ${measureValueSource(c, acc, true, false)} }${onNull}`
      : `if (v === null) throw H.isNull(${c.index});\n${measureValueSource(c, acc, true, false)}`;
    return `v = ${propSource(c, 'row')};\nif (v === undefined) { ${absent} } else seen++;\n${present}\nv${c.index} = v;`;
  });
  const keyCheck = layout.keys.some((c) => c.fixedBytes === 0)
    ? `if (ks > ${MAX_KEY_BYTES}) throw H.keyTooLarge(-1, ks);`
    : '';
  return `function measure(row) {
if (typeof row !== 'object' || row === null) throw H.notObject(row);
let v, n = 0, seen = 0, ks = ${layout.keyFixedBytes}, size = ${layout.bitmapBytes + layout.fixedBytes};
${blocks.join('\n')}
for (const k in row) n++;
if (n !== seen) H.unknownColumn(row);
${keyCheck}
${schema.indexes.map((ix) => indexSizeCheck(schema, ix.index)).join('\n')}
size += ks;
if (size > ${MAX_ROW_BYTES}) throw H.rowTooLarge(size);
return size;
}`;
}

/** A size check for an index key with variable-width columns (a fixed-width one always fits, see schema.ts). */
function indexSizeCheck(schema: TableSchema, index: number): string {
  const columns = schema.indexes[index]!.columns.map((i) => schema.columns[i]!);
  if (columns.every((c) => c.fixedBytes > 0)) return '';
  const terms = columns.map((c) => {
    const i = c.index;
    const present = c.fixedBytes > 0 ? `${c.fixedBytes}` : `(l${i} < 128 ? 1 : varintSize(l${i})) + l${i}`;
    return c.nullable ? `(v${i} === null ? 1 : 1 + ${present})` : `(${present})`;
  });
  return `n = ${terms.join(' + ')};\nif (n > ${MAX_KEY_BYTES}) throw H.keyTooLarge(${index}, n);`;
}

function encodeSource(layout: Layout): string {
  const bitmap: string[] = [];
  for (let byte = 0; byte < layout.bitmapBytes; byte++) {
    const bits = [...layout.nullBit]
      .filter(([, [b]]) => b === byte)
      .map(([i, [, mask]]) => `(v${i} === null ? ${mask} : 0)`);
    bitmap.push(`u8[p++] = ${bits.join(' | ')};`);
  }
  return `function encodeMeasured(u8, dv, off) {
let p = off;
${layout.keys.map(writeKeySource).join('\n')}
${bitmap.join('\n')}
${layout.fixed.map(writeRowSource).join('\n')}
${layout.variable.map(writeRowSource).join('\n')}
return p - off;
}`;
}

/** `(u8[bm + byte] & mask) !== 0` for a nullable non-key column. */
function nullTest(layout: Layout, c: Column): string {
  const [byte, mask] = layout.nullBit.get(c.index)!;
  return `(u8[bm + ${byte}] & ${mask}) !== 0`;
}

/** The object literal every decoded row is built from, so all rows of a table share one hidden class. */
function rowLiteral(schema: TableSchema): string {
  return `{ ${schema.columns.map((c) => `${JSON.stringify(c.name)}: c${c.index}`).join(', ')} }`;
}

function decodeSource(schema: TableSchema, layout: Layout): string {
  const fixed = layout.fixed.map((c) => {
    const read = fixedExpr(c, 'p');
    return `c${c.index} = ${c.nullable ? `${nullTest(layout, c)} ? null : ${read}` : read}; p += ${c.fixedBytes};`;
  });
  const variable = layout.variable.map((c) => {
    const read = readValueSource(c, `c${c.index}`, 'p');
    // A null variable-width column is a single zero length byte.
    return c.nullable ? `if (${nullTest(layout, c)}) { c${c.index} = null; p += 1; } else { ${read} }` : read;
  });
  return `function decode(u8, dv, off, length) {
let p = off, n = 0, ${schema.columns.map((c) => `c${c.index}`).join(', ')};
${layout.keys.map((c) => readKeySource(c, `c${c.index}`, 'p')).join('\n')}
const bm = p; p += ${layout.bitmapBytes};
${fixed.join('\n')}
${variable.join('\n')}
if (p - off !== length) throw H.corrupt(length, p - off);
return ${rowLiteral(schema)};
}`;
}

/** decodeColumns(): finds where each key and variable-width column starts, then reads only those asked for. */
function decodeColumnsSource(schema: TableSchema, layout: Layout): string {
  const starts = [...layout.keys, ...layout.variable].map((c) => `q${c.index} = 0`);
  let fixedOffset = 0;
  const cases = new Map<number, string>();
  for (const c of layout.keys)
    cases.set(c.index, `q = q${c.index}; ${readKeySource(c, `out[${JSON.stringify(c.name)}]`, 'q')}`);
  for (const c of layout.fixed) {
    const read = fixedExpr(c, `f + ${fixedOffset}`);
    cases.set(
      c.index,
      `out[${JSON.stringify(c.name)}] = ${c.nullable ? `${nullTest(layout, c)} ? null : ${read}` : read};`,
    );
    fixedOffset += c.fixedBytes;
  }
  for (const c of layout.variable) {
    const target = `out[${JSON.stringify(c.name)}]`;
    const read = `q = q${c.index}; ${readValueSource(c, target, 'q')}`;
    cases.set(c.index, c.nullable ? `if (${nullTest(layout, c)}) ${target} = null; else { ${read} }` : read);
  }
  const switchCases = schema.columns.map((c) => `case ${c.index}: { ${cases.get(c.index)} break; }`);
  return `function decodeColumns(u8, dv, off, length, columns) {
let p = off, n = 0, q = 0${starts.map((s) => `, ${s}`).join('')};
${layout.keys.map((c) => `q${c.index} = p; ${skipKeySource(c, 'p')}`).join('\n')}
const bm = p, f = p + ${layout.bitmapBytes};
p = f + ${layout.fixedBytes};
${layout.variable.map((c) => `q${c.index} = p; ${skipVariableSource('p')}`).join('\n')}
if (p - off !== length) throw H.corrupt(length, p - off);
const out = {};
for (let j = 0; j < columns.length; j++) {
switch (columns[j]) {
${switchCases.join('\n')}
default: throw H.badPosition(columns[j]);
}
}
return out;
}`;
}

function keyLengthSource(layout: Layout): string {
  if (layout.keys.every((c) => c.fixedBytes > 0)) return `function keyLength() { return ${layout.keyFixedBytes}; }`;
  return `function keyLength(u8, dv, off) {
let p = off, n = 0;
${layout.keys.map((c) => skipKeySource(c, 'p')).join('\n')}
return p - off;
}`;
}

export interface KeyCodec {
  readonly columns: readonly number[];
  /**
   * Validate key values and return the encoded size. A single-column key is the
   * bare value or a 1-element array; a multi-column key an array in key order or
   * an object with the column names (other properties are ignored). Throws
   * SCHEMA_VIOLATION (naming the column) for a bad value, a wrong arity or a
   * missing column, ROW_TOO_LARGE over MAX_KEY_BYTES. Stashes state for encodeMeasured.
   */
  measure(key: unknown): number;
  encodeMeasured(u8: Uint8Array, dv: DataView, offset: number): number;
  /**
   * Measure the key of a full, already valid Row object (absent columns take
   * their default, or null) and stash it for encodeMeasured; returns its size.
   */
  measureFromRow(row: Row): number;
  /** Decode a key at offset back to the user form (bare value for single column, array otherwise). */
  decode(u8: Uint8Array, dv: DataView, offset: number): unknown;
  /** Values of the key columns, as an array in key order, from a Row object (for ordered-index keys). */
  valuesFromRow(row: Row): unknown[];
}

/** `label`: "primary key" or 'index "name"', for messages. */
function makeKeyCodec(schema: TableSchema, positions: readonly number[], label: string): KeyCodec {
  const columns = positions.map((i) => schema.columns[i]!);
  // Null bytes and the fixed bytes of non-nullable columns: the size every key has.
  const constBytes = columns.reduce((sum, c) => sum + (c.nullable ? 1 : c.fixedBytes), 0);
  const fromRow = (c: Column, x: string): string =>
    `let ${x} = ${propSource(c, 'row')}; if (${x} === undefined) ${x} = ${c.hasDefault ? `D[${c.index}]` : 'null'};`;
  const measureFromRow = columns.map((c, j) => {
    const size = measureValueSource(c, 'size', false, c.nullable);
    return `${fromRow(c, `x${j}`)}\n${c.nullable ? `if (x${j} !== null) { const v = x${j}; ${size} }` : `{ const v = x${j}; ${size} }`}\nv${c.index} = x${j};`;
  });
  const reads = columns.map((c) => readKeySource(c, `c${c.index}`, 'p'));
  const decoded = columns.length === 1 ? `c${columns[0]!.index}` : `[${columns.map((c) => `c${c.index}`).join(', ')}]`;
  const source = `${stashSource(columns)}
${keyMeasureSource(columns, constBytes)}
function measureFromRow(row) {
let size = ${constBytes};
${measureFromRow.join('\n')}
if (size > ${MAX_KEY_BYTES}) throw H.keyTooLarge(-1, size);
return size;
}
function encodeMeasured(u8, dv, off) {
let p = off;
${columns.map(writeKeySource).join('\n')}
return p - off;
}
function decode(u8, dv, off) {
let p = off, n = 0, ${columns.map((c) => `c${c.index}`).join(', ')};
${reads.join('\n')}
return ${decoded};
}
function valuesFromRow(row) {
${columns.map((c, j) => fromRow(c, `x${j}`)).join('\n')}
return [${columns.map((_, j) => `x${j}`).join(', ')}];
}
return { measure, measureFromRow, encodeMeasured, decode, valuesFromRow };`;
  const fns = compile<Omit<KeyCodec, 'columns'>>(
    source,
    codecErrors(schema, { label, columns: positions }),
    schema.columns.map((c) => c.defaultValue),
  );
  return Object.freeze({ columns: positions, ...fns });
}

/** measure(key): picks the values out of the accepted shapes, then checks each like a row column. */
function keyMeasureSource(columns: readonly Column[], constBytes: number): string {
  const values = columns.map((_, j) => `a${j}`);
  const shape =
    columns.length === 1
      ? 'a0 = key; if (isArray(key)) { if (key.length !== 1) throw H.arity(key); a0 = key[0]; }'
      : `if (isArray(key)) { if (key.length !== ${columns.length}) throw H.arity(key); ${values.map((a, j) => `${a} = key[${j}];`).join(' ')} }
else if (typeof key === 'object' && key !== null && !(key instanceof Uint8Array)) { ${values.map((a, j) => `${a} = ${propSource(columns[j]!, 'key')};`).join(' ')} }
else throw H.arity(key);`;
  const checks = columns.map((c, j) => {
    const present = c.nullable
      ? `if (v !== null) { ${measureValueSource(c, 'size', true, true)} }`
      : `if (v === null) throw H.isNull(${c.index});\n${measureValueSource(c, 'size', true, false)}`;
    return `v = a${j}; if (v === undefined) throw H.missing(${c.index});\n${present}\nv${c.index} = v;`;
  });
  return `function measure(key) {
let v, size = ${constBytes}, ${values.join(', ')};
${shape}
${checks.join('\n')}
if (size > ${MAX_KEY_BYTES}) throw H.keyTooLarge(-1, size);
return size;
}`;
}

/**
 * A 32-bit hash of key bytes: MurmurHash3 x86_32 with seed 0x9747b28c (4-byte
 * little-endian blocks, then the tail, then fmix32). Returns a uint32.
 */
export function hashBytes(u8: Uint8Array, offset: number, length: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0x9747b28c | 0;
  const blocksEnd = offset + (length & ~3);
  let i = offset;
  for (; i < blocksEnd; i += 4) {
    let k = u8[i]! | (u8[i + 1]! << 8) | (u8[i + 2]! << 16) | (u8[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = Math.imul((k << 15) | (k >>> 17), c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let k = u8[i]!;
    if (tail >= 2) k ^= u8[i + 1]! << 8;
    if (tail === 3) k ^= u8[i + 2]! << 16;
    k = Math.imul(k, c1);
    h ^= Math.imul((k << 15) | (k >>> 17), c2);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
