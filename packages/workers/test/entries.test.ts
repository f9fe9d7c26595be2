import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { workerEntryUrl } from '../src/index.js';

test('workerEntryUrl finds a bundle beside the module and refuses bad names and missing files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-entries-'));
  mkdirSync(join(dir, 'entries'));
  writeFileSync(join(dir, 'entries', 'log_writer.js'), '');
  const base = pathToFileURL(join(dir, 'index.js'));
  assert.is(workerEntryUrl('log_writer', base).pathname, join(dir, 'entries', 'log_writer.js'));
  assert.throws(() => workerEntryUrl('../evil', base), /invalid worker entry name/);
  assert.throws(() => workerEntryUrl('recovery', base), /missing/);
});

test.run();
