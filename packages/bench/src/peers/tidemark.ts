/**
 * Tidemark itself as a peer: `open()` from @tidemark/core on the peer's
 * directory, the accounts table of data.ts, autocommit upserts.
 *
 * Settings:
 * - `durable`: a put resolves after the log writer has fdatasync'd the WAL
 *   holding it. Concurrent commits are grouped by the log writer into one
 *   write and one fdatasync.
 * - `delayed`: a put resolves once committed in memory and handed to the
 *   log; it is fdatasync'd within maxDelayMs (10 ms by default), so a power
 *   loss may take the last few milliseconds of commits. close() waits for them.
 */
import type { Database, Durability, Table } from '@tidemark/core';
import { ACCOUNTS, openAccounts, TABLE } from '../data.js';
import {
  notOpen,
  toAccount,
  pickSetting,
  type Account,
  type Peer,
  type PeerFactory,
  type PeerOptions,
} from './peer.js';

const NAME = 'tidemark';
const SETTINGS: readonly Durability[] = ['delayed', 'durable'];

class TidemarkPeer implements Peer {
  readonly name = NAME;
  readonly durable: boolean;
  readonly snapshotOnly: boolean;
  readonly guarantee: string;
  #db: Database | null = null;
  #table: Table | null = null;

  constructor(
    readonly setting: Durability,
    readonly options: PeerOptions = {},
  ) {
    this.durable = setting === 'durable';
    this.snapshotOnly = false;
    this.guarantee = this.durable
      ? "resolves after the WAL holding the commit is fdatasync'd (group commit)"
      : "resolves once committed in memory; fdatasync'd within maxDelayMs (10 ms)";
  }

  async open(dir: string): Promise<void> {
    if (this.#db !== null) throw new Error(`peer ${NAME}: already open`);
    // openAccounts opens with the default durability; each write names its own.
    const db = await openAccounts(
      dir,
      this.options.recoveryWorkers === undefined ? {} : { recoveryWorkers: this.options.recoveryWorkers },
    );
    this.#db = db;
    this.#table = db.table(ACCOUNTS.name);
  }

  async put(row: Account): Promise<void> {
    await this.#open().upsert(row, { durability: this.setting });
  }

  async putBatch(rows: readonly Account[]): Promise<void> {
    const db = this.#db;
    if (db === null) throw notOpen(NAME);
    await db.transaction(
      (tx) => {
        for (const row of rows) tx.upsert(TABLE, row);
      },
      { durability: this.setting },
    );
  }

  get(id: number): Account | undefined {
    const row = this.#open().get(id);
    return row === undefined ? undefined : toAccount(row as Account);
  }

  count(): number {
    return this.#open().size;
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    this.#table = null;
    if (db !== null) await db.close();
  }

  #open(): Table {
    if (this.#table === null) throw notOpen(NAME);
    return this.#table;
  }
}

export const tidemarkFactory: PeerFactory = {
  name: NAME,
  settings: SETTINGS,
  loadsAtOpen: true,
  available: () => Promise.resolve(null),
  create(setting: string, options?: PeerOptions): Peer {
    return new TidemarkPeer(pickSetting(NAME, setting, SETTINGS), options);
  },
};
