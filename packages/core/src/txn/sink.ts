/**
 * Where the commit pipeline hands each committed change. A change is streamed
 * op by op (no object per op): the row bytes passed to `insert` are the very
 * bytes just written into the table's arena. The durable sink (log/durable_sink.ts)
 * turns them into a log record in the ring read by the log writer worker.
 */
export interface LogSink {
  /** The newest commitTs known durable (Infinity for a sink that keeps nothing). */
  readonly durableTs: number;
  /** The largest record the sink takes; commits are checked against it before they install. */
  readonly maxRecordBytes: number;
  /** Bytes of records queued because the ring was full. */
  readonly backlogBytes: number;
  /** Starts the record of one transaction. */
  begin(commitTs: number): void;
  /** A new row version: its versionId, the table, the encoded row payload. */
  insert(tableId: number, versionId: number, bytes: Uint8Array, offset: number, length: number): void;
  /** The end of a row version: the versionId it ends, the table, the row's encoded key. */
  delete(tableId: number, versionId: number, key: Uint8Array, offset: number, length: number): void;
  /** A new table: its id and its definition as UTF-8 JSON. */
  createTable(tableId: number, definition: Uint8Array): void;
  /** A schema change: the table's id and its new stored definition as UTF-8 JSON (`null` when dropped). */
  changeTable(tableId: number, definition: Uint8Array): void;
  /** Ends the record. */
  end(): void;
  /** Resolves with `commitTs` once every change up to it is durable; rejects if it never can be. */
  whenDurable(commitTs: number): Promise<number>;
  /** Whether waitDurableSync may block this thread (false while the log writer runs on it: the fault tests). */
  readonly blocking: boolean;
  /** Blocks this thread until every change up to `commitTs` is durable; throws if it cannot wait for that. */
  waitDurableSync(commitTs: number): void;
  /** Waits for everything handed over so far, then releases resources. */
  close(): Promise<void>;
}

const done = Promise.resolve();

/** Discards every change: a database opened without a directory. */
export class DiscardSink implements LogSink {
  readonly durableTs = Infinity;
  readonly maxRecordBytes = Infinity;
  readonly backlogBytes = 0;
  readonly blocking = true;
  begin(): void {}
  insert(): void {}
  delete(): void {}
  createTable(): void {}
  changeTable(): void {}
  end(): void {}
  whenDurable(commitTs: number): Promise<number> {
    return Promise.resolve(commitTs);
  }
  waitDurableSync(): void {}
  close(): Promise<void> {
    return done;
  }
}
