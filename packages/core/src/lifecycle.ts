/**
 * How open databases meet the end of their process.
 *
 * - The application is done (Node's event loop is about to empty, the
 *   'beforeExit' event): every database on disk still open is closed, so
 *   its `delayed` commits become durable, a final checkpoint is written and
 *   the LOCK released, and the process then ends by itself. The engine's
 *   threads do not keep it alive (threads/worker_handle.ts), except while a
 *   caller waits on them.
 * - SIGINT or SIGTERM: Node's default ends the process at once. Durable
 *   commits already acknowledged are safe; `delayed` ones inside their
 *   `maxDelayMs` may be lost. With options.closeOnSignals the databases
 *   that asked for it close first, and the signal is then raised again so
 *   that it ends the process as it would have (unless the application
 *   listens for it too, which then decides).
 * - process.exit(): nothing runs; the next open replays the log.
 */

/** What this module needs of a database. */
export interface Closable {
  close(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const atExit = new Set<Closable>();
const onSignals = new Set<Closable>();
let exitHookInstalled = false;

/** Registers an open database: closed when the event loop empties, and on SIGINT/SIGTERM if `signals`. */
export function closeWhenDone(db: Closable, signals: boolean): void {
  atExit.add(db);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('beforeExit', closeAtExit);
  }
  if (signals) {
    if (onSignals.size === 0) for (const signal of SIGNALS) process.on(signal, closeOnSignal);
    onSignals.add(db);
  }
}

/** The database is closing by itself: nothing more to do for it here (and signals get their default back). */
export function forget(db: Closable): void {
  atExit.delete(db);
  if (onSignals.delete(db) && onSignals.size === 0) removeSignalHandlers();
}

function removeSignalHandlers(): void {
  for (const signal of SIGNALS) process.off(signal, closeOnSignal);
}

function closeAtExit(): void {
  for (const db of [...atExit]) {
    forget(db);
    // Nobody awaits this close: a failure is reported and fails the process, as an error nobody caught would.
    db.close().catch((error: unknown) => {
      process.exitCode ||= 1;
      process.emitWarning(`closing a database as the process ended failed: ${String(error)}`, {
        code: 'TIDEMARK_EXIT_CLOSE_FAILED',
      });
    });
  }
}

function closeOnSignal(signal: NodeJS.Signals): void {
  const closing = [...onSignals];
  removeSignalHandlers();
  onSignals.clear();
  for (const db of closing) atExit.delete(db);
  void Promise.allSettled(closing.map((db) => db.close())).then((results) => {
    for (const r of results)
      if (r.status === 'rejected') console.error(`tidemark: closing a database on ${signal} failed:`, r.reason);
    // What the signal would have done: with no other listener left, Node's default ends the process.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}
