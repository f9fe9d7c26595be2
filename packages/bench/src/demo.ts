/**
 * The README's main job: the whole engine at work in one command, on a
 * demo directory (default `.tidemark-demo/` in the current folder, made
 * afresh each run).
 *
 *   1. a bank of 10,000 accounts; transfers for a few seconds, durable,
 *      256 in flight, with live progress (commits/s, durable lag, WAL,
 *      checkpoints, merges, pairs)
 *   2. a checkpoint and a merge, forced, and what they did
 *   3. a child process runs the same service on the same directory and is
 *      killed (SIGKILL) mid-stream, commits in flight
 *   4. recovery, with progress; every transfer the child was told is durable
 *      must be there, and the total money unchanged
 *   5. the inventory of files, and the statistics
 *
 * `--short` runs it in a few seconds (CI); `--dir DIR` elsewhere (an empty or
 * missing folder, or an earlier demo's). Exit status 1 if a check fails.
 */
import { open, type Database, type RecoveryProgress } from '@tidemark/core';
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_OPTIONS, runTransfers, seedAccounts, totalMoney, TOTAL_MONEY } from './demo/bank.js';
import { runChild, type ChildMessage } from './demo/child.js';
import { alignedLines } from './report/table.js';

const MARKER = 'TIDEMARK_DEMO';
const IN_FLIGHT = 256;
const PROGRESS_MS = 500;

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const mib = (v: number): string => `${(v / 1024 / 1024).toFixed(1)} MiB`;

/** A refusal the user can act on: printed without a stack, exit status 2. */
class DemoError extends Error {}

/** Makes `dir` afresh; refuses a folder with other contents, so a mistyped --dir never loses data. */
function freshDirectory(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(resolve(dir, MARKER))) {
    throw new DemoError(`${dir} is not empty and is not a demo directory (no ${MARKER} file): pick another --dir`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, MARKER), 'made by the Tidemark demo; removed and made again on every run\n');
}

function progressLine(db: Database, started: number, durable: number): string {
  const s = db.stats();
  const d = s.durability!;
  const seconds = (performance.now() - started) / 1000;
  const pairs = d.cfps.ACTIVE + d.cfps.UNDER_CONSTRUCTION;
  return (
    `  ${seconds.toFixed(1)} s: ${n(durable)} transfers durable (${n(durable / seconds)}/s), ${d.waiting} commits waiting for fdatasync, ` +
    `WAL ${mib(d.wal.bytes)} in ${n(d.wal.syncs)} fdatasyncs, ${d.checkpoints.count} checkpoints, ${d.merges.installed} merges, ${pairs} pairs holding rows`
  );
}

/** What the first phase left: the next transfer id, and the transfers recorded. */
interface Served {
  nextId: number;
  transfers: number;
}

async function serve(dir: string, seconds: number): Promise<Served> {
  say(`1. a bank of 10,000 accounts in ${dir}; durable transfers for ${seconds} s, ${IN_FLIGHT} in flight`);
  const db = await open({ dir, ...DEMO_OPTIONS });
  try {
    seedAccounts(db);
    await db.flush();
    const started = performance.now();
    let durable = 0;
    const timer = setInterval(() => say(progressLine(db, started, durable)), PROGRESS_MS);
    const stopAt = started + seconds * 1000;
    let nextId: number;
    try {
      nextId = await runTransfers(db, {
        firstId: 1,
        inFlight: IN_FLIGHT,
        seed: 1,
        stop: () => performance.now() >= stopAt,
        onDurable: () => durable++,
      });
    } finally {
      clearInterval(timer);
    }
    say(progressLine(db, started, durable));
    say('2. a checkpoint and a merge, forced');
    const checkpoint = await db.checkpoint();
    say(
      checkpoint === null
        ? '  checkpoint: nothing new since the last one'
        : `  checkpoint: published ${basename(checkpoint.file)} covering commitTs ${n(checkpoint.checkpointTs)} (${checkpoint.filesSynced} files synced, ${checkpoint.durationMs.toFixed(1)} ms)`,
    );
    const merge = await db.merge();
    for (const m of merge.merges)
      say(
        `  merge: pairs ${m.sources.join(', ')} -> ${m.targets.map((t) => t.id).join(', ')}: ${n(m.rowsWritten)} live rows kept, ${n(m.rowsDropped)} dead dropped`,
      );
    say(
      `  merge: ${merge.merges.length} merges now (${db.stats().durability!.merges.installed} in all), ${merge.filesDeleted} files deleted; ${merge.cfps} pairs hold rows in ${mib(merge.diskBytes)}`,
    );
    return { nextId, transfers: db.table('transfers').size };
  } finally {
    await db.close();
  }
}

/** Forks the child, lets it commit for `seconds`, kills it; resolves with the ids it was told are durable. */
async function killMidStream(dir: string, firstId: number, seconds: number): Promise<Set<number>> {
  say(`3. a child process runs the service on ${dir} and is killed with SIGKILL after ${seconds} s`);
  const durable = new Set<number>();
  const child = fork(process.argv[1]!, ['--child', dir, '--first-id', String(firstId)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolveExit) =>
    child.on('exit', (code, signal) => resolveExit(signal ?? code)),
  );
  await new Promise<void>((ready, fail) => {
    child.on('message', (m: ChildMessage) => {
      if (m.ready === true) ready();
      for (const id of m.durable ?? []) durable.add(id);
    });
    child.on('exit', () => fail(new Error('the child process ended before it was ready')));
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const before = durable.size;
  child.kill('SIGKILL');
  const how = await exited;
  say(
    `  child ${child.pid} ended by ${String(how)} after ${n(durable.size)} transfers were acknowledged as durable (${n(durable.size - before)} more arrived as it died)`,
  );
  return durable;
}

async function recoverAndCheck(dir: string, durable: Set<number>, before: number): Promise<boolean> {
  say('4. recovery');
  const onProgress = (p: RecoveryProgress): void => {
    if (p.phase === 'checkpoint')
      say(
        `  loading pairs: ${mib(p.bytes)} of ${mib(p.totalBytes)}, ${n(p.rows)} rows, ${p.workers} workers, ${p.elapsedMs.toFixed(0)} ms`,
      );
    if (p.phase === 'wal')
      say(`  replaying the WAL tail: ${mib(p.bytes)}, ${n(p.rows)} records, ${p.elapsedMs.toFixed(0)} ms`);
  };
  const db = await open({ dir, ...DEMO_OPTIONS, onProgress });
  try {
    const r = db.stats().recovery!;
    say(
      `  opened in ${r.durationMs.toFixed(0)} ms: ${n(r.checkpoint?.rows ?? 0)} row versions from ${r.checkpoint?.cfps ?? 0} pairs, then ${n(r.records)} WAL records${r.tornTail === null ? '' : `; the torn tail was cut at ${basename(r.tornTail.file)} offset ${n(r.tornTail.offset)}`}`,
    );
    const transfers = db.table('transfers');
    const missing = [...durable].filter((id) => transfers.get(id) === undefined);
    const total = totalMoney(db);
    say(
      missing.length === 0
        ? `  check: every one of the ${n(durable.size)} acknowledged transfers survived the kill`
        : `  CHECK FAILED: ${n(missing.length)} acknowledged transfers are missing, e.g. ${missing.slice(0, 5).join(', ')}`,
    );
    say(
      total === TOTAL_MONEY
        ? `  check: total money ${total} = ${TOTAL_MONEY}, nothing created or lost`
        : `  CHECK FAILED: total money ${total}, expected ${TOTAL_MONEY}`,
    );
    const made = transfers.size - before;
    say(
      `  the child's transfers found: ${n(made)}; ${n(made - durable.size)} of them it never heard acknowledged (durable, the reply lost with the process)`,
    );
    inventory(db);
    return missing.length === 0 && total === TOTAL_MONEY;
  } finally {
    await db.close();
  }
}

function inventory(db: Database): void {
  const s = db.stats();
  const d = s.durability!;
  say('5. the files, and the statistics');
  say(
    `  pairs: ${Object.entries(d.cfps)
      .filter(([, count]) => count > 0)
      .map(([state, count]) => `${count} ${state}`)
      .join(', ')}`,
  );
  for (const t of s.tables)
    say(`  table ${t.name}: ${n(t.rows)} rows, ${mib(t.liveBytes)} live of ${mib(t.reservedBytes)} arena`);
}

async function printFiles(dir: string): Promise<void> {
  const db = await open({ dir, ...DEMO_OPTIONS });
  try {
    const files = await db.checkpointFiles();
    const rows = files.map((f) => [
      f.file,
      f.kind,
      String(f.state),
      f.rows === null ? '' : n(f.rows),
      f.tombstones === null ? '' : n(f.tombstones),
      mib(f.sizeBytes),
    ]);
    for (const line of alignedLines(['file', 'kind', 'state', 'rows', 'tombstones', 'size'], rows, [
      false,
      false,
      false,
      true,
      true,
      true,
    ]))
      say(`  ${line}`);
    say(`  (tidemark inspect ${dir} shows the same with live fractions; tidemark verify ${dir} checks every byte)`);
  } finally {
    await db.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      short: { type: 'boolean' },
      child: { type: 'string' },
      'first-id': { type: 'string' },
    },
  });
  if (values.child !== undefined) {
    await runChild(values.child, Number(values['first-id']));
    return 0;
  }
  const dir = resolve(values.dir ?? '.tidemark-demo');
  const short = values.short === true;
  say(`Tidemark demo${short ? ' (short)' : ''}: commit, checkpoint, merge, kill, recover`);
  freshDirectory(dir);
  const served = await serve(dir, short ? 1.5 : 5);
  const durable = await killMidStream(dir, served.nextId, short ? 1 : 2);
  const ok = await recoverAndCheck(dir, durable, served.transfers);
  await printFiles(dir);
  say(ok ? 'done: every check passed.' : 'done: A CHECK FAILED.');
  return ok ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof DemoError) && (error as { code?: unknown }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    throw error;
  process.stderr.write(`demo: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
