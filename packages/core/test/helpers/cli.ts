/** Runs the `tidemark` command line in this process (runCli) and collects what it prints. */
import { runCli } from '../../src/cli/run.js';
import type { Io } from '../../src/cli/output.js';

export interface Run {
  status: number;
  out: string;
  err: string;
}

export async function cli(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), errIsTty: false, stdout: process.stdout };
  const status = await runCli(argv, io);
  return { status, out: out.join('\n'), err: err.join('\n') };
}
