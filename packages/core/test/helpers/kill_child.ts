/**
 * The crash tests' child processes: a child prints what its open recovered
 * (`state <json>`) before committing anything, then `ack <n>` once step n is
 * durable; the test SIGKILLs it a chosen time after its first ack.
 */
import { spawn } from 'node:child_process';

/** How long a child may run without acknowledging anything (its open recovers first). */
const STUCK_MS = 60_000;

/** Runs `child` with `args` until `killAfterMs` after its first ack; resolves with what its open recovered and its highest ack. */
export function runAndKill<R>(
  child: string,
  args: string[],
  killAfterMs: number,
): Promise<{ recovered: R; acked: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let recovered: R | null = null;
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    // A child that never acknowledges anything fails the test instead of hanging it.
    let stuck = false;
    const deadline = setTimeout(() => {
      stuck = true;
      proc.kill('SIGKILL');
    }, STUCK_MS);
    proc.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('state ')) recovered = JSON.parse(line.slice(6)) as R;
        else acked = Math.max(acked, Number(line.slice(4)));
      }
      if (acked > 0 && timer === null) {
        clearTimeout(deadline);
        timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (timer) clearTimeout(timer);
      if (stuck)
        reject(
          new Error(
            `the child acknowledged nothing within ${STUCK_MS} ms (recovered: ${recovered !== null}): ${stderr}`,
          ),
        );
      else if (signal !== 'SIGKILL' || recovered === null)
        reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
      else resolve({ recovered, acked });
    });
  });
}
