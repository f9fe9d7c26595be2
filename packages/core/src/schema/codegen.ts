/**
 * Source snippets for the generated row and key codecs (assembled in codec.ts),
 * and the value checks they share with `defineTable`.
 *
 * Conventions of the generated source:
 * - `u8` and `dv` view the same bytes from the same start, so one position `p`
 *   indexes both.
 * - Column i's stashed value is `v{i}`, its encoded byte length (string, bytes,
 *   json) is `l{i}`, and a json column's text is `t{i}`: closure variables of
 *   one codec, written by measure and read by encodeMeasured, so no call
 *   allocates a place to keep them.
 * - `n` is a scratch length, `H` the helper object (errors, defaults).
 * Every snippet is straight-line code for one column; no generated function
 * loops over column descriptors (decodeColumns loops over the positions it is
 * asked for, each one a `switch` case of straight-line code).
 */
import { AssertionError } from '../assert.js';
import { MAX_KEY_BYTES, MAX_ROW_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { Column, ColumnType, TableSchema } from './types.js';
import { utf8Length, utf8Read, utf8Write } from './utf8.js';

type Typed = Pick<Column, 'type' | 'nullable'>;

/** Why a value does not fit a type, as a JS condition on `$` (true = invalid). json is checked by serializing. */
const INVALID: Readonly<Record<Exclude<ColumnType, 'json'>, string>> = {
  int32: "typeof $ !== 'number' || ($ | 0) !== $",
  int64: "typeof $ !== 'bigint' || $ < -0x8000000000000000n || $ > 0x7fffffffffffffffn",
  float64: "typeof $ !== 'number'",
  boolean: "typeof $ !== 'boolean'",
  string: "typeof $ !== 'string'",
  bytes: '!($ instanceof Uint8Array)',
};

/** What a column of each type holds, for messages. */
export const EXPECTED: Readonly<Record<ColumnType, string>> = {
  int32: 'an int32 (an integer from -2147483648 to 2147483647)',
  int64: 'an int64 (a bigint from -(2n ** 63n) to 2n ** 63n - 1n)',
  float64: 'a float64 (a number)',
  boolean: 'a boolean',
  string: 'a string',
  bytes: 'bytes (a Uint8Array)',
  json: 'json (a value JSON.stringify can serialize)',
};

// The same conditions, compiled once for checks outside generated code (defaults).
const INVALID_FN = Object.fromEntries(
  Object.entries(INVALID).map(([type, condition]) => [type, new Function('$', `return ${condition};`)]),
) as Record<keyof typeof INVALID, (value: unknown) => boolean>;

/** JSON text of a value, or undefined when JSON.stringify throws or gives nothing (undefined, functions, symbols). */
export function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with a non-null value for a column ("must be ..., got ..."), or
 * undefined when it fits. Used for defaults; the codec runs the same conditions.
 */
export function valueProblem(column: Typed, value: unknown): string | undefined {
  if (column.type === 'json') {
    const text = jsonText(value);
    if (text === undefined) return `must be ${EXPECTED.json}, got ${describe(value)}`;
    if (text === 'null' && !column.nullable) return `serializes to JSON null but the column is not nullable`;
    return undefined;
  }
  return INVALID_FN[column.type](value) ? `must be ${EXPECTED[column.type]}, got ${describe(value)}` : undefined;
}

/** A short description of a value for messages; never throws. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length > 40
        ? `${JSON.stringify(value.slice(0, 40))}... (a string)`
        : `${JSON.stringify(value)} (a string)`;
    case 'bigint':
      return `${value}n`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
      return Array.isArray(value) ? 'an array' : 'an object';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return String(value);
  }
}

/** `obj.name` as source; names Object.prototype also has are read as own properties only. */
export function propSource(c: Column, obj: string): string {
  const name = JSON.stringify(c.name);
  return c.name in Object.prototype ? `(hasOwn(${obj}, ${name}) ? ${obj}[${name}] : undefined)` : `${obj}[${name}]`;
}

/** Encoded size of length `l`'s varint plus the bytes, as an expression. */
const varSize = (l: string): string => `(${l} < 128 ? 1 : varintSize(${l})) + ${l}`;

/**
 * Statements that take non-null `v` for column c, check it (when `check`),
 * stash its byte length / JSON text, and add its variable size to `acc`.
 * `keyNullable`: the column sits in a key where its fixed bytes only follow a
 * present value, so they are not part of the constant size.
 */
export function measureValueSource(c: Column, acc: string, check: boolean, keyNullable: boolean): string {
  const i = c.index;
  const test = check && c.type !== 'json' ? `if (${INVALID[c.type].replaceAll('$', 'v')}) throw H.bad(${i}, v);\n` : '';
  switch (c.type) {
    case 'string':
      return `${test}l${i} = utf8Length(v); ${acc} += ${varSize(`l${i}`)};`;
    case 'bytes':
      return `${test}l${i} = v.length; ${acc} += ${varSize(`l${i}`)};`;
    case 'json': {
      // JSON null is stored as SQL null (a zero length byte), so every null reads back the same way.
      const onNull = c.nullable ? `v = null; ${acc} += 1;` : `throw H.badJson(${i}, v);`;
      return `t${i} = jsonText(v);
if (t${i} === undefined) throw H.badJson(${i}, v);
if (t${i} === 'null') { ${onNull} } else { l${i} = utf8Length(t${i}); ${acc} += ${varSize(`l${i}`)}; }`;
    }
    default:
      return keyNullable ? `${test}${acc} += ${c.fixedBytes};` : test;
  }
}

const writeLength = (l: string): string => `if (${l} < 128) u8[p++] = ${l}; else p = writeVarint(u8, p, ${l});`;

/** Statements writing non-null `v{i}` at `p`; `canonical` turns -0 to +0 and every NaN to one bit pattern (keys). */
export function writeValueSource(c: Column, canonical: boolean): string {
  const v = `v${c.index}`;
  const l = `l${c.index}`;
  switch (c.type) {
    case 'int32':
      return `dv.setInt32(p, ${v}, true); p += 4;`;
    case 'int64':
      return `dv.setBigInt64(p, ${v}, true); p += 8;`;
    case 'float64':
      if (!canonical) return `dv.setFloat64(p, ${v}, true); p += 8;`;
      return `if (${v} === 0) dv.setFloat64(p, 0, true);
else if (${v} !== ${v}) { dv.setInt32(p, 0, true); dv.setInt32(p + 4, 0x7ff80000, true); }
else dv.setFloat64(p, ${v}, true);
p += 8;`;
    case 'boolean':
      return `u8[p++] = ${v} ? 1 : 0;`;
    case 'string':
      return `${writeLength(l)} p += utf8Write(${v}, u8, p);`;
    case 'bytes':
      return `${writeLength(l)} u8.set(${v}, p); p += ${l};`;
    case 'json':
      return `${writeLength(l)} p += utf8Write(t${c.index}, u8, p);`;
  }
}

/** Statements writing a key column: a presence byte first when nullable. */
export function writeKeySource(c: Column): string {
  const body = writeValueSource(c, true);
  return c.nullable ? `if (v${c.index} === null) u8[p++] = 0; else { u8[p++] = 1; ${body} }` : body;
}

/** Statements writing a non-key column of the row: zeros for a null fixed column, length 0 for a null variable one. */
export function writeRowSource(c: Column): string {
  const body = writeValueSource(c, false);
  if (!c.nullable) return body;
  // One zero byte is a null boolean or the zero length of a null variable-width column.
  const zeros =
    c.fixedBytes <= 1
      ? 'u8[p++] = 0;'
      : c.fixedBytes === 4
        ? 'dv.setInt32(p, 0, true); p += 4;'
        : 'dv.setInt32(p, 0, true); dv.setInt32(p + 4, 0, true); p += 8;';
  return `if (v${c.index} === null) { ${zeros} } else { ${body} }`;
}

/** Reads a varint length at position `q` into `n`, moving `q` past it. */
const readLength = (q: string): string =>
  `n = u8[${q}++]; if (n > 127) { n = readVarint(u8, ${q} - 1); ${q} += varintSize(n) - 1; }`;

/** Expression reading a fixed-width column at position `q` (does not move it). */
export function fixedExpr(c: Column, q: string): string {
  switch (c.type) {
    case 'int32':
      return `dv.getInt32(${q}, true)`;
    case 'int64':
      return `dv.getBigInt64(${q}, true)`;
    case 'float64':
      return `dv.getFloat64(${q}, true)`;
    case 'boolean':
      return `u8[${q}] !== 0`;
    default:
      throw new Error(`not a fixed-width type: ${c.type}`);
  }
}

/** Statements reading a present value of column c at `q` into `target`, moving `q` past it. */
export function readValueSource(c: Column, target: string, q: string): string {
  if (c.fixedBytes > 0) return `${target} = ${fixedExpr(c, q)}; ${q} += ${c.fixedBytes};`;
  const read =
    c.type === 'string'
      ? `utf8Read(u8, ${q}, n)`
      : c.type === 'bytes'
        ? `copyBytes(u8, ${q}, ${q} + n)`
        : `JSON.parse(utf8Read(u8, ${q}, n))`;
  return `${readLength(q)} ${target} = ${read}; ${q} += n;`;
}

/** Statements reading a key column at `q` into `target`. */
export function readKeySource(c: Column, target: string, q: string): string {
  const body = readValueSource(c, target, q);
  return c.nullable ? `if (u8[${q}++] === 0) ${target} = null; else { ${body} }` : body;
}

/** Statements moving `q` past a key column. */
export function skipKeySource(c: Column, q: string): string {
  const body = c.fixedBytes > 0 ? `${q} += ${c.fixedBytes};` : `${readLength(q)} ${q} += n;`;
  return c.nullable ? `if (u8[${q}++] !== 0) { ${body} }` : body;
}

/** Statements moving `q` past a variable-width non-key column of the row. */
export const skipVariableSource = (q: string): string => `${readLength(q)} ${q} += n;`;

/** Bytes of the LEB128 varint of a non-negative integer below 2^31 (every length here is). */
export function varintSize(n: number): number {
  let bytes = 1;
  for (let rest = n >>> 7; rest !== 0; rest >>>= 7) bytes++;
  return bytes;
}

export function writeVarint(u8: Uint8Array, p: number, n: number): number {
  let rest = n;
  while (rest >= 0x80) {
    u8[p++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  u8[p++] = rest;
  return p;
}

export function readVarint(u8: Uint8Array, p: number): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = u8[p++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 0x80;
  }
}

const sliceBytes = Uint8Array.prototype.slice;

/** A copy of u8[start..end); Uint8Array's own slice, since a Buffer's slice() is a view. */
function copyBytes(u8: Uint8Array, start: number, end: number): Uint8Array {
  return sliceBytes.call(u8, start, end);
}

/** The errors generated code throws; built outside it so the hot path holds no message strings. */
export interface CodecErrors {
  notObject(row: unknown): Error;
  missing(column: number): Error;
  isNull(column: number): Error;
  bad(column: number, value: unknown): Error;
  badJson(column: number, value: unknown): Error;
  arity(key: unknown): Error;
  /** Throws UNKNOWN_COLUMN when the row has an own property that is not a column; returns otherwise. */
  unknownColumn(row: unknown): void;
  /** `index` -1 is the primary key. */
  keyTooLarge(index: number, bytes: number): Error;
  rowTooLarge(bytes: number): Error;
  corrupt(expected: number, actual: number): Error;
  badPosition(position: unknown): Error;
}

/** Errors of a row codec (`keyOf` undefined) or of a key codec (label "primary key" or 'index "x"', and its columns). */
export function codecErrors(schema: TableSchema, keyOf?: { label: string; columns: readonly number[] }): CodecErrors {
  const key = keyOf?.label;
  const keyColumns = keyOf?.columns.map((i) => `"${schema.columns[i]!.name}"`).join(', ') ?? '';
  const table = `table "${schema.name}"`;
  const at = key === undefined ? '' : `${key} of ${table}: `;
  const column = (i: number): string =>
    `${at}column "${schema.columns[i]!.name}"${key === undefined ? ` of ${table}` : ''}`;
  const violation = (message: string): TidemarkError => new TidemarkError(ErrorCode.SCHEMA_VIOLATION, message);
  const tooLarge = (message: string): TidemarkError => new TidemarkError(ErrorCode.ROW_TOO_LARGE, message);
  const keyName = (index: number): string =>
    key ?? (index < 0 ? 'primary key' : `key of index "${schema.indexes[index]!.name}"`);
  return {
    notObject: (row) => violation(`a row of ${table} must be an object, got ${describe(row)}`),
    missing: (i) =>
      violation(`${column(i)} is missing${key === undefined ? ': it is not nullable and has no default' : ''}`),
    isNull: (i) => violation(`${column(i)} is not nullable, got null`),
    bad: (i, v) => violation(`${column(i)} must be ${EXPECTED[schema.columns[i]!.type]}, got ${describe(v)}`),
    badJson: (i, v) =>
      violation(
        `${column(i)} must be ${EXPECTED.json}${schema.columns[i]!.nullable ? '' : ' other than null'}, got ${describe(v)}`,
      ),
    arity: (value) => violation(`${at}a key of column(s) ${keyColumns} must be ${KEY_SHAPE}, got ${describe(value)}`),
    unknownColumn: (row) => {
      for (const name of Object.keys(row as object)) {
        if (!schema.columnsByName.has(name))
          throw new TidemarkError(ErrorCode.UNKNOWN_COLUMN, `${table} has no column "${name}"`);
      }
    },
    keyTooLarge: (index, bytes) =>
      tooLarge(`the ${keyName(index)} of ${table} is ${bytes} bytes, over the limit of ${MAX_KEY_BYTES}`),
    rowTooLarge: (bytes) => tooLarge(`a row of ${table} is ${bytes} bytes, over the limit of ${MAX_ROW_BYTES}`),
    corrupt: (expected, actual) =>
      new AssertionError(`${table}: decoded ${actual} bytes of a ${expected}-byte row payload`),
    badPosition: (position) => new AssertionError(`${table} has no column at position ${String(position)}`),
  };
}

const KEY_SHAPE =
  'the bare value (one column), an array of the values in key order, or an object with the column names';

const HEADER =
  'const { utf8Length, utf8Write, utf8Read, varintSize, writeVarint, readVarint, jsonText, copyBytes, hasOwn, isArray, D } = H;';

/** Compiles a codec factory `body` (which ends by returning the codec's functions) against the helpers. */
export function compile<T>(body: string, errors: CodecErrors, defaults: readonly unknown[]): T {
  const helpers = {
    ...errors,
    utf8Length,
    utf8Write,
    utf8Read,
    varintSize,
    writeVarint,
    readVarint,
    jsonText,
    copyBytes,
    hasOwn: Object.hasOwn,
    isArray: Array.isArray,
    D: defaults,
  };
  return new Function('H', `'use strict';\n${HEADER}\n${body}`)(helpers) as T;
}
