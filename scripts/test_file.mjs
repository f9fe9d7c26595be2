// Runs one uvu test file in this process and prints its counts on a line of
// their own for scripts/test.mjs to read. A suite whose hooks threw (uvu
// reports it as 0 passed, no error) counts as failed.
//
// Usage: node --conditions=source --import tsx scripts/test_file.mjs <file>
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = process.argv[2];

globalThis.UVU_DEFER = 1;
await import('uvu');
globalThis.UVU_QUEUE = globalThis.UVU_QUEUE || [];
globalThis.UVU_INDEX = 0;
globalThis.UVU_QUEUE.push([null]);
await import(pathToFileURL(join(root, file)).href);

let total = 0;
let passed = 0;
let skipped = 0;
let failedSuites = 0;
for (const group of globalThis.UVU_QUEUE) {
  group.shift();
  for (const run of group) {
    const [errors, ran, skip, max] = await run();
    total += max;
    passed += ran;
    skipped += skip;
    if (errors !== true || ran !== max) {
      failedSuites++;
      if (errors !== true) process.stdout.write(`\n${errors}\n`);
    }
  }
}
const failed = Math.max(total - passed, failedSuites > 0 && total === passed ? 1 : 0);
process.stdout.write(`\n@@tidemark-test-count ${JSON.stringify({ passed, failed, skipped })}\n`);
// A leaked handle (a timer, a worker) must not keep the run waiting once the count is out.
process.exit(failed > 0 ? 1 : 0);
