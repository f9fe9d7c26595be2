/**
 * What a node of joinCluster() checks before it changes role: whether its
 * replica has applied the whole stream (before it may take over), and
 * whether its directory was once a primary's (then it may hold commits the
 * stream never got, and starts over from the object store); and whether the
 * stream is new (no checkpoint: the first node to take the lease starts it);
 * and whether a new term opens.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CheckpointStore } from './checkpoints.js';
import { linkStream } from './connection.js';
import type { NatsOptions } from './options.js';
import type { Replication } from './primary.js';
import type { Replica } from './replica.js';

/** How long a promotion waits for the replica to apply the stream's end. */
const CATCH_UP_MS = 10_000;

/** Whether `replica` applied `stream` up to its last sequence, waiting up to CATCH_UP_MS; `why` hears why not. */
export async function caughtUp(
  nc: NatsConnection,
  stream: string,
  replica: Replica,
  why: (message: string) => void,
): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  const lastSeq = (await jsm.streams.info(stream)).state.last_seq;
  const deadline = Date.now() + CATCH_UP_MS;
  while (replica.appliedSeq < lastSeq) {
    if (Date.now() > deadline) {
      why(`the replica did not apply the stream up to message ${lastSeq} within ${CATCH_UP_MS} ms`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Whether `dir`'s named cursors include the one a primary of `stream` ships under. */
export function wasPrimary(dir: string, stream: string): boolean {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dir, 'cursors'));
  } catch {
    return false;
  }
  return bytes.includes(`"replication:${stream}"`);
}

/** Whether `stream` has no checkpoint yet (nobody wrote it), or cannot be linked to. */
export async function freshStream(options: NatsOptions & { stream: string }, node: string): Promise<boolean> {
  let link: Awaited<ReturnType<typeof linkStream>>;
  try {
    link = await linkStream(options, `tidemark-node-${node}`, null);
  } catch {
    return true;
  }
  try {
    return (await new CheckpointStore(link.store).manifests()).length === 0;
  } finally {
    await link.close();
  }
}

/**
 * Whether `replication`'s term opens (its opening group is in the stream)
 * while `live()` holds and within `ms`; `why` hears why not (the fence's
 * message, or undefined for time or the lease).
 */
export function termOpened(
  replication: Replication,
  live: () => boolean,
  ms: number,
  why: (message: string | undefined) => void,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const deadline = performance.now() + ms;
    const timer = setInterval(() => {
      if (live() && performance.now() < deadline) return;
      clearInterval(timer);
      why(undefined);
      resolve(false);
    }, 50);
    const done = (ok: boolean) => {
      clearInterval(timer);
      resolve(ok);
    };
    replication.onFenced = (error) => {
      why(error.message);
      done(false);
    };
    void replication.opened.then(() => done(true));
  });
}
