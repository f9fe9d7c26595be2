/**
 * The example's command lines as the README writes them: pnpm 10 passes the
 * `--` of `pnpm … start -- --dir d` through to the script, so both scripts
 * accept it in front; a mistake in an option is a UsageError.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadArgs, startArgs, UsageError } from '../src/args.js';

test('start: the arguments pnpm 10 passes (a leading --) and those older pnpm passes', () => {
  assert.equal(startArgs(['--', '--dir', 'bank-data', '--port', '8080']), {
    dir: 'bank-data',
    port: 8080,
    cluster: null,
  });
  assert.equal(startArgs(['--dir', 'other', '--port', '9000']), { dir: 'other', port: 9000, cluster: null });
  assert.equal(startArgs([]), { dir: 'bank-data', port: 8080, cluster: null });
  assert.equal(startArgs(['--nats', 'nats://a:4222,nats://b:4222', '--node', 'n1', '--user', 'u', '--pass', 'p']), {
    dir: 'bank-data',
    port: 8080,
    cluster: { servers: ['nats://a:4222', 'nats://b:4222'], stream: 'bank', node: 'n1', user: 'u', pass: 'p' },
  });
  assert.throws(
    () => startArgs(['--nats', 'nats://a:4222']),
    (e: unknown) => e instanceof UsageError,
  );
});

test('load: the arguments pnpm 10 passes, and the defaults', () => {
  assert.equal(loadArgs(['--', '--seconds', '10', '--concurrency', '64']), {
    url: 'http://127.0.0.1:8080',
    seconds: 10,
    concurrency: 64,
    accounts: 1000,
  });
  assert.equal(loadArgs(['--url', 'http://127.0.0.1:9000', '--accounts', '20']).accounts, 20);
});

test('a mistake is a UsageError naming the option', () => {
  assert.throws(
    () => startArgs(['--', '--port', 'eighty']),
    (e: unknown) => e instanceof UsageError && /--port must be an integer/.test((e as Error).message),
  );
  assert.throws(
    () => loadArgs(['--seconds', '0']),
    (e: unknown) => e instanceof UsageError && /--seconds/.test((e as Error).message),
  );
  assert.throws(
    () => startArgs(['--', '--dri', 'x']),
    (e: unknown) => e instanceof UsageError && /--dri/.test((e as Error).message),
  );
  assert.throws(
    () => startArgs(['--', 'stray']),
    (e: unknown) => e instanceof UsageError,
  );
});

test.run();
