/**
 * The checker's Tidemark nodes: each a process (node_process.ts) that the
 * harness asks over IPC, and that the nemesis kills, pauses and restarts.
 * A request to a node that dies, or that does not answer in time, has an
 * unknown outcome (`code: 'NO_ANSWER'`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemberOptions } from '../../src/index.js';

export interface Answer {
  ok: boolean;
  code?: string;
  message?: string;
  [key: string]: unknown;
}

interface Pending {
  resolve: (answer: Answer) => void;
  timer: NodeJS.Timeout;
}

const SCRIPT = fileURLToPath(new URL('./node_process.ts', import.meta.url));

export class CheckerNode {
  #child: ChildProcess | null = null;
  #pending = new Map<number, Pending>();
  #next = 1;
  paused = false;

  constructor(
    readonly name: string,
    private readonly options: MemberOptions,
  ) {}

  get running(): boolean {
    return this.#child !== null;
  }

  /** Starts the node's process; resolves once it has joined the cluster. */
  async start(): Promise<void> {
    const child = fork(SCRIPT, [JSON.stringify(this.options)], {
      execArgv: ['--conditions=source', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child = child;
    this.paused = false;
    // A send to a process that just died: the send's callback answers it.
    child.on('error', () => {});
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`node ${this.name} exited (${code}) before it joined`)));
      child.on('message', (m: Answer & { id: number }) => {
        if (m.id === 0) resolve();
        const p = this.#pending.get(m.id);
        if (p === undefined) return;
        this.#pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(m);
      });
    });
    child.once('exit', () => {
      if (this.#child === child) this.#child = null;
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer);
        p.resolve({ ok: false, code: 'NO_ANSWER', message: `node ${this.name} died` });
        this.#pending.delete(id);
      }
    });
    await ready;
  }

  /** Asks the node; an answer of `NO_ANSWER` when it is down, dies, or takes longer than `ms`. */
  ask(op: string, args: Record<string, unknown> = {}, ms = 15_000): Promise<Answer> {
    const child = this.#child;
    if (child === null || this.paused)
      return Promise.resolve({ ok: false, code: 'NO_ANSWER', message: `node ${this.name} is down` });
    const id = this.#next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ ok: false, code: 'NO_ANSWER', message: `node ${this.name} did not answer in ${ms} ms` });
      }, ms);
      this.#pending.set(id, { resolve, timer });
      child.send({ id, op, ...args }, (error) => {
        if (error === null || !this.#pending.delete(id)) return;
        clearTimeout(timer);
        resolve({ ok: false, code: 'NO_ANSWER', message: `node ${this.name}: ${error.message}` });
      });
    });
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  pause(): void {
    this.#child?.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
    this.paused = false;
  }
}
