/**
 * Errors crossing a thread boundary: `toWire` in the worker, `fromWire` on
 * the main thread, and every code registered and documented.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CliErrorCode, ErrorCode, fromWire, TidemarkError, toWire } from '../src/errors.js';
import { RecoveryCanceled } from '../src/recovery/ring_sink.js';

test('every registered code survives the round trip, with its message', () => {
  for (const code of Object.values(ErrorCode)) {
    const wire = toWire(new TidemarkError(code, `failed with ${code}`));
    assert.equal(wire, { code, message: `failed with ${code}` });
    // What a worker posts is a structured clone of the wire form.
    const back = fromWire(structuredClone(wire));
    assert.ok(back instanceof TidemarkError);
    assert.is(back.code, code);
    assert.is(back.message, `failed with ${code}`);
    assert.is(back.retryable, code === ErrorCode.CONFLICT || code === ErrorCode.BUSY);
  }
});

test('fromWire puts the context first and keeps the cause', () => {
  const cause = new Error('the clone');
  const error = fromWire({ code: ErrorCode.DISK_FULL, message: 'no space' }, 'log writer', { cause });
  assert.is(error.code, ErrorCode.DISK_FULL);
  assert.is(error.message, 'log writer: no space');
  assert.is(error.cause, cause);
});

test('an unknown or missing code comes back as IO_ERROR', () => {
  assert.is(fromWire({ code: 'TM_NOT_A_CODE', message: 'x' }).code, ErrorCode.IO_ERROR);
  assert.is(fromWire({ code: 42, message: 'x' }).code, ErrorCode.IO_ERROR);
  assert.is(fromWire({ message: 'x' }).code, ErrorCode.IO_ERROR);
  assert.equal(toWire(Object.assign(new Error('odd'), { code: 'TM_NOT_A_CODE' })), {
    code: ErrorCode.IO_ERROR,
    message: 'odd',
  });
});

test('an error that is not a TidemarkError goes on the wire as IO_ERROR', () => {
  assert.equal(toWire(new TypeError('bug')), { code: ErrorCode.IO_ERROR, message: 'bug' });
  // An errno the file layer did not map is not a Tidemark code.
  assert.equal(toWire(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })), {
    code: ErrorCode.IO_ERROR,
    message: 'EIO: i/o error',
  });
  assert.equal(toWire('thrown text'), { code: ErrorCode.IO_ERROR, message: 'thrown text' });
  assert.equal(toWire(undefined), { code: ErrorCode.IO_ERROR, message: 'undefined' });
  // A worker's 'error' event hands over a clone that kept the code as an own property.
  const clone = Object.assign(new Error('failed'), { code: ErrorCode.CORRUPT });
  assert.is(fromWire(clone, 'streamer').code, ErrorCode.CORRUPT);
});

test('a canceled recovery task reports CANCELED', () => {
  const canceled = new RecoveryCanceled();
  assert.ok(canceled instanceof TidemarkError);
  assert.equal(toWire(canceled), { code: ErrorCode.CANCELED, message: 'recovery canceled' });
});

test('every code is documented in the README table of codes', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  for (const code of [...Object.values(ErrorCode), ...Object.values(CliErrorCode)])
    assert.ok(readme.includes(`| \`${code}\``), `${code} has a row in the README`);
});

test.run();
