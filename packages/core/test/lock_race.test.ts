/**
 * Races for one database directory between processes (docs/RELIABILITY.md,
 * "One process per directory"). Four racer processes (fixtures/lock_racer.ts)
 * stay alive; each round the test picks 2 to 4 of them and a fresh
 * directory, and they start at one wall-clock instant, spinning until it
 * comes. Exactly one must win; every other must get TM_LOCKED naming the
 * winner's pid; nothing else. A third of the directories start empty, a
 * third with a LOCK a killed owner left (naming a dead process), a third
 * with a garbled LOCK naming this live, unrelated process.
 *
 * Rounds race for the LOCK as open() takes it first (an open with its
 * threads takes 0.4 to 1 s here, a bare LOCK a few ms); every tenth round
 * races open() itself. 1,000 rounds with TIDEMARK_LONG=1 (CI's long tier),
 * else 100. Then the racers take and let go of one LOCK as fast as they
 * can, and no two may hold it at once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDirs } from './helpers/dirs.js';

const ROUNDS = process.env.TIDEMARK_LONG === '1' ? 1000 : 100;
const OPEN_EVERY = 10;
const RACERS = 4;
const CHURN_CYCLES = process.env.TIDEMARK_LONG === '1' ? 500 : 100;
/** How far ahead the start instant is set: long enough for the command to reach every racer. */
const START_AHEAD_MS = 40;
/** A racer that does not answer in this long fails the test instead of hanging it. */
const ANSWER_MS = 60_000;
const racerPath = fileURLToPath(new URL('./fixtures/lock_racer.ts', import.meta.url));
const dirs = tempDirs('tidemark-lock-race-');

interface Outcome {
  round: number;
  pid: number;
  outcome: string;
  message: string;
  late: boolean;
}

/** One racer process and its answers, read line by line. */
class Racer {
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private stderr = '';
  readonly proc: ChildProcess;

  constructor() {
    this.proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', racerPath], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      if (this.waiting !== null) this.waiting(line);
      else this.answers.push(line);
    });
  }

  send(command: object): void {
    this.proc.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  next<T>(): Promise<T> {
    const queued = this.answers.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`racer ${this.proc.pid} gave no answer in ${ANSWER_MS} ms; stderr: ${this.stderr}`)),
        ANSWER_MS,
      );
      this.waiting = (line) => {
        clearTimeout(timer);
        this.waiting = null;
        resolve(JSON.parse(line) as T);
      };
    });
  }
}

/** The pid of a process that has ended: what a killed owner's LOCK names. */
const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;

/** A fresh directory for `round`, with what a third of real directories hold: nothing, a dead owner's LOCK, garbage. */
function freshDir(round: number): string {
  const dir = dirs.make();
  if (round % 3 === 1) writeFileSync(join(dir, 'LOCK'), `${deadPid} 1 ${hostname()}\n`);
  if (round % 3 === 2) writeFileSync(join(dir, 'LOCK'), `${process.pid} ${startTime()}`.slice(0, 4 + (round % 7)));
  return dir;
}

function startTime(): string {
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

async function raceOnce(racers: Racer[], round: number): Promise<{ late: number }> {
  const how = round % OPEN_EVERY === 0 ? 'open' : 'lock';
  const dir = freshDir(round);
  const startAt = Date.now() + START_AHEAD_MS;
  for (const racer of racers) racer.send({ round, how, dir, startAt });
  const outcomes = await Promise.all(racers.map((r) => r.next<Outcome>()));
  const where = `round ${round} (${how}, ${racers.length} racers): ${JSON.stringify(outcomes)}`;
  const winners = outcomes.filter((o) => o.outcome === 'won');
  assert.is(winners.length, 1, `exactly one winner: ${where}`);
  const winner = winners[0]!;
  for (const o of outcomes.filter((x) => x !== winner)) {
    assert.is(o.outcome, 'TM_LOCKED', `a loser gets TM_LOCKED: ${where}`);
    assert.match(o.message, new RegExp(`process ${winner.pid}\\b`), `a loser's error names the winner: ${where}`);
  }
  const holder = racers[outcomes.indexOf(winner)]!;
  holder.send({ release: round });
  assert.ok((await holder.next<{ released: boolean }>()).released, `the winner lets go: ${where}`);
  rmSync(dir, { recursive: true, force: true });
  return { late: outcomes.filter((o) => o.late).length };
}

const racers: Racer[] = [];

test.before(() => {
  for (let i = 0; i < RACERS; i++) racers.push(new Racer());
});

test(`${ROUNDS} races of 2 to 4 processes: one winner each, every loser TM_LOCKED naming it`, async () => {
  const started = performance.now();
  let late = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // 2, 3 or 4 racers, a different subset each time.
    const count = 2 + (Math.floor(round / 3) % 3);
    const first = round % RACERS;
    const chosen = Array.from({ length: count }, (_, i) => racers[(first + i) % RACERS]!);
    late += (await raceOnce(chosen, round)).late;
  }
  console.log(
    `  ${ROUNDS} races (${ROUNDS / OPEN_EVERY} through open()), 0 double owners, 0 other errors; ${late} racers started late, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

test(`churn: ${RACERS} processes take and let go of one LOCK ${CHURN_CYCLES} times each; never two owners`, async () => {
  const dir = dirs.make();
  const startAt = Date.now() + START_AHEAD_MS;
  for (const racer of racers) racer.send({ round: -1, how: 'churn', dir, startAt, cycles: CHURN_CYCLES });
  const counts = await Promise.all(
    racers.map((r) => r.next<{ won: number; locked: number; doubles: number; others: string[] }>()),
  );
  const total = (key: 'won' | 'locked' | 'doubles'): number => counts.reduce((sum, c) => sum + c[key], 0);
  assert.equal(
    counts.flatMap((c) => c.others),
    [],
    'no error but TM_LOCKED',
  );
  assert.is(total('doubles'), 0, `no two owners at once: ${JSON.stringify(counts)}`);
  assert.is(total('won') + total('locked'), RACERS * CHURN_CYCLES);
  assert.ok(total('won') > 0);
  console.log(`  churn: ${total('won')} takes, ${total('locked')} TM_LOCKED, 0 double owners`);
});

test.after(async () => {
  for (const racer of racers) {
    racer.proc.stdin!.end();
    await new Promise((done) => (racer.proc.exitCode !== null ? done(null) : racer.proc.once('exit', done)));
  }
  dirs.cleanup();
});

test.run();
