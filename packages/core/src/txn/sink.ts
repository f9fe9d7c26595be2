/**
 * Where the commit pipeline hands each committed change. A change is streamed
 * op by op (no object per op): the row bytes passed to `insert` are the very
 * bytes just written into the table's arena. The durable log of a later issue
 * implements this interface with a SharedArrayBuffer ring.
 */
export interface LogSink {
  /** The newest commitTs known durable (Infinity for a sink that keeps nothing). */
  readonly durableTs: number;
  /** Starts the record of one transaction. */
  begin(commitTs: number): void;
  /** A new row version: its versionId, the table, the encoded row payload. */
  insert(tableId: number, versionId: number, bytes: Uint8Array, offset: number, length: number): void;
  /** The end of a row version: the versionId it ends, the table, the row's encoded key. */
  delete(tableId: number, versionId: number, key: Uint8Array, offset: number, length: number): void;
  /** Ends the record. */
  end(): void;
  /** Resolves once every change up to `commitTs` is durable. */
  whenDurable(commitTs: number): Promise<void>;
  /** Waits for everything handed over so far, then releases resources. */
  close(): Promise<void>;
}

const done = Promise.resolve();

/** Discards every change: the in-memory engine before the log exists, and `schemaOnly` tables. */
export class DiscardSink implements LogSink {
  readonly durableTs = Infinity;
  begin(): void {}
  insert(): void {}
  delete(): void {}
  end(): void {}
  whenDurable(): Promise<void> {
    return done;
  }
  close(): Promise<void> {
    return done;
  }
}
