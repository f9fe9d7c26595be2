/**
 * What the log writer's and the streamer's runners share: a running loop's
 * handle, a turn of the event loop between steps (so control calls are
 * answered while a loop runs), and closing after a failure.
 */

/** A running loop: its API, and `halt` to end it at once (what terminating a worker thread does). */
export interface Running<Api> {
  api: Api;
  halt(): void;
}

/** Lets the event loop answer control calls before the next step. */
export const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Closes a loop's files after a failure; a second error (the file layer is what failed) is not the one to report. */
export function closeQuietly(loop: { close(): void }): void {
  try {
    loop.close();
  } catch {
    // ignored: the first error is reported
  }
}
