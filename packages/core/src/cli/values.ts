/**
 * Rows in and out of text, by column type, so that export then import gives
 * back the same rows:
 *
 *   type     NDJSON out                              NDJSON in            CSV in
 *   int32    number                                  number               digits
 *   int64    number if safe, else a string of digits number or string    digits
 *   float64  number (NaN, ±Infinity, -0 as strings)  number or string     a number
 *   boolean  true / false                            true / false         true/false/1/0
 *   string   string                                  string               the field as is
 *   bytes    base64 string                           base64 string        base64
 *   json     the value                               the value            JSON text
 *
 * null is null (CSV: an empty field, except for a string column, where it
 * is the empty string). A field missing from a row is left out, so the
 * column's default applies.
 */
import type { Column, Row, TableSchema } from '../schema/types.js';
import { CliError } from './output.js';

function outValue(column: Column, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'int64': {
      const v = value as bigint;
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    }
    case 'float64':
      if (Object.is(value, -0)) return '-0'; // JSON would write 0
      return Number.isFinite(value as number) ? value : String(value);
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64');
    default:
      return value;
  }
}

/** A row as the JSON object of one NDJSON line. */
export function rowToJson(schema: TableSchema, row: Row): string {
  const out: Record<string, unknown> = {};
  for (const column of schema.columns) out[column.name] = outValue(column, row[column.name]);
  return JSON.stringify(out);
}

function bad(column: Column, value: unknown, why: string): CliError {
  return new CliError(
    `column "${column.name}" (${column.type}): ${why}, got ${JSON.stringify(value)}`,
    'TM_SCHEMA_VIOLATION',
  );
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 text as bytes; Buffer.from would skip characters that are not base64 without a word. */
function base64(column: Column, text: string): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64.test(text))
    throw bad(column, text, 'expected base64 (A-Z a-z 0-9 + /, padded with = to a multiple of 4)');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function fromJson(column: Column, value: unknown): unknown {
  if (value === null) return null;
  switch (column.type) {
    case 'int64':
      // A JSON number beyond 2^53 was already rounded by JSON.parse: refuse it rather than store another value.
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === 'number' && Number.isInteger(value))
        throw bad(
          column,
          value,
          'an integer beyond 2^53 must be written as a string of digits (as a JSON number it has lost digits)',
        );
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
      throw bad(column, value, 'expected an integer or a string of digits');
    case 'float64':
      if (typeof value === 'number') return value;
      if (value === 'NaN' || value === 'Infinity' || value === '-Infinity' || value === '-0') return Number(value);
      throw bad(column, value, 'expected a number');
    case 'bytes':
      if (typeof value === 'string') return base64(column, value);
      throw bad(column, value, 'expected a base64 string');
    default:
      return value; // the engine checks int32, boolean, string and json values itself
  }
}

function fromCsv(column: Column, field: string): unknown {
  if (field === '' && column.type !== 'string') return null;
  switch (column.type) {
    case 'int32':
    case 'float64': {
      const n = Number(field);
      if (field.trim() === '' || (Number.isNaN(n) && field !== 'NaN')) throw bad(column, field, 'expected a number');
      return n;
    }
    case 'int64':
      if (!/^-?\d+$/.test(field)) throw bad(column, field, 'expected an integer');
      return BigInt(field);
    case 'boolean':
      if (field === 'true' || field === '1') return true;
      if (field === 'false' || field === '0') return false;
      throw bad(column, field, 'expected true, false, 1 or 0');
    case 'bytes':
      return base64(column, field);
    case 'json':
      try {
        return JSON.parse(field);
      } catch {
        throw bad(column, field, 'expected JSON text');
      }
    default:
      return field;
  }
}

function convert(
  schema: TableSchema,
  record: Record<string, unknown>,
  one: (column: Column, value: unknown) => unknown,
): Row {
  const row: Row = {};
  for (const [name, value] of Object.entries(record)) {
    const column = schema.columnsByName.get(name);
    if (column === undefined) throw new CliError(`table "${schema.name}" has no column "${name}"`, 'TM_UNKNOWN_COLUMN');
    row[name] = one(column, value);
  }
  return row;
}

/** One NDJSON line as a row of the table. */
export function rowFromJsonLine(schema: TableSchema, line: string): Row {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new CliError(`not JSON: ${(error as Error).message}`, 'TM_SCHEMA_VIOLATION');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new CliError('a line must hold one JSON object', 'TM_SCHEMA_VIOLATION');
  return convert(schema, parsed as Record<string, unknown>, fromJson);
}

/** One CSV record (header name to field) as a row of the table. */
export function rowFromCsv(schema: TableSchema, record: Record<string, string>): Row {
  return convert(schema, record, (column, value) => fromCsv(column, value as string));
}
