/**
 * A private redis-server for the redis peer: started on 127.0.0.1 only, on a
 * free port, with its files in a directory the peer owns, and stopped by its
 * PID.
 *
 * Invariants:
 * - The server listens on 127.0.0.1 alone (`--bind 127.0.0.1`, no unix
 *   socket) and never touches a server that was already running here.
 * - `startRedis` resolves only once the server answers PING with PONG, and
 *   stops the process before it rejects (a failed start leaves nothing behind).
 * - `stop` sends SIGTERM (Redis then fsyncs its AOF and exits), waits at most
 *   STOP_TIMEOUT_MS, then SIGKILL; every started server is also killed when
 *   the Node process exits, so a failed test cannot leak one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

/** How the server persists: an AOF fsync'd every second or on every write, or no AOF (RDB written when told to SAVE). */
export type Persistence = 'everysec' | 'always' | 'rdb';

/** Longest wait for a new server to answer PING (loading its AOF or RDB is part of it: 5 M rows take about 8 s here). */
const START_TIMEOUT_MS = 120_000;
const PING_INTERVAL_MS = 20;
/** Longest wait after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** Bytes of the server's output kept for error messages. */
const OUTPUT_TAIL_BYTES = 4_096;
/** Starts tried when the free port is taken between finding and binding it. */
const START_ATTEMPTS = 3;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Servers started and not yet seen to exit (tests assert none is left). */
export function runningRedisServers(): number {
  return live.size;
}

export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  /** Stops the server by its PID; resolves once it has exited. Stopping twice does nothing. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    if (!(await exited(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await exited(child, STOP_TIMEOUT_MS);
    }
  }
  live.delete(child);
}

function spawnServer(
  dir: string,
  port: number,
  persistence: Persistence,
): { child: ChildProcess; output: () => string } {
  const aof = persistence === 'rdb' ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', persistence];
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--protected-mode',
    'yes',
    '--unixsocket',
    '',
    '--dir',
    dir,
    ...aof,
    '--save',
    '',
    '--dbfilename',
    'dump.rdb',
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--loglevel',
    'warning',
    '--databases',
    '1',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => tail };
}

async function waitForPong(child: ChildProcess, port: number, output: () => string): Promise<void> {
  let spawnError: Error | null = null;
  child.once('error', (error) => (spawnError = error));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError !== null) throw new Error(`redis-server did not start: ${(spawnError as Error).message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING: ${output().trim()}`,
      );
    }
    if (await ping(port)) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server did not answer PING within ${START_TIMEOUT_MS} ms: ${output().trim()}`);
    await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL_MS));
  }
}

/** Starts redis-server with its files in `dir` (an existing directory); it loads the AOF (or, without one, the RDB) found there. */
export async function startRedis(dir: string, persistence: Persistence): Promise<RedisServer> {
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const { child, output } = spawnServer(dir, port, persistence);
    try {
      await waitForPong(child, port, output);
    } catch (error) {
      await stopChild(child);
      lastError = error as Error;
      // Another process took the port between freePort() and the bind: try another.
      if (/Address already in use/i.test(lastError.message)) continue;
      throw lastError;
    }
    let stopped: Promise<void> | null = null;
    return { port, pid: child.pid!, stop: () => (stopped ??= stopChild(child)) };
  }
  throw lastError ?? new Error('redis-server did not start');
}
