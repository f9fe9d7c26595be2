/**
 * A process with an open database ends the way its author expects: a
 * script that returns without close() ends by itself with every commit
 * durable (the delayed ones too); with closeOnSignals a SIGTERM closes the
 * database cleanly before the signal ends the process; and a one-liner run
 * as `node --input-type=module -e` can open a database (its flags are not
 * passed to the engine's threads). Children run the built bundle.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open } from '../src/index.js';
import { workerExecArgv } from '../src/threads/exec_argv.js';
import { tempDirs } from './helpers/dirs.js';

const child = fileURLToPath(new URL('./fixtures/exit_child.mjs', import.meta.url));
const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;
/** Generous: a child that has not ended by then never would. */
const EXIT_DEADLINE_MS = 30_000;

const dirs = tempDirs('tidemark-end-');
test.after(() => dirs.cleanup());

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Runs node with `args`; calls `onReady` at the child's `ready` line; fails if it has not ended by the deadline. */
function run(args: string[], onReady?: (pid: number) => void): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const deadline = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the child did not end within ${EXIT_DEADLINE_MS} ms; stdout: ${out}; stderr: ${err}`));
    }, EXIT_DEADLINE_MS);
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (onReady !== undefined && out.includes('ready\n')) {
        onReady(proc.pid!);
        onReady = undefined;
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, out, err });
    });
  });
}

/** Reopens `dir` and checks it holds every row the child committed (0..199). */
async function expectEveryCommit(dir: string): Promise<{ records: number; tornTail: unknown }> {
  const db = await open({ dir });
  try {
    const kv = db.table('kv');
    assert.is(kv.size, 200, 'every commit, the delayed ones too');
    assert.equal(kv.get(0), { k: 0, v: 'durable' });
    assert.equal(kv.get(150), { k: 150, v: 'delayed' });
    assert.equal(kv.get(102), { k: 102, v: 'sync' });
    return { records: db.recovery!.records, tornTail: db.recovery!.tornTail };
  } finally {
    await db.close();
  }
}

test('a script that returns without close() ends by itself, its delayed commits durable', async () => {
  const dir = dirs.make();
  const ended = await run([child, dir, 'return']);
  assert.is(ended.code, 0, ended.err);
  assert.ok(ended.out.includes('ready'), ended.err);
  const recovery = await expectEveryCommit(dir);
  // It closed, not crashed: the final checkpoint covers everything, and no log is left to replay.
  assert.is(recovery.records, 0);
  assert.is(recovery.tornTail, null);
});

test('with closeOnSignals, SIGTERM closes the database and then ends the process as the signal would', async () => {
  const dir = dirs.make();
  const ended = await run([child, dir, 'signal'], (pid) => process.kill(pid, 'SIGTERM'));
  assert.is(ended.signal, 'SIGTERM', `code ${ended.code}: ${ended.err}`);
  const recovery = await expectEveryCommit(dir);
  assert.is(recovery.records, 0, 'a clean close: nothing to replay');
  assert.is(recovery.tornTail, null);
});

test('a one-liner run with --input-type=module -e opens, writes and closes', async () => {
  const dir = dirs.make();
  const script = `
    import { open } from ${JSON.stringify(dist)};
    const db = await open({ dir: ${JSON.stringify(dir)}, tables: [{ name: 't', columns: [{ name: 'k', type: 'int32' }], primaryKey: ['k'] }] });
    await db.table('t').insert({ k: 1 });
    await db.close();
    console.log('closed');`;
  const ended = await run(['--input-type=module', '--no-warnings', '-e', script]);
  assert.is(ended.code, 0, ended.err);
  assert.ok(ended.out.includes('closed'));
});

test('worker flags: main-script flags are dropped with their values, loaders and conditions kept', () => {
  assert.is(workerExecArgv(['--import', 'tsx', '--conditions=source']), undefined, 'nothing to drop: inherited as is');
  assert.equal(
    workerExecArgv([
      '--input-type=module',
      '-e',
      'code --import x',
      '--import',
      'tsx',
      '-C',
      'source',
      '--max-old-space-size=512',
    ]),
    ['--import', 'tsx', '-C', 'source'],
  );
  assert.equal(workerExecArgv(['-p', '1', '--enable-source-maps', '--expose-gc', '--no-warnings']), [
    '--enable-source-maps',
    '--no-warnings',
  ]);
  assert.equal(workerExecArgv(['--test', '--test-reporter=dot', '--loader', 'tsx', '--experimental-vm-modules']), [
    '--loader',
    'tsx',
    '--experimental-vm-modules',
  ]);
});

test.run();
