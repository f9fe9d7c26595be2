/**
 * Redis as a peer, through ioredis, against a private redis-server that the
 * peer starts at `open` and stops by its PID at `close` (redis_server.ts).
 * The server's files (AOF in `appendonlydir/`) live in `<dir>/redis`; a
 * reopen on the same directory starts a new server that loads them.
 *
 * A row is one string key `a:<id>` holding the packed JSON array
 * `[name, balance, ts]` (JSON keeps every float64 exact). Keys are only
 * ever these rows, so the row count is DBSIZE.
 *
 * Settings:
 * - `AOF everysec`, the fastest honest setting: a write is acknowledged once
 *   appended to the AOF in the page cache; the AOF is fsync'd every second,
 *   so a power loss may lose about the last second (up to two) of writes.
 * - `AOF always`: Redis fsyncs the AOF before it replies, once per turn of
 *   its event loop for every write received in that turn: durable.
 * - `RDB at close`: no AOF; the whole data set is written to `dump.rdb` by
 *   SAVE when the peer closes, and loaded from it when a server starts (the
 *   "RDB load" restart). A crash loses everything since the last save.
 *
 * Concurrent puts are auto-pipelined by ioredis (every SET issued in one
 * event-loop turn goes out in one write); a batch is one MULTI/EXEC.
 */
import { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { notOpen, pickSetting, type Account, type Peer, type PeerFactory } from './peer.js';
import { startRedis, type Persistence, type RedisServer } from './redis_server.js';

const NAME = 'redis';
const SETTINGS = ['AOF everysec', 'AOF always', 'RDB at close'] as const;
type Setting = (typeof SETTINGS)[number];
const SUBDIR = 'redis';
const KEY_PREFIX = 'a:';

function encode(row: Account): string {
  return JSON.stringify([row.name, row.balance, row.ts]);
}

function decode(id: number, value: string): Account {
  const [name, balance, ts] = JSON.parse(value) as [string, number, number];
  return { id, name, balance, ts };
}

const PERSISTENCE: Record<Setting, Persistence> = {
  'AOF everysec': 'everysec',
  'AOF always': 'always',
  'RDB at close': 'rdb',
};
const GUARANTEES: Record<Setting, string> = {
  'AOF everysec': "AOF written before the reply, fsync'd every second: a power loss may lose the last second or two",
  'AOF always': "AOF fsync'd before the reply (one fsync per server event-loop turn)",
  'RDB at close':
    'in memory only; the data set is written to dump.rdb by SAVE at close: a crash loses everything since',
};

class RedisPeer implements Peer {
  readonly name = NAME;
  readonly durable: boolean;
  readonly snapshotOnly: boolean;
  readonly guarantee: string;
  #server: RedisServer | null = null;
  #client: Redis | null = null;

  constructor(readonly setting: Setting) {
    this.durable = setting === 'AOF always';
    this.snapshotOnly = setting === 'RDB at close';
    this.guarantee = GUARANTEES[setting];
  }

  async open(dir: string): Promise<void> {
    if (this.#server !== null) throw new Error(`peer ${NAME}: already open`);
    const redisDir = join(dir, SUBDIR);
    await mkdir(redisDir, { recursive: true });
    this.#server = await startRedis(redisDir, PERSISTENCE[this.setting]);
    try {
      const client = new Redis({
        host: '127.0.0.1',
        port: this.#server.port,
        lazyConnect: true,
        enableAutoPipelining: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      this.#client = client;
      await client.connect(); // resolves when ready: after the server has loaded its AOF
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async put(row: Account): Promise<void> {
    const reply = await this.#open().set(KEY_PREFIX + row.id, encode(row));
    if (reply !== 'OK') throw new Error(`peer ${NAME}: SET answered ${String(reply)}`);
  }

  async putBatch(rows: readonly Account[]): Promise<void> {
    const multi = this.#open().multi();
    for (const row of rows) multi.set(KEY_PREFIX + row.id, encode(row));
    const results = await multi.exec();
    if (results === null) throw new Error(`peer ${NAME}: MULTI/EXEC was aborted`);
    for (const [error] of results) if (error !== null) throw error;
  }

  async get(id: number): Promise<Account | undefined> {
    const value = await this.#open().get(KEY_PREFIX + id);
    return value === null ? undefined : decode(id, value);
  }

  count(): Promise<number> {
    return this.#open().dbsize();
  }

  /** The server's `used_memory`: what its allocator holds for the data set and its own structures. */
  async serverMemoryBytes(): Promise<number> {
    const info = await this.#open().info('memory');
    const match = /^used_memory:(\d+)/m.exec(info);
    if (match === null) throw new Error(`peer ${NAME}: INFO memory has no used_memory`);
    return Number(match[1]);
  }

  /**
   * Saves the RDB (that setting), quits the client, then stops the server by
   * its PID; runs to the end whatever fails, then rejects if the save failed
   * (the rows would be lost).
   */
  async close(): Promise<void> {
    const client = this.#client;
    const server = this.#server;
    this.#client = null;
    this.#server = null;
    let saveError: Error | null = null;
    try {
      if (client !== null && client.status !== 'ready' && this.setting === 'RDB at close') {
        saveError = new Error(
          `peer ${NAME}: the connection is ${client.status}, so the RDB could not be saved: its rows are lost`,
        );
      }
      if (client !== null && client.status === 'ready') {
        if (this.setting === 'RDB at close') {
          const reply = await client.save().catch((error: Error) => error);
          if (reply !== 'OK')
            saveError = new Error(
              `peer ${NAME}: SAVE failed: ${reply instanceof Error ? reply.message : String(reply)}`,
            );
        }
        await client.quit();
      }
    } catch {
      // The server is stopped below either way.
    } finally {
      client?.disconnect();
      await server?.stop();
    }
    if (saveError !== null) throw saveError;
  }

  #open(): Redis {
    if (this.#client === null) throw notOpen(NAME);
    return this.#client;
  }
}

export const redisFactory: PeerFactory = {
  name: NAME,
  settings: SETTINGS,
  loadsAtOpen: true,
  available(): Promise<string | null> {
    return new Promise((resolve) => {
      execFile('redis-server', ['--version'], { timeout: 5_000 }, (error) => {
        resolve(
          error === null
            ? null
            : `no redis-server binary (${error.message.split('\n')[0]}); run packages/bench/scripts/setup-peers.sh as root`,
        );
      });
    });
  },
  create(setting: string): Peer {
    return new RedisPeer(pickSetting(NAME, setting, SETTINGS));
  },
};
