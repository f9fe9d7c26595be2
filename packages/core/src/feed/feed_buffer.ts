/**
 * The change feed's memory: the records committed while a feed is open, in
 * commit order, as the log sink hands them to the log (their bodies copied),
 * with each one's wall-clock time. Bounded by bytes: past `maxBytes` the
 * oldest are let go, and a feed that has not read them yet reads them from
 * the WAL instead (so a slow consumer never grows memory and never slows
 * commits). `coversAfter`: every record committed after this commitTs is
 * here (the buffer started then, or let go of the records up to it).
 */
export interface BufferedRecord {
  commitTs: number;
  time: number;
  body: Uint8Array;
}

export class FeedBuffer {
  private readonly records: BufferedRecord[] = [];
  private head = 0;
  private bytes = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly maxBytes: number,
    public coversAfter: number,
  ) {}

  add(commitTs: number, time: number, body: Uint8Array): void {
    this.records.push({ commitTs, time, body });
    this.bytes += body.length;
    while (this.bytes > this.maxBytes && this.head < this.records.length - 1) {
      const old = this.records[this.head]!;
      this.records[this.head++] = undefined as unknown as BufferedRecord;
      this.bytes -= old.body.length;
      this.coversAfter = old.commitTs;
    }
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
    this.wakeAll();
  }

  /** The first record committed after `ts`, or null (none yet, or `ts` is before what the buffer covers). */
  after(ts: number): BufferedRecord | null {
    if (ts < this.coversAfter) return null;
    let lo = this.head;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid]!.commitTs <= ts) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.records.length ? this.records[lo]! : null;
  }

  /**
   * Appends to `out` the records committed after `afterTs` and at or before
   * `upToTs`, in order, up to about `maxBytes` (at least one); returns the
   * last one's commitTs, or `afterTs` when none (or when `afterTs` is before
   * what the buffer covers).
   */
  take(afterTs: number, upToTs: number, maxBytes: number, out: BufferedRecord[]): number {
    if (afterTs < this.coversAfter) return afterTs;
    let lo = this.head;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid]!.commitTs <= afterTs) lo = mid + 1;
      else hi = mid;
    }
    let last = afterTs;
    let bytes = 0;
    for (let i = lo; i < this.records.length && bytes < maxBytes; i++) {
      const record = this.records[i]!;
      if (record.commitTs > upToTs) break;
      out.push(record);
      bytes += record.body.length;
      last = record.commitTs;
    }
    return last;
  }

  /** Resolves at the next record added (or `wakeAll`). */
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  wakeAll(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
