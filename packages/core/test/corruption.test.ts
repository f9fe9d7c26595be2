/**
 * The corruption matrix: a small database with a known content (three
 * tables, many 64 KiB pairs, deletes into old pairs, a checkpoint, then a
 * WAL tail over several segments; and the same database cleanly closed) is
 * damaged one mutation at a time — bit flips, zeroed ranges, truncation,
 * a block written to the wrong place, an older copy of the file, the file
 * missing, an unknown file — at least 1,000 times per file kind (WAL, data,
 * delta, root, LOCK), and each outcome is classified:
 *
 *   detected    verify() reports a problem naming the file (and, for a
 *               sample, open() rejects with TM_CORRUPT naming it), or a
 *               warning of damage open() loads past — a damaged root with
 *               a good older one, an unknown file, a malformed LOCK, a
 *               damaged pre-created pair — with the original content (and
 *               a sample opens with it)
 *   harmless    verify() finds no problem and the content it loads — the
 *               loader open() uses — is the original (a sample is opened)
 *   torn tail   WAL only: no problem, and the content is the state after an
 *               earlier acknowledged commit: the damage reads exactly like
 *               a crash before those writes (docs/RELIABILITY.md)
 *   undetected  anything else: must be 0.
 *
 * The figures are printed per kind and mode. TIDEMARK_CORRUPTION_SEED sets
 * the seed; TIDEMARK_SOAK=1 runs 10 times as many mutations. A failure
 * prints the seed of the mutation, which reproduces it alone.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  isTidemarkError,
  open,
  verify,
  type Database,
  type OpenOptions,
  type TableDef,
  type VerifyProblem,
  type VerifyReport,
} from '../src/index.js';
import { contentHash, crashImage, tempDirs } from './helpers/dirs.js';
import {
  kindOf,
  MemoryLayer,
  MODES,
  mutate,
  seededRandom,
  writeFiles,
  type FileKind,
  type Files,
  type Mode,
  type Mutation,
} from './helpers/mutations.js';

const SEED = Number(process.env.TIDEMARK_CORRUPTION_SEED ?? 7001);
const PER_KIND = Number(
  process.env.TIDEMARK_CORRUPTION_PER_KIND ??
    (process.env.TIDEMARK_SOAK === '1' ? 10_000 : process.env.TIDEMARK_LONG === '1' ? 1_000 : 100),
);
/**
 * Real opens (each starts the worker threads, ~0.35 s here): the first
 * detected outcome of each kind and mode (open must reject, or tolerate as
 * verify says), and the first harmless and torn-tail outcome of each kind
 * (open must load the same content as verify).
 */
const OPEN_PER_SAMPLE = 1;
const KINDS: FileKind[] = ['wal', 'data', 'delta', 'root', 'lock'];
const KiB = 1024;

const users: TableDef = {
  name: 'users',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'credit', type: 'int64' },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byName', columns: ['name'] }],
};
const orders: TableDef = {
  name: 'orders',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'user', type: 'int32' },
    { name: 'amount', type: 'float64' },
    { name: 'note', type: 'string' },
  ],
  primaryKey: ['id'],
};
const events: TableDef = {
  name: 'events',
  columns: [
    { name: 'seq', type: 'int32' },
    { name: 'what', type: 'string' },
  ],
  primaryKey: ['seq'],
};
const OPTIONS: OpenOptions = {
  tables: [users, orders, events],
  dataFileSizeBytes: 64 * KiB,
  walSegmentBytes: 64 * KiB,
  checkpointWalBytes: 64 * 1024 * KiB,
  checkpointIntervalMs: 0,
  merges: false,
  recoveryWorkers: 0,
};

const dirs = tempDirs('tidemark-corruption-');

interface Fixture {
  /** The two variants: a crash image (WAL tail after the checkpoint, LOCK left) and the cleanly closed directory. */
  crash: Files;
  closed: Files;
  /** Copies taken earlier in the same run, for the `older` mode. */
  older: Files[];
  /** Content digest of the final state, and of every state after an acknowledged commit of the tail (and before it). */
  digest: string;
  prefixes: Set<string>;
}

function snapshot(dir: string): Files {
  const files: Files = new Map();
  for (const name of readdirSync(dir)) {
    try {
      if (name !== 'LOCK') files.set(name, new Uint8Array(readFileSync(join(dir, name))));
    } catch {
      // A temp file renamed during the copy.
    }
  }
  return files;
}

async function build(): Promise<Fixture> {
  const dir = dirs.make();
  const db = await open({ ...OPTIONS, dir });
  const u = db.table('users');
  const o = db.table('orders');
  for (let i = 0; i < 800; i++)
    await u.insert({ id: i, name: `user ${i} ${'n'.repeat(i % 40)}`, credit: BigInt(i) * 1000n });
  for (let i = 0; i < 600; i++) await o.insert({ id: i, user: i % 800, amount: i * 1.25, note: 'o'.repeat(i % 60) });
  for (let i = 0; i < 800; i += 7) await u.delete(i); // deletes into the oldest pairs
  for (let i = 1; i < 600; i += 11) await o.update(i, { user: 1, amount: -i, note: 'updated' });
  await db.checkpoint();
  const older = [snapshot(dir)];
  older[0]!.set('LOCK', new TextEncoder().encode(`${deadPid()} 999\n`)); // as an earlier run's crash left it
  for (let i = 600; i < 800; i++) await o.insert({ id: i, user: i % 50, amount: i / 3, note: 'late '.repeat(i % 9) });
  for (let i = 3; i < 600; i += 13) await o.delete(i);
  await db.checkpoint();
  older.push(snapshot(dir));
  // The WAL tail: acknowledged commits after the last checkpoint, over several 64 KiB segments.
  const prefixes = new Set([contentHash(db)]);
  for (let seq = 0; seq < 420; seq++) {
    await db.transaction(async (tx) => {
      tx.insert('events', { seq, what: `event ${seq} ${'e'.repeat(seq % 200)}` });
      if (seq % 3 === 0 && (1 + (seq % 800)) % 7 !== 0)
        tx.update('users', 1 + (seq % 800), { name: `renamed ${seq}`, credit: BigInt(seq) });
    });
    prefixes.add(contentHash(db));
    if (seq === 200) older.push(snapshot(dir));
  }
  const digest = contentHash(db);
  const crashDir = dirs.make();
  await crashImage(db, crashDir);
  const crash = snapshot(crashDir);
  crash.set('LOCK', new TextEncoder().encode(`${deadPid()} 12345\n`));
  return { crash, closed: snapshot(dir), older, digest, prefixes };
}

/** The pid of a process that has ended: a LOCK a crashed owner left. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

type Outcome = 'detected' | 'harmless' | 'torn' | 'undetected';

interface Trial {
  kind: FileKind;
  mode: Mode;
  seed: number;
  variant: 'crash' | 'closed';
  mutation: Mutation;
  files: Files;
  report: VerifyReport;
  outcome: Outcome;
}

const FATAL = new Set(['NO_ROOT', 'FILE_MISSING', 'CFP_INVALID', 'CHECKPOINT_INVALID', 'WAL_INVALID']);

/** Warnings for damage open() loads past (verify reports it, and `ok` stays true because open() loads the directory). */
const TOLERATED = new Set(['ROOT_INVALID', 'FILE_MISSING', 'CFP_INVALID', 'LOCK_MALFORMED', 'UNKNOWN_FILE']);

function classify(report: VerifyReport, mutation: Mutation, kind: FileKind, fixture: Fixture): Outcome {
  const naming = (p: VerifyProblem): boolean => p.file === mutation.file || p.message.includes(mutation.file);
  if (!report.ok) return report.problems.some(naming) ? 'detected' : 'undetected';
  // Tolerated damage is detected only if what open() loads past it is the original content.
  if (report.warnings.some((w) => TOLERATED.has(w.code) && naming(w)))
    return report.digest === fixture.digest ? 'detected' : 'undetected';
  if (report.digest === fixture.digest) return 'harmless';
  if (kind === 'wal' && report.digest !== null && fixture.prefixes.has(report.digest)) return 'torn';
  return 'undetected';
}

async function trial(fixture: Fixture, kind: FileKind, index: number): Promise<Trial | null> {
  const seed = SEED * 1_000_003 + KINDS.indexOf(kind) * 100_000 + index;
  const random = seededRandom(seed);
  const variant = kind === 'lock' || random(2) === 0 ? 'crash' : 'closed';
  const base = fixture[variant];
  const targets = [...base.keys()].filter((n) => kindOf(n) === kind);
  const file = targets[random(targets.length)]!;
  const mode = MODES[random(MODES.length)]!;
  const done = mutate(base, file, mode, random, fixture.older);
  if (done === null) return null;
  const dir = '/verify/matrix';
  let report: VerifyReport;
  try {
    report = await verify(dir, { layer: new MemoryLayer(dir, done.files) });
  } catch (error) {
    throw new Error(`seed ${seed} (${kind}/${mode}, ${variant}): verify threw ${String(error)}`);
  }
  const unexpected = report.problems.find((p) => p.code === 'UNEXPECTED_ERROR');
  if (unexpected !== undefined)
    throw new Error(
      `seed ${seed} (${kind}/${mode}, ${variant}, ${done.mutation.file}: ${done.mutation.what}): ${unexpected.message}`,
    );
  return {
    kind,
    mode,
    seed,
    variant,
    mutation: done.mutation,
    files: done.files,
    report,
    outcome: classify(report, done.mutation, kind, fixture),
  };
}

/** Opens the damaged directory for real: it must agree with verify. */
async function checkOpen(t: Trial, fixture: Fixture): Promise<void> {
  const dir = dirs.make();
  writeFiles(dir, t.files);
  const where = `seed ${t.seed} (${t.kind}/${t.mode}, ${t.variant}, ${t.mutation.file}: ${t.mutation.what})`;
  let db: Database | null = null;
  try {
    db = await open({ ...OPTIONS, dir });
  } catch (error) {
    assert.ok(isTidemarkError(error, 'TM_CORRUPT'), `${where}: open failed with ${String(error)}`);
    const named = t.report.problems.filter((p) => FATAL.has(p.code) || p.code === 'ROOT_INVALID').map((p) => p.file);
    assert.ok(
      named.some((f) => f !== null && (error as Error).message.includes(f)),
      `${where}: open's error names none of ${named.join(', ')}: ${(error as Error).message}`,
    );
    return;
  }
  const hash = contentHash(db);
  await db.close();
  // A pre-created pair (role `unused`) holds no rows: the streamer drops a damaged one and makes another, so open succeeds.
  const unused = new Set(t.report.files.filter((f) => f.role === 'unused').map((f) => f.file));
  const fatal = t.report.problems.some(
    (p) =>
      FATAL.has(p.code) &&
      !(p.file !== null && (unused.has(p.file) || (p.code === 'FILE_MISSING' && /pre-created/.test(p.message)))),
  );
  assert.not.ok(
    fatal,
    `${where}: verify reports ${t.report.problems.map((p) => p.code).join(', ')} but open succeeded`,
  );
  if (t.outcome === 'torn')
    assert.ok(fixture.prefixes.has(hash), `${where}: open loaded a state no acknowledged prefix had`);
  else assert.is(hash, fixture.digest, `${where}: open loaded a different database`);
}

test(`corruption matrix: ${PER_KIND} mutations per file kind, 0 undetected`, async () => {
  const started = performance.now();
  const fixture = await build();
  for (const variant of ['crash', 'closed'] as const) {
    const dir = '/verify/original';
    const report = await verify(dir, { layer: new MemoryLayer(dir, fixture[variant]) });
    assert.ok(report.ok, `the undamaged ${variant} directory verifies: ${JSON.stringify(report.problems)}`);
    assert.is(report.digest, fixture.digest, `verify's digest of the ${variant} directory is the content hash`);
  }
  const counts = new Map<string, Record<Outcome, number>>();
  const failures: string[] = [];
  const opened = new Map<string, number>();
  for (const kind of KINDS) {
    for (let i = 0, made = 0; made < PER_KIND; i++) {
      const t = await trial(fixture, kind, i);
      if (t === null) continue;
      made++;
      const key = `${kind}/${t.mode}`;
      const row = counts.get(key) ?? { detected: 0, harmless: 0, torn: 0, undetected: 0 };
      row[t.outcome]++;
      counts.set(key, row);
      if (t.outcome === 'undetected') {
        failures.push(
          `seed ${t.seed} (${key}, ${t.variant}, ${t.mutation.file}: ${t.mutation.what}): ${t.report.ok ? 'verify clean, content differs' : JSON.stringify(t.report.problems)}`,
        );
        continue;
      }
      const sampleKey = t.outcome === 'detected' ? `${key}/detected` : `${kind}/${t.outcome}`;
      const sampled = opened.get(sampleKey) ?? 0;
      if (sampled < OPEN_PER_SAMPLE) {
        opened.set(sampleKey, sampled + 1);
        await checkOpen(t, fixture);
      }
    }
  }
  printTable(
    counts,
    [...opened.values()].reduce((a, b) => a + b, 0),
    performance.now() - started,
  );
  assert.equal(failures, [], `undetected mutations:\n${failures.slice(0, 20).join('\n')}`);
});

function printTable(counts: Map<string, Record<Outcome, number>>, opens: number, ms: number): void {
  const lines = ['kind/mode          detected  harmless  torn-tail  undetected'];
  const total = (kind: string): Record<Outcome, number> => {
    const sum = { detected: 0, harmless: 0, torn: 0, undetected: 0 };
    for (const [key, row] of counts)
      if (key.startsWith(`${kind}/`)) for (const o of Object.keys(sum) as Outcome[]) sum[o] += row[o];
    return sum;
  };
  const line = (label: string, r: Record<Outcome, number>): string =>
    `${label.padEnd(18)}${String(r.detected).padStart(8)}${String(r.harmless).padStart(10)}${String(r.torn).padStart(11)}${String(r.undetected).padStart(12)}`;
  for (const kind of KINDS) {
    for (const mode of MODES) {
      const row = counts.get(`${kind}/${mode}`);
      if (row !== undefined) lines.push(line(`${kind}/${mode}`, row));
    }
    lines.push(line(`${kind} (all)`, total(kind)));
  }
  console.log(`\n${lines.join('\n')}\nseed ${SEED}, ${opens} sampled opens, ${(ms / 1000).toFixed(1)} s`);
}

test.after(() => dirs.cleanup());
test.run();
