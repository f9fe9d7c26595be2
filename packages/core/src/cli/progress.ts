/**
 * Progress for long commands (recover, export, import): bars drawn with
 * cli-progress on a terminal, and on anything else (a log, CI) one plain
 * line per bar at most every LINE_INTERVAL_MS and when it ends.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Io } from './output.js';

const LINE_INTERVAL_MS = 1_000;

export interface Bar {
  update(value: number, total?: number): void;
  done(): void;
}

export interface Progress {
  bar(label: string, total: number, unit: string): Bar;
  stop(): void;
}

class TerminalProgress implements Progress {
  readonly #multi = new MultiBar(
    {
      format: ' {label} [{bar}] {percentage}% | {value}/{total} {unit}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      fps: 10,
    },
    Presets.shades_classic,
  );

  bar(label: string, total: number, unit: string): Bar {
    const bar: SingleBar = this.#multi.create(Math.max(1, total), 0, { label: label.padEnd(18), unit });
    return {
      update: (value, newTotal) => {
        if (newTotal !== undefined) bar.setTotal(Math.max(1, newTotal));
        bar.update(value);
      },
      done: () => bar.update(bar.getTotal()),
    };
  }

  stop(): void {
    this.#multi.stop();
  }
}

class LineProgress implements Progress {
  constructor(private readonly io: Io) {}

  bar(label: string, total: number, unit: string): Bar {
    let last = 0;
    let current = 0;
    let max = total;
    const line = (): string =>
      `${label}: ${current.toLocaleString('en-US')}${max > 0 ? ` of ${max.toLocaleString('en-US')}` : ''} ${unit}`;
    return {
      update: (value, newTotal) => {
        current = value;
        if (newTotal !== undefined) max = newTotal;
        const now = Date.now();
        if (now - last >= LINE_INTERVAL_MS) {
          last = now;
          this.io.err(line());
        }
      },
      // Done is all of it: a command that updates every N items has not said the last count.
      done: () => {
        current = Math.max(current, max);
        this.io.err(`${line()}, done`);
      },
    };
  }

  stop(): void {}
}

export function progressFor(io: Io): Progress {
  return io.errIsTty ? new TerminalProgress() : new LineProgress(io);
}
