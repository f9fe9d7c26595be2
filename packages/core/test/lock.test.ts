/**
 * The LOCK (files/lock.ts): the operating system's lock decides who owns a
 * directory, never the bytes in LOCK. A garbled LOCK, or one naming a live
 * unrelated process, does not block; a SIGKILLed owner never blocks; a
 * second open in this process, by any path to the directory, is refused.
 * The interleaving where an owner lets go between another opener's open
 * and its lock is replayed on the simulated file system.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, open } from '../src/index.js';
import { acquireLock, parseLockLine } from '../src/files/lock.js';
import { SimFileLayer } from '../src/files/sim_layer.js';
import { rejectsWith, tempDirs } from './helpers/dirs.js';
import { eventually } from './helpers/wait.js';

const dirs = tempDirs('tidemark-lock-');
const racerPath = fileURLToPath(new URL('./fixtures/lock_racer.ts', import.meta.url));

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** A live process that has nothing to do with any database. */
function bystander(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

test('a second open in this process gets TM_LOCKED, by the same path or another one to the directory', async () => {
  const dir = dirs.make();
  const alias = `${dirs.make()}/alias`;
  symlinkSync(dir, alias);
  const db = await open({ dir, checkpoints: false });
  try {
    await rejectsWith(() => open({ dir, checkpoints: false }), ErrorCode.LOCKED, 'this process');
    await rejectsWith(() => open({ dir: alias, checkpoints: false }), ErrorCode.LOCKED, `process ${process.pid}:`);
    const owner = parseLockLine(readFileSync(join(dir, 'LOCK'), 'utf8'));
    assert.equal(owner, { pid: process.pid, started: startTime(process.pid), host: hostname() });
  } finally {
    await db.close();
  }
  assert.not.ok(existsSync(join(dir, 'LOCK')), 'close removes the LOCK');
});

test('a garbled, truncated or foreign LOCK never blocks open, even when it names a live process', async () => {
  const live = bystander();
  try {
    await eventually(() => existsSync(`/proc/${live.pid}/stat`), 'the bystander runs');
    const pid = live.pid!;
    const contents = [
      `${pid} ${startTime(pid)} ${hostname()}\n`, // well formed: a live process that does not hold the lock
      `${pid} ${startTime(pid)}\n`, // as earlier versions wrote it
      `${pid}`, // truncated
      `${pid} ${startTime(pid)} ${hostname()}`.slice(0, 5),
      '\0\0\0\0\0\0\0\0',
      '',
      'not a lock at all\n',
    ];
    for (const content of contents) {
      const dir = dirs.make();
      writeFileSync(join(dir, 'LOCK'), content);
      const db = await open({ dir, checkpoints: false });
      assert.is(
        parseLockLine(readFileSync(join(dir, 'LOCK'), 'utf8'))?.pid,
        process.pid,
        `the winner's line replaces ${JSON.stringify(content)}`,
      );
      await db.close();
    }
  } finally {
    live.kill('SIGKILL');
  }
});

test('a SIGKILLed owner never blocks the next open; while it lived, TM_LOCKED named it', async () => {
  const dir = dirs.make();
  const owner = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', racerPath], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let said = '';
  owner.stdout!.on('data', (chunk: Buffer) => (said += chunk.toString()));
  owner.stdin!.write(`${JSON.stringify({ round: 0, how: 'open', dir, startAt: 0 })}\n`);
  await eventually(() => said.includes('\n'), 'the owner opens the directory', 30_000);
  assert.is(JSON.parse(said).outcome, 'won');
  await rejectsWith(() => open({ dir, checkpoints: false }), ErrorCode.LOCKED, `process ${owner.pid}:`);
  const exited = new Promise((done) => owner.once('exit', done));
  owner.kill('SIGKILL');
  await exited;
  // No wait and no retry: the kernel dropped the lock with the process.
  const db = await open({ dir, checkpoints: false });
  await db.close();
});

/** Another owner's hold on /db/LOCK on `layer`, taken as lock.ts takes it; returns its handle. */
function otherOwner(layer: SimFileLayer): number {
  const fd = layer.open('/db/LOCK', true);
  assert.ok(layer.tryLock(fd));
  const line = new TextEncoder().encode(`${process.pid} ${startTime(process.pid)} ${hostname()}\n`);
  layer.write(fd, line, 0, line.length, 0);
  return fd;
}

/** A simulated /db held by another owner, where `between` runs once just before the next tryLock: other processes acting in between. */
function interleaved(between: (layer: SimFileLayer, owner: number) => void): SimFileLayer {
  const layer = new SimFileLayer();
  layer.mkdir('/db');
  const owner = otherOwner(layer);
  const tryLock = layer.tryLock.bind(layer);
  let pending: typeof between | null = between;
  layer.tryLock = (fd: number): boolean => {
    const run = pending;
    pending = null;
    run?.(layer, owner);
    return tryLock(fd);
  };
  return layer;
}

test("an owner that lets go between an opener's open and its lock: the opener takes the next LOCK, or loses to whoever did", async () => {
  // The owner removes its file and closes it; nobody else comes: the opener's retry creates a new LOCK and wins.
  let layer = interleaved((l, owner) => {
    l.unlink('/db/LOCK');
    l.close(owner);
  });
  const lock = await acquireLock(layer, '/db');
  assert.ok(layer.exists('/db/LOCK'));
  lock.release();
  assert.not.ok(layer.exists('/db/LOCK'));

  // A third process creates and locks a new LOCK in between: the opener, which locked the removed file, must not win.
  layer = interleaved((l, owner) => {
    l.unlink('/db/LOCK');
    l.close(owner);
    otherOwner(l);
  });
  await rejectsWith(() => acquireLock(layer, '/db'), ErrorCode.LOCKED, `process ${process.pid}:`);
});

test('simulated file system: a lock belongs to one handle, ends at its close, and a crash image holds none', async () => {
  const layer = new SimFileLayer();
  layer.mkdir('/db');
  const lock = await acquireLock(layer, '/db');
  const other = layer.open('/db/LOCK', false);
  assert.not.ok(layer.tryLock(other), 'a second handle of the locked file is refused');
  const image = layer.image('clean', () => 0);
  const fd = image.open('/db/LOCK', true);
  assert.ok(image.tryLock(fd), 'after a crash nobody holds the lock');
  lock.release();
  assert.ok(layer.tryLock(other), 'a released lock is free');
});

test.after(() => dirs.cleanup());
test.run();
