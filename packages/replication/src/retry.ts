/**
 * Retries a request to the NATS servers while the cluster is briefly away
 * (a leader being elected answers "temporarily unavailable", a request
 * times out): up to `ms`, then the last error. A TidemarkError (ours: a
 * check that failed) is never retried.
 */
import { isTidemarkError } from '@tidemark/core';

const PAUSE_MS = 250;

export async function retrying<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (isTidemarkError(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  }
}
