/**
 * Real ENOSPC: a child process runs the engine on a small tmpfs (mounted in
 * a user and mount namespace of its own, `unshare -Urm`), fills it at a
 * random moment while commits, checkpoints and merges run, keeps trying
 * while it is full, then frees the space. Writes must be refused with
 * TM_DISK_FULL (never acknowledged unwritten), resume by themselves once
 * the filler is removed, and the reopened database must equal the model
 * with every acknowledged commit. Where namespaces or tmpfs mounts are not
 * allowed, the test is skipped and says why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDirs } from './helpers/dirs.js';
// @ts-expect-error: a plain .mjs fixture, shared with the child process
import { balancesAfter, receiptsAfter } from './fixtures/crash_model.mjs';

const ROUNDS = Number(process.env.TIDEMARK_ENOSPC_ROUNDS ?? (process.env.TIDEMARK_LONG === '1' ? 12 : 2));
const TMPFS = '8m';
const child = fileURLToPath(new URL('./fixtures/enospc_child.mjs', import.meta.url));
const dirs = tempDirs('tidemark-enospc-');

function unavailable(): string | null {
  const mount = dirs.make();
  const probe = spawnSync('unshare', ['-Urm', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$1"', 'sh', mount], {
    encoding: 'utf8',
  });
  if (probe.error) return `unshare is not available: ${probe.error.message}`;
  return probe.status === 0 ? null : `cannot mount a tmpfs in a user namespace: ${probe.stderr.trim()}`;
}

/** The longest one round's child may run. */
const ROUND_LIMIT_MS = 180_000;

function runChild(seed: number): Promise<Record<string, unknown>> {
  const mount = dirs.make();
  const script = `mount -t tmpfs -o size=${TMPFS} tmpfs "$1" && exec "$2" "$3" "$1" "$4"`;
  return new Promise((resolve, reject) => {
    const proc = spawn('unshare', ['-Urm', 'sh', '-c', script, 'sh', mount, process.execPath, child, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // A round takes seconds; one stuck past this fails the test instead of hanging it.
    const stuck = setTimeout(() => proc.kill('SIGKILL'), ROUND_LIMIT_MS);
    proc.on('exit', (code, signal) => {
      clearTimeout(stuck);
      if (signal === 'SIGKILL')
        reject(new Error(`round ${seed}: the child ran past ${ROUND_LIMIT_MS} ms and was killed: ${err || out}`));
      else if (code !== 0) reject(new Error(`round ${seed}: the child failed (exit ${code}): ${err || out}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

const reason = unavailable();
if (reason !== null) console.log(`  real ENOSPC test skipped: ${reason}`);

(reason === null ? test : test.skip)(
  `a real tmpfs filled at ${ROUNDS} random moments: writes refused, nothing acknowledged lost, writes resume by themselves`,
  async () => {
    const totals = { refusedWrites: 0, refusedCheckpoints: 0, acked: 0, resumeMsMax: 0, streamerRestarts: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      const r = (await runChild(round)) as {
        acked: number;
        committed: number;
        recovered: number;
        balances: number[];
        receipts: number[];
        refusedWrites: number;
        refusedCheckpoints: number;
        resumeMs: number;
        streamerRestarts: number;
        diskFullEvents: number;
      };
      assert.ok(r.recovered >= r.acked, `round ${round}: ${r.acked} acknowledged, ${r.recovered} recovered`);
      assert.is(r.recovered, r.committed, `round ${round}: every commit made was durable at close`);
      assert.equal(r.balances, balancesAfter(r.recovered), `round ${round}: balances`);
      assert.equal(r.receipts, receiptsAfter(r.recovered), `round ${round}: receipts`);
      assert.ok(
        r.refusedWrites + r.refusedCheckpoints > 0 && r.diskFullEvents + r.streamerRestarts > 0,
        `round ${round}: the full disk was noticed: ${JSON.stringify(r)}`,
      );
      totals.refusedWrites += r.refusedWrites;
      totals.refusedCheckpoints += r.refusedCheckpoints;
      totals.acked += r.acked;
      totals.resumeMsMax = Math.max(totals.resumeMsMax, r.resumeMs);
      totals.streamerRestarts += r.streamerRestarts;
    }
    dirs.cleanup();
    console.log(
      `  real ENOSPC: ${ROUNDS} fills of an ${TMPFS} tmpfs; ${totals.refusedWrites} writes and ${totals.refusedCheckpoints} checkpoints refused with TM_DISK_FULL, ` +
        `${totals.streamerRestarts} streamer restarts, writes resumed within ${totals.resumeMsMax} ms of the space returning; ${totals.acked} acknowledged, 0 lost`,
    );
  },
);

test.run();
