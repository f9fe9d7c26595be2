/**
 * The options of replicate() and openReplica(), checked like open()'s: an
 * unknown key or a value out of range is INVALID_OPTION naming it. The
 * credentials are handed to the NATS client only; nothing here is written
 * to the database directory or to any log.
 */
import type { ConnectionOptions } from '@nats-io/transport-node';
import { ErrorCode, TidemarkError } from '@tidemark/core';

/** How to reach the NATS servers: the addresses and the credentials (user and password, a token, or nkeys), TLS. */
export interface NatsOptions {
  /** Server addresses, e.g. ['nats://10.0.0.1:4222', ...]. */
  servers: string[];
  /** The stream's name (letters, digits, '-' and '_'); its object store is `<stream>_ckpt`. */
  stream: string;
  user?: string;
  pass?: string;
  token?: string;
  /** An nkey seed (the `SU...` string) and the user's public key are taken through `authenticator`. */
  authenticator?: ConnectionOptions['authenticator'];
  /** TLS options as the NATS client takes them (`{ ca, cert, key }` file contents or `caFile`...). */
  tls?: ConnectionOptions['tls'];
}

export interface ReplicateOptions extends NatsOptions {
  /** Copies of the stream and the object store in the cluster (default 3). */
  replicas?: number;
  /** How long a `replicated` commit waits for the stream before REPLICATION_UNAVAILABLE (default 10,000 ms). */
  replicationTimeoutMs?: number;
  /** Largest message payload sent; a larger group is cut into chunks (default 512 KiB, under the servers' 1 MiB). */
  chunkBytes?: number;
  /** Record bytes gathered into one message before it is sent (default 256 KiB). */
  groupBytes?: number;
  /** Messages sent and not yet acknowledged at most (default 64). */
  maxInFlight?: number;
  /** A checkpoint goes to the object store this often (default 600,000 ms; 0: only at start and by call). */
  checkpointIntervalMs?: number;
  /** Checkpoints kept in the object store; the stream is trimmed below the oldest (default 2). */
  keepCheckpoints?: number;
  /** Pace of the checkpoint copy (the backup's bytesPerSecond). */
  checkpointBytesPerSecond?: number;
  /**
   * WAL bytes kept for a stream that is behind (default 1 GiB). Past it the
   * replication cursor lets the WAL go; shipping resumes from a fresh
   * checkpoint and replicas behind it bootstrap again.
   */
  maxUnshippedBytes?: number;
}

export interface ReplicaOptions extends NatsOptions {
  /** The replica's own database directory. */
  dir: string;
  /** Other options of open() for the replica's local database (not durability, readOnly or migrate). */
  open?: Record<string, unknown>;
  /**
   * Reads fail with STALE once the replica has not confirmed for this long
   * that it holds the whole stream (default: no bound).
   */
  maxStalenessMs?: number;
}

/** A node of a cluster with failover (joinCluster): a replica that takes over when the primary's lease lapses. */
export interface MemberOptions extends ReplicateOptions {
  /** This node's database directory. */
  dir: string;
  /** This node's name, unique in the cluster (1 to 64 letters, digits, '-' or '_'). */
  node: string;
  /** How long the primary's lease lasts without a renewal (default 5,000 ms; renewed every third of it). */
  leaseMs?: number;
  /** Whether a replica takes over by itself once the lease lapses (default true; false: only promote()). */
  autoPromote?: boolean;
  /** Other options of open() for the node's local database (not durability, readOnly or migrate). */
  open?: Record<string, unknown>;
  /** While a replica, reads fail with STALE past this long without confirming it holds the whole stream. */
  maxStalenessMs?: number;
}

export interface FilledMember {
  dir: string;
  node: string;
  leaseMs: number;
  autoPromote: boolean;
  /** What replicate() takes when this node is the primary (checked). */
  replicate: ReplicateOptions;
  /** What openReplica() takes when it follows (checked). */
  replica: ReplicaOptions;
}

const MEMBER_KEYS = new Set(['dir', 'node', 'leaseMs', 'autoPromote', 'open', 'maxStalenessMs']);

export function fillMember(options: unknown): FilledMember {
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  const o = options as Record<string, unknown>;
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(o)) if (!MEMBER_KEYS.has(key)) rest[key] = value;
  fillReplicate(rest);
  if (typeof o.node !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(o.node))
    throw invalid("options.node must be 1 to 64 letters, digits, '-' or '_'");
  if (o.autoPromote !== undefined && typeof o.autoPromote !== 'boolean')
    throw invalid('options.autoPromote must be a boolean');
  const nats: Record<string, unknown> = {};
  for (const key of NATS_KEYS) if (o[key] !== undefined) nats[key] = o[key];
  const replica = fillReplica({
    ...nats,
    dir: o.dir,
    ...(o.open === undefined ? {} : { open: o.open }),
    ...(o.maxStalenessMs === undefined ? {} : { maxStalenessMs: o.maxStalenessMs }),
  });
  return {
    dir: replica.dir,
    node: o.node,
    leaseMs: integer(o, 'leaseMs', 5_000, 200, 600_000),
    autoPromote: (o.autoPromote as boolean | undefined) ?? true,
    replicate: rest as unknown as ReplicateOptions,
    replica,
  };
}

const NATS_KEYS = ['servers', 'stream', 'user', 'pass', 'token', 'authenticator', 'tls'];
const REPLICATE_KEYS = new Set([
  ...NATS_KEYS,
  'replicas',
  'replicationTimeoutMs',
  'chunkBytes',
  'groupBytes',
  'maxInFlight',
  'checkpointIntervalMs',
  'keepCheckpoints',
  'checkpointBytesPerSecond',
  'maxUnshippedBytes',
]);
const REPLICA_KEYS = new Set([...NATS_KEYS, 'dir', 'open', 'maxStalenessMs']);

export function invalid(message: string): TidemarkError {
  return new TidemarkError(ErrorCode.INVALID_OPTION, message);
}

function checkKeys(options: unknown, known: ReadonlySet<string>): Record<string, unknown> {
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  for (const key of Object.keys(options)) if (!known.has(key)) throw invalid(`options.${key} is not an option`);
  return options as Record<string, unknown>;
}

function checkNats(o: Record<string, unknown>): void {
  const servers = o.servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && s !== ''))
    throw invalid('options.servers must be a non-empty array of server addresses');
  if (typeof o.stream !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(o.stream))
    throw invalid("options.stream must be 1 to 64 letters, digits, '-' or '_'");
  for (const key of ['user', 'pass', 'token'])
    if (o[key] !== undefined && typeof o[key] !== 'string') throw invalid(`options.${key} must be a string`);
}

function integer(o: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const value = o[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`options.${key} must be an integer from ${min} to ${max}`);
  return value;
}

export type FilledReplicate = Required<Omit<ReplicateOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>> &
  Pick<ReplicateOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;

export function fillReplicate(options: unknown): FilledReplicate {
  const o = checkKeys(options, REPLICATE_KEYS);
  checkNats(o);
  const pace = o.checkpointBytesPerSecond;
  if (pace !== undefined && (typeof pace !== 'number' || !(pace > 0)))
    throw invalid('options.checkpointBytesPerSecond must be a positive number (Infinity: unpaced)');
  return {
    ...(o as unknown as ReplicateOptions),
    replicas: integer(o, 'replicas', 3, 1, 5),
    replicationTimeoutMs: integer(o, 'replicationTimeoutMs', 10_000, 1, 3_600_000),
    chunkBytes: integer(o, 'chunkBytes', 512 * 1024, 1024, 960 * 1024),
    groupBytes: integer(o, 'groupBytes', 256 * 1024, 1, 64 * 1024 * 1024),
    maxInFlight: integer(o, 'maxInFlight', 64, 1, 4096),
    checkpointIntervalMs: integer(o, 'checkpointIntervalMs', 600_000, 0, 2 ** 31 - 1),
    keepCheckpoints: integer(o, 'keepCheckpoints', 2, 1, 100),
    checkpointBytesPerSecond: (pace as number | undefined) ?? 64 * 1024 * 1024,
    maxUnshippedBytes: integer(o, 'maxUnshippedBytes', 1024 ** 3, 1024 * 1024, 1024 ** 4),
  };
}

export function fillReplica(options: unknown): ReplicaOptions {
  const o = checkKeys(options, REPLICA_KEYS);
  checkNats(o);
  if (typeof o.dir !== 'string' || o.dir === '') throw invalid('options.dir must be a directory path');
  const open = o.open;
  if (open !== undefined && (open === null || typeof open !== 'object'))
    throw invalid('options.open must be an object of open() options');
  for (const key of ['dir', 'readOnly', 'migrate', 'durability'])
    if (open !== undefined && Object.hasOwn(open, key)) throw invalid(`options.open.${key} is set by openReplica()`);
  if (o.maxStalenessMs !== undefined) integer(o, 'maxStalenessMs', 0, 1, 2 ** 31 - 1);
  return o as unknown as ReplicaOptions;
}

/** The NATS client's connection options: the addresses and credentials, nothing else. */
export function connectOptions(o: NatsOptions, name: string): ConnectionOptions {
  return {
    servers: o.servers,
    name,
    user: o.user,
    pass: o.pass,
    token: o.token,
    authenticator: o.authenticator,
    tls: o.tls,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
}

/** Checks waitFor()'s arguments; returns its timeout (30 s by default). */
export function waitArguments(token: number, options?: { timeoutMs?: number }): number {
  if (!Number.isSafeInteger(token) || token < 0)
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'waitFor() takes a commitTs (a non-negative integer)');
  const ms = options?.timeoutMs ?? 30_000;
  if (!Number.isInteger(ms) || ms < 0)
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.timeoutMs must be a non-negative integer');
  return ms;
}
