/**
 * How long the calling thread has waited for a core: the time it was ready
 * to run while the scheduler ran something else. The checkpoint streamer
 * runs at a lower priority than the commit path (threads/priority.ts), so
 * with every core busy its wall-clock busy time also counts the time the
 * scheduler gave to the main thread and the log writer; this is that part.
 *
 * On Linux, /proc/thread-self/schedstat holds three numbers for the thread:
 * nanoseconds run on a CPU, nanoseconds waited runnable on a run queue, and
 * time slices. The wait is brought up to date each time the thread is given
 * a core, so the thread reading its own is exact. The run time is not used:
 * for a thread reading its own it is only as fresh as the last scheduler
 * tick (4 ms here), which made the streamer's short steps read about half
 * of the CPU time they took. The file is kept open and read again from
 * offset 0 (the kernel formats it afresh on each read). Elsewhere, or where
 * it cannot be read, there is no clock (null).
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface WaitClock {
  /** Milliseconds the thread has waited runnable for a core since it began. */
  read(): number;
  /** Closes the file; a second call does nothing. */
  close(): void;
}

const SCHEDSTAT = '/proc/thread-self/schedstat';

/** A clock for the calling thread; null where the platform has none. Read it only on the thread that made it. */
export function coreWaitClock(): WaitClock | null {
  if (process.platform !== 'linux') return null;
  let fd: number;
  try {
    fd = openSync(SCHEDSTAT, 'r');
  } catch {
    return null;
  }
  const buf = Buffer.alloc(128);
  let open = true;
  const clock: WaitClock = {
    read() {
      if (!open) throw new Error('the core wait clock is closed');
      const n = readSync(fd, buf, 0, buf.length, 0);
      return parseSchedstatWait(buf.toString('latin1', 0, n));
    },
    close() {
      // Once only: a second close could close a descriptor reused by another file since.
      if (open) closeSync(fd);
      open = false;
    },
  };
  try {
    clock.read();
  } catch {
    clock.close();
    return null;
  }
  return clock;
}

/** The wait of "run_ns wait_ns slices\n", in milliseconds; anything else throws. */
export function parseSchedstatWait(text: string): number {
  const m = /^\d+ (\d+) \d+\s*$/.exec(text);
  if (m === null) throw new Error(`unexpected ${SCHEDSTAT} contents: ${JSON.stringify(text)}`);
  return Number(m[1]) / 1e6;
}
