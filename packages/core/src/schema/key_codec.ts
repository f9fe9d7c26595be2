/**
 * Key codecs: the primary key and each secondary index key, generated like
 * the row codec (docs/FORMAT.md, "Key encoding"), and the hash of key bytes.
 */
import { MAX_KEY_BYTES } from '../constants.js';
import { codecErrors, compile, measureValueSource, propSource, readKeySource, writeKeySource } from './codegen.js';
import type { Column, Row, TableSchema } from './types.js';

/** Closure variables holding what measure() found for encodeMeasured(). */
export function stashSource(columns: readonly Column[]): string {
  const names = columns.flatMap((c) => [
    `v${c.index} = null`,
    ...(c.fixedBytes === 0 ? [`l${c.index} = 0`] : []),
    ...(c.type === 'json' ? [`t${c.index} = ''`] : []),
  ]);
  return `let ${names.join(', ')};`;
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
export function makeKeyCodec(schema: TableSchema, positions: readonly number[], label: string): KeyCodec {
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
