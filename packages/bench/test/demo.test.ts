/**
 * The README's main job, in its short mode, as CI runs it: it must finish
 * with status 0, and its own checks — every transfer the killed child was
 * told is durable is found after recovery, and no money was created or
 * lost — must pass. It refuses a folder that is not its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const DEMO = fileURLToPath(new URL('../dist/demo.js', import.meta.url));

test('the short demo commits, checkpoints, merges, is killed, recovers, and its checks pass', () => {
  const work = mkdtempSync(join(tmpdir(), 'tidemark-demo-'));
  try {
    const run = spawnSync(process.execPath, [DEMO, '--short', '--dir', join(work, 'db')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.is(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^ {2}check: every one of the [\d,]+ acknowledged transfers survived the kill$/m);
    assert.match(run.stdout, /^ {2}check: total money 10000000 = 10000000, nothing created or lost$/m);
    assert.match(run.stdout, /^ {2}child \d+ ended by SIGKILL after [\d,]+ transfers/m);
    assert.match(run.stdout, /^ {2}checkpoint: published root-/m);
    assert.match(run.stdout, /^done: every check passed\.$/m);
    const acknowledged = Number(/every one of the ([\d,]+) acknowledged/.exec(run.stdout)![1]!.replace(/,/g, ''));
    assert.ok(acknowledged > 0, 'the child acknowledged transfers before it was killed');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('the demo refuses a folder that holds something else', () => {
  const work = mkdtempSync(join(tmpdir(), 'tidemark-demo-'));
  try {
    writeFileSync(join(work, 'precious.txt'), 'keep me');
    const run = spawnSync(process.execPath, [DEMO, '--short', '--dir', work], { encoding: 'utf8', timeout: 60_000 });
    assert.is(run.status, 2);
    assert.match(run.stderr, /^demo: .* is not empty and is not a demo directory/);
    assert.not.match(run.stderr, /\n\s+at /, 'no stack');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
