/**
 * The primary's backlog: WAL bytes made durable since the newest group the
 * stream acknowledged, measured from the database's running WAL byte count
 * (port.walBytes). Past options.maxUnshippedBytes the replication cursor
 * moves to the durable end, so the WAL it kept may go: the stream then needs
 * a checkpoint first (CHANGES_EXPIRED once the WAL is gone), and replicas
 * behind it bootstrap again. Measured on a timer too: no ack comes while the
 * stream is away.
 */
import type { ReplicationPort } from '@tidemark/core';

const CHECK_MS = 200;

export class Backlog {
  /** port.walBytes when the newest acknowledged group was read. */
  #shippedWalBytes: number;
  #releases = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly port: ReplicationPort,
    private readonly cursor: string,
    private readonly maxBytes: number,
    /** Whether shipping still runs (not closed, not fenced) and the stream lacks a durable commit. */
    private readonly behind: () => boolean,
    /** Told each time the WAL kept for the stream is let go. */
    private readonly onRelease: (message: string) => void,
  ) {
    this.#shippedWalBytes = port.walBytes;
    this.#timer = setInterval(() => this.check(), CHECK_MS).unref();
  }

  /** Bytes behind the stream (0 once it has every durable commit: the WAL also counts segment headers and seals). */
  get bytes(): number {
    return this.behind() ? Math.max(0, this.port.walBytes - this.#shippedWalBytes) : 0;
  }

  /** Times the WAL kept for the stream was let go. */
  get releases(): number {
    return this.#releases;
  }

  /** A group read when port.walBytes was `walBytes` is in the stream. */
  acked(walBytes: number): void {
    if (walBytes > this.#shippedWalBytes) this.#shippedWalBytes = walBytes;
  }

  check(): void {
    if (this.bytes <= this.maxBytes) return;
    try {
      this.port.moveCursor(this.cursor, this.port.durableTs);
    } catch (error) {
      this.onRelease((error as Error).message);
      return;
    }
    this.#shippedWalBytes = this.port.walBytes;
    this.#releases++;
    this.onRelease(
      `the backlog passed options.maxUnshippedBytes (${this.maxBytes} bytes): the WAL kept for the stream was let go`,
    );
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
