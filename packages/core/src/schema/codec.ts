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
 * After the key section the row holds one such group (bitmap, fixed, variable)
 * per schema version that added columns, oldest first: a column added later
 * is a new group at the end, so a row written before it is a prefix of the
 * newer layout and reads fill the missing groups with defaults (or null). A
 * dropped column keeps its place; rows written since hold it as null or zeros.
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
import { makeKeyCodec, stashSource, type KeyCodec } from './key_codec.js';
import type { Column, LayoutColumn, Row, TableSchema } from './types.js';

export { hashBytes, type KeyCodec } from './key_codec.js';

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

/** The non-key columns one schema version added, as rows hold them. */
interface Group {
  /** The group's null bitmap bit of each nullable column: [byte, mask]. */
  readonly nullBit: ReadonlyMap<LayoutColumn, readonly [number, number]>;
  readonly bitmapBytes: number;
  readonly fixed: readonly LayoutColumn[];
  readonly variable: readonly LayoutColumn[];
  readonly fixedBytes: number;
  /** Index of the group: 0 is always present, later ones only in rows written since. */
  readonly n: number;
}

interface Layout {
  readonly keys: readonly Column[];
  readonly groups: readonly Group[];
  readonly keyFixedBytes: number;
  /** Bytes every row has after its key: bitmaps, fixed columns, and a length byte per dropped variable-width column. */
  readonly constBytes: number;
}

function layoutOf(schema: TableSchema): Layout {
  const inKey = new Set(schema.primaryKey);
  const keys = schema.primaryKey.map((i) => schema.columns[i]!);
  const rest = schema.layout.filter((c) => c.live === null || !inKey.has(c.live.index));
  const sinces = [...new Set([1, ...rest.map((c) => c.since)])].sort((a, b) => a - b);
  const groups = sinces.map((since, n): Group => {
    const columns = rest.filter((c) => c.since === since);
    const nullBit = new Map<LayoutColumn, readonly [number, number]>();
    columns.filter((c) => c.nullable).forEach((c, bit) => nullBit.set(c, [bit >> 3, 1 << (bit & 7)]));
    const fixed = columns.filter((c) => c.fixedBytes > 0);
    const fixedBytes = fixed.reduce((sum, c) => sum + c.fixedBytes, 0);
    return {
      nullBit,
      bitmapBytes: Math.ceil(nullBit.size / 8),
      fixed,
      variable: columns.filter((c) => c.fixedBytes === 0),
      fixedBytes,
      n,
    };
  });
  const droppedVariable = groups.reduce((sum, g) => sum + g.variable.filter((c) => c.live === null).length, 0);
  return {
    keys,
    groups,
    keyFixedBytes: keys.reduce((sum, c) => sum + c.fixedBytes, 0),
    constBytes: groups.reduce((sum, g) => sum + g.bitmapBytes + g.fixedBytes, droppedVariable),
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
let v, n = 0, seen = 0, ks = ${layout.keyFixedBytes}, size = ${layout.constBytes};
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

/** Zeros of a dropped fixed-width column (1, 4 or 8 bytes). */
function zerosSource(bytes: number): string {
  if (bytes === 1) return 'u8[p++] = 0;';
  if (bytes === 4) return 'dv.setInt32(p, 0, true); p += 4;';
  return 'dv.setInt32(p, 0, true); dv.setInt32(p + 4, 0, true); p += 8;';
}

function encodeGroupSource(g: Group): string {
  const out: string[] = [];
  for (let byte = 0; byte < g.bitmapBytes; byte++) {
    const bits = [...g.nullBit]
      .filter(([, [b]]) => b === byte)
      .map(([c, [, mask]]) => (c.live === null ? `${mask}` : `(v${c.live.index} === null ? ${mask} : 0)`));
    out.push(`u8[p++] = ${bits.join(' | ')};`);
  }
  for (const c of g.fixed) out.push(c.live === null ? zerosSource(c.fixedBytes) : writeRowSource(c.live));
  for (const c of g.variable) out.push(c.live === null ? 'u8[p++] = 0;' : writeRowSource(c.live));
  return out.join('\n');
}

function encodeSource(layout: Layout): string {
  return `function encodeMeasured(u8, dv, off) {
let p = off;
${layout.keys.map(writeKeySource).join('\n')}
${layout.groups.map(encodeGroupSource).join('\n')}
return p - off;
}`;
}

/** `(u8[bm{g} + byte] & mask) !== 0` for a nullable non-key column of group g. */
function nullTest(g: Group, c: LayoutColumn): string {
  const [byte, mask] = g.nullBit.get(c)!;
  return `(u8[bm${g.n} + ${byte}] & ${mask}) !== 0`;
}

/** The value a row written before column c was added reads: its default (a fresh copy), or null. */
function fillSource(c: Column): string {
  if (!c.hasDefault) return 'null';
  if (c.type === 'bytes') return `D[${c.index}].slice()`;
  if (c.type === 'json') return `structuredClone(D[${c.index}])`;
  return `D[${c.index}]`;
}

/** Statements of group g: the group read by `read`, or, when the row ends before it, its live columns filled. */
function groupPresence(g: Group, read: string): string {
  if (g.n === 0) return read;
  const live = [...g.fixed, ...g.variable].flatMap((c) => (c.live === null ? [] : [c.live]));
  return `if (p - off < length) { ${read} } else { ${live.map((c) => `c${c.index} = ${fillSource(c)};`).join(' ')} }`;
}

/** The object literal every decoded row is built from, so all rows of a table share one hidden class. */
function rowLiteral(schema: TableSchema): string {
  return `{ ${schema.columns.map((c) => `${JSON.stringify(c.name)}: c${c.index}`).join(', ')} }`;
}

function decodeGroupSource(g: Group): string {
  const fixed = g.fixed.map((c) => {
    if (c.live === null) return `p += ${c.fixedBytes};`;
    const read = fixedExpr(c.live, 'p');
    return `c${c.live.index} = ${c.nullable ? `${nullTest(g, c)} ? null : ${read}` : read}; p += ${c.fixedBytes};`;
  });
  const variable = g.variable.map((c) => {
    if (c.live === null) return skipVariableSource('p');
    const i = c.live.index;
    const read = readValueSource(c.live, `c${i}`, 'p');
    // A null variable-width column is a single zero length byte.
    return c.nullable ? `if (${nullTest(g, c)}) { c${i} = null; p += 1; } else { ${read} }` : read;
  });
  return groupPresence(g, `const bm${g.n} = p; p += ${g.bitmapBytes};\n${fixed.join('\n')}\n${variable.join('\n')}`);
}

function decodeSource(schema: TableSchema, layout: Layout): string {
  return `function decode(u8, dv, off, length) {
let p = off, n = 0, ${schema.columns.map((c) => `c${c.index}`).join(', ')};
${layout.keys.map((c) => readKeySource(c, `c${c.index}`, 'p')).join('\n')}
${layout.groups.map(decodeGroupSource).join('\n')}
if (p - off !== length) throw H.corrupt(length, p - off);
return ${rowLiteral(schema)};
}`;
}

/** The switch cases of decodeColumns() for group g's live columns, and where the group's starts are found. */
function decodeColumnsGroup(g: Group, cases: Map<number, string>): string {
  let fixedOffset = 0;
  const guard = (c: Column, read: string): string =>
    g.n === 0 ? read : `if (!h${g.n}) out[${JSON.stringify(c.name)}] = ${fillSource(c)}; else { ${read} }`;
  for (const lc of g.fixed) {
    const c = lc.live;
    if (c !== null) {
      const read = fixedExpr(c, `f${g.n} + ${fixedOffset}`);
      const value = c.nullable ? `${nullTest(g, lc)} ? null : ${read}` : read;
      cases.set(c.index, guard(c, `out[${JSON.stringify(c.name)}] = ${value};`));
    }
    fixedOffset += lc.fixedBytes;
  }
  const starts: string[] = [];
  for (const lc of g.variable) {
    const c = lc.live;
    if (c === null) {
      starts.push(skipVariableSource('p'));
      continue;
    }
    const target = `out[${JSON.stringify(c.name)}]`;
    const read = `q = q${c.index}; ${readValueSource(c, target, 'q')}`;
    cases.set(c.index, guard(c, c.nullable ? `if (${nullTest(g, lc)}) ${target} = null; else { ${read} }` : read));
    starts.push(`q${c.index} = p; ${skipVariableSource('p')}`);
  }
  const body = `bm${g.n} = p; f${g.n} = p + ${g.bitmapBytes}; p = f${g.n} + ${g.fixedBytes};\n${starts.join('\n')}`;
  return g.n === 0 ? body : `if (p - off < length) { h${g.n} = true; ${body} }`;
}

/** decodeColumns(): finds where each key and variable-width column starts, then reads only those asked for. */
function decodeColumnsSource(schema: TableSchema, layout: Layout): string {
  const starts = schema.columns
    .filter((c) => c.fixedBytes === 0 || layout.keys.includes(c))
    .map((c) => `q${c.index} = 0`);
  const cases = new Map<number, string>();
  for (const c of layout.keys)
    cases.set(c.index, `q = q${c.index}; ${readKeySource(c, `out[${JSON.stringify(c.name)}]`, 'q')}`);
  const groups = layout.groups.map((g) => decodeColumnsGroup(g, cases));
  const marks = layout.groups.map((g) => `${g.n === 0 ? '' : `h${g.n} = false, `}bm${g.n} = 0, f${g.n} = 0`);
  const switchCases = schema.columns.map((c) => `case ${c.index}: { ${cases.get(c.index)} break; }`);
  return `function decodeColumns(u8, dv, off, length, columns) {
let p = off, n = 0, q = 0${starts.map((s) => `, ${s}`).join('')}, ${marks.join(', ')};
${layout.keys.map((c) => `q${c.index} = p; ${skipKeySource(c, 'p')}`).join('\n')}
${groups.join('\n')}
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
