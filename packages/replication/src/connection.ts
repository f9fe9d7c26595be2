/**
 * One connection to the NATS servers, with the stream of one database and
 * its checkpoint object store: made if missing (R`replicas`, file storage).
 */
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { ErrorCode, TidemarkError } from '@tidemark/core';
import { connectOptions, type NatsOptions } from './options.js';

export interface StreamLink {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  subject: string;
  store: ObjectStore;
  close(): Promise<void>;
}

/** How long a msgID is remembered by the stream: a publish retried within it is stored once. */
const DUPLICATE_WINDOW_MS = 120_000;
/** Longest the stream and store may take to appear after a fresh cluster starts (its meta leader is being elected). */
const CREATE_PATIENCE_MS = 15_000;

export async function linkStream(o: NatsOptions, name: string, replicas: number | null): Promise<StreamLink> {
  let nc: NatsConnection;
  try {
    nc = await connect(connectOptions(o, name));
  } catch (error) {
    throw new TidemarkError(
      ErrorCode.REPLICATION_UNAVAILABLE,
      `cannot connect to the NATS servers (${o.servers.join(', ')}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    const jsm = await jetstreamManager(nc);
    const subject = `${o.stream}.log`;
    const deadline = Date.now() + CREATE_PATIENCE_MS;
    let store: ObjectStore | null = null;
    for (;;) {
      try {
        if (replicas === null) await jsm.streams.info(o.stream);
        else await ensureStream(jsm, o.stream, subject, replicas);
        const objm = new Objm(nc);
        store =
          replicas === null ? await objm.open(`${o.stream}_ckpt`) : await objm.create(`${o.stream}_ckpt`, { replicas });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const js = jetstream(nc);
    return { nc, js, jsm, stream: o.stream, subject, store, close: () => nc.close() };
  } catch (error) {
    await nc.close();
    throw new TidemarkError(
      ErrorCode.REPLICATION_UNAVAILABLE,
      `the stream "${o.stream}" or its object store cannot be reached: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function ensureStream(jsm: JetStreamManager, stream: string, subject: string, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(stream);
    return;
  } catch {}
  await jsm.streams.add({
    name: stream,
    subjects: [subject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    allow_direct: true,
  });
}
