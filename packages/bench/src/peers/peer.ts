/**
 * The contract every store of the side-by-side benchmark implements: the
 * accounts row of data.ts (`{ id int32, name string(16), balance float64,
 * ts float64 }`), keyed by id, written one row per commit or many per commit.
 *
 * Invariants every adapter keeps (checkPeer in check.ts verifies them):
 * - `put` is one commit of one row; `putBatch` is one commit of all its rows.
 *   Either resolves only once the store acknowledges the commit at the
 *   adapter's setting, and then `get` returns the row.
 * - Many `put` calls may be in flight at once; each resolves for its own row,
 *   and the store may group them into fewer commits (that is its batching).
 * - `durable` is true only where a resolved write survives a power loss: the
 *   store has fdatasync'd (or fsync'd) it before acknowledging.
 * - A clean `close` keeps every acknowledged write, durable or not: `open` on
 *   the same directory reads them all back.
 * - `close` releases everything the peer started (files, threads, processes),
 *   also after a failed `open`.
 */
import type { Account } from '../data.js';

export type { Account };

export interface Peer {
  /** The store: 'tidemark', 'better-sqlite3', 'lmdb', 'redis', 'map-json'. */
  readonly name: string;
  /** The setting, as the report labels it (one of its factory's `settings`). */
  readonly setting: string;
  /** True: a resolved write survives a power loss. */
  readonly durable: boolean;
  /** True: not durable, and a crash loses everything since the last snapshot (not a window of a second or less). */
  readonly snapshotOnly: boolean;
  /** What the setting guarantees, in one sentence, for the report. */
  readonly guarantee: string;
  /** Opens (or reopens) the store kept in `dir`, an existing directory the peer owns. */
  open(dir: string): Promise<void>;
  /** One row, one commit; resolves when acknowledged at this setting. */
  put(row: Account): Promise<void>;
  /** All the rows in one commit. */
  putBatch(rows: readonly Account[]): Promise<void>;
  get(id: number): Account | undefined | Promise<Account | undefined>;
  /** Rows stored. */
  count(): number | Promise<number>;
  /** Waits for acknowledged writes to be kept, and releases everything; closing twice does nothing. */
  close(): Promise<void>;
  /**
   * Bytes the store holds outside this process (a server's own count of its
   * memory), for memory per row; absent for a store inside this process.
   */
  serverMemoryBytes?(): Promise<number>;
}

/**
 * The class a setting is compared within, by what a crash may take:
 * 'durable' (nothing acknowledged), 'bounded loss' (the last moments: a
 * sync interval), 'snapshot' (everything since the last snapshot).
 */
export function lossClass(peer: Pick<Peer, 'durable' | 'snapshotOnly'>): string {
  if (peer.durable) return 'durable';
  return peer.snapshotOnly ? 'snapshot' : 'bounded loss';
}

/** Options a factory may honour when it creates a peer; one that does not apply is ignored. */
export interface PeerOptions {
  /** Tidemark: recovery workers at open (default: one per CFP, at most one per core). */
  recoveryWorkers?: number;
}

export interface PeerFactory {
  readonly name: string;
  /** Settings this store runs at, fastest honest first. */
  readonly settings: readonly string[];
  /** True: open() reads every row into memory; false: it opens its files and reads pages on demand later. */
  readonly loadsAtOpen: boolean;
  /** null when the store can run here, else why the peer is skipped. */
  available(): Promise<string | null>;
  create(setting: string, options?: PeerOptions): Peer;
}

/** The error of a setting a factory does not have: a bug in the caller. */
export function unknownSetting(name: string, setting: string, settings: readonly string[]): Error {
  return new Error(`peer ${name}: unknown setting '${setting}' (one of ${settings.map((s) => `'${s}'`).join(', ')})`);
}

/** `setting` as one of the peer's `settings`, or the error naming the ones it has. */
export function pickSetting<S extends string>(name: string, setting: string, settings: readonly S[]): S {
  const found = settings.find((s) => s === setting);
  if (found === undefined) throw unknownSetting(name, setting, settings);
  return found;
}

/** The error of a call on a peer that is not open: a bug in the caller. */
export function notOpen(name: string): Error {
  return new Error(`peer ${name}: not open`);
}

/** A row as a fresh plain object with exactly the four fields, whatever the store returned. */
export function toAccount(value: { id: unknown; name: unknown; balance: unknown; ts: unknown }): Account {
  return { id: Number(value.id), name: String(value.name), balance: Number(value.balance), ts: Number(value.ts) };
}
