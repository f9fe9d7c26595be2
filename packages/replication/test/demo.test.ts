/**
 * The README's replication demo runs as a user runs it (`pnpm run
 * replication-demo`, here its built script): three local nats-server nodes,
 * a primary, two replicas; each replica prints the 1,000 orders it read.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { natsOrSkip } from './nats_cluster.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const DEMO = join(root, 'packages/replication/dist/demo.js');
const NAME = 'the replication demo runs: both replicas read the primary’s 1,000 orders';

if (natsOrSkip(NAME)) {
  test(NAME, async () => {
    assert.ok(existsSync(DEMO), `${DEMO} is built by pnpm test`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [DEMO], { timeout: 180_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      ),
    );
    assert.match(out, /^replica 1: 1000 orders, order 1000 = \{"id":1000,"item":"item 1000"\}/m);
    assert.match(out, /^replica 2: 1000 orders, order 1000 = \{"id":1000,"item":"item 1000"\}/m);
    assert.match(out, /^primary: shipped up to commit \d+/m);
  });
}

test.run();
