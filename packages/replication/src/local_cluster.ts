/**
 * A local NATS cluster with JetStream, for the replication tests and the
 * demo (`@tidemark/replication/local-cluster`; not for production): N
 * nats-server processes on 127.0.0.1, each with its own config file, store
 * directory and log file under one fresh temporary directory.
 *
 * Invariants:
 * - Every port is free when chosen (bound to port 0 first) and on loopback only.
 * - Only the user "tidemark", with a random password, may connect; there is no
 *   anonymous access and no other user.
 * - startCluster() resolves only once a replicated file stream can be created,
 *   so a test never races the JetStream meta leader's election.
 * - A node is only ever signalled through its own process group (its shell,
 *   its server, a watcher), and every node still running when this process
 *   exits is SIGKILLed by an 'exit' handler; if this process dies without one
 *   (SIGKILL, a fatal error), each node's watcher SIGKILLs its server within
 *   a second, so nothing is left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** The most nodes a test may start: each one is a process with its own store. */
const MAX_NODES = 5;
/** How long startCluster() waits for a replicated stream to be creatable. */
const READY_LIMIT_MS = 15_000;
/** How long a node has to end on SIGTERM in stop() before it is SIGKILLed. */
const STOP_GRACE_MS = 2_000;
/** How long kill() waits for a signalled node to end, and restart() for it to listen. */
const NODE_LIMIT_MS = 10_000;
/** The pause between two polls of a condition. */
const POLL_MS = 100;
/** How much of a node's log an error message quotes. */
const LOG_TAIL_BYTES = 2_000;
const READY_STREAM = 'tm_ready';
const USER = 'tidemark';

export interface NatsCluster {
  /** One client URL per node, `nats://127.0.0.1:PORT`, in node order. */
  readonly servers: string[];
  /** Each node's server_name, in node order (what stream info names leaders and replicas by). */
  readonly names: string[];
  readonly user: string;
  readonly pass: string;
  /** The pid of each node's latest process, in node order. */
  readonly pids: number[];
  /** The temporary directory that holds every node's config, store and log. */
  readonly dir: string;
  connectOptions(): { servers: string[]; user: string; pass: string };
  /** Sends `signal` to node `i` by its pid and resolves once the process has ended. */
  kill(i: number, signal?: 'SIGKILL' | 'SIGTERM' | 'SIGINT'): Promise<void>;
  /** Starts node `i` again with the same config and store; resolves once it accepts connections. */
  restart(i: number): Promise<void>;
  /** The end of node `i`'s log file, for failure messages. */
  logTail(i: number): string;
  /** Ends every node (SIGTERM, then SIGKILL after a grace) and removes the temporary directory. */
  stop(): Promise<void>;
}

interface Node {
  name: string;
  port: number;
  clusterPort: number;
  configPath: string;
  logPath: string;
  proc: ChildProcess | null;
  running: boolean;
  exited: Promise<void>;
}

/** The nats-server binary on PATH, else the Debian package's, else null. */
export function natsServerPath(): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const candidate of [...dirs.map((d) => join(d, 'nats-server')), '/usr/sbin/nats-server']) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

// Every node process still running, and every cluster directory not yet removed,
// across all clusters of this test process: the 'exit' handler ends and removes them.
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const proc of live) signalGroup(proc, 'SIGKILL');
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
});

/** Starts an N-node (3 by default) JetStream cluster and resolves once it can create a replicated stream. */
export async function startCluster(options: { nodes?: number } = {}): Promise<NatsCluster> {
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) {
    throw new Error(`options.nodes must be an integer from 1 to ${MAX_NODES}, got ${count}`);
  }
  const serverPath = natsServerPath();
  if (serverPath === null) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-nats-'));
  dirs.add(dir);
  const pass = randomBytes(18).toString('hex');
  const ports = await freePorts(2 * count);
  const nodes: Node[] = Array.from({ length: count }, (_, i) => ({
    name: `n${i}`,
    port: ports[2 * i]!,
    clusterPort: ports[2 * i + 1]!,
    configPath: join(dir, `n${i}.conf`),
    logPath: join(dir, `n${i}.log`),
    proc: null,
    running: false,
    exited: Promise.resolve(),
  }));
  for (const node of nodes) {
    const storeDir = join(dir, node.name, 'store');
    mkdirSync(storeDir, { recursive: true });
    writeFileSync(node.configPath, configText(node, nodes, storeDir, pass));
  }
  const cluster = new Cluster(serverPath, dir, nodes, pass);
  try {
    for (const node of nodes) launch(node, serverPath);
    await cluster.waitReady(Math.min(3, count));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

class Cluster implements NatsCluster {
  readonly user = USER;
  #stopped = false;

  constructor(
    private readonly serverPath: string,
    readonly dir: string,
    private readonly nodes: Node[],
    readonly pass: string,
  ) {}

  get servers(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  }

  get names(): string[] {
    return this.nodes.map((n) => n.name);
  }

  get pids(): number[] {
    return this.nodes.flatMap((n) => (n.proc?.pid === undefined ? [] : [n.proc.pid]));
  }

  connectOptions(): { servers: string[]; user: string; pass: string } {
    return { servers: this.servers, user: this.user, pass: this.pass };
  }

  async kill(i: number, signal: 'SIGKILL' | 'SIGTERM' | 'SIGINT' = 'SIGKILL'): Promise<void> {
    const node = this.node(i);
    if (!node.running) throw new Error(`node ${i} is not running`);
    signalGroup(node.proc!, signal);
    const ended = await settlesWithin(node.exited, NODE_LIMIT_MS);
    if (!ended)
      throw new Error(`node ${i} (pid ${node.proc!.pid}) did not end within ${NODE_LIMIT_MS} ms of ${signal}`);
  }

  async restart(i: number): Promise<void> {
    const node = this.node(i);
    if (node.running) throw new Error(`node ${i} is still running`);
    if (this.#stopped) throw new Error('the cluster has been stopped');
    launch(node, this.serverPath);
    const until = Date.now() + NODE_LIMIT_MS;
    while (!(await accepts(node.port))) {
      if (!node.running) throw new Error(`node ${i} exited on restart: ${this.logTail(i)}`);
      if (Date.now() > until) throw new Error(`node ${i} did not listen within ${NODE_LIMIT_MS} ms`);
      await sleep(POLL_MS);
    }
  }

  logTail(i: number): string {
    try {
      return readFileSync(this.node(i).logPath, 'utf8').slice(-LOG_TAIL_BYTES);
    } catch {
      return '(no log)';
    }
  }

  async stop(): Promise<void> {
    const running = this.nodes.filter((n) => n.running);
    for (const node of running) signalGroup(node.proc!, 'SIGTERM');
    await settlesWithin(Promise.all(running.map((n) => n.exited)), STOP_GRACE_MS);
    for (const node of running) if (node.running) signalGroup(node.proc!, 'SIGKILL');
    await Promise.all(running.map((n) => n.exited));
    if (!this.#stopped) {
      this.#stopped = true;
      rmSync(this.dir, { recursive: true, force: true });
      dirs.delete(this.dir);
    }
  }

  /** Retries creating (then deletes) a throwaway stream with `replicas` replicas until it succeeds. */
  async waitReady(replicas: number): Promise<void> {
    const until = Date.now() + READY_LIMIT_MS;
    let nc: NatsConnection | null = null;
    let last: unknown = null;
    try {
      while (Date.now() < until) {
        const down = this.nodes.findIndex((n) => !n.running);
        if (down >= 0) throw new Error(`node ${down} exited while starting: ${this.logTail(down)}`);
        try {
          nc ??= await connect({ ...this.connectOptions(), reconnect: false, timeout: 1_000 });
          const jsm = await jetstreamManager(nc, { timeout: 2_000 });
          const subjects = [READY_STREAM];
          await jsm.streams.add({ name: READY_STREAM, subjects, num_replicas: replicas, storage: StorageType.File });
          await jsm.streams.delete(READY_STREAM);
          return;
        } catch (error) {
          last = error;
          if (nc?.isClosed()) nc = null;
        }
        await sleep(POLL_MS);
      }
      throw new Error(`no R${replicas} stream could be created within ${READY_LIMIT_MS} ms: ${String(last)}`);
    } finally {
      await nc?.close();
    }
  }

  private node(i: number): Node {
    const node = this.nodes[i];
    if (!Number.isInteger(i) || node === undefined)
      throw new Error(`no node ${i} in a ${this.nodes.length}-node cluster`);
    return node;
  }
}

/** Signals a node's process group: its shell, its server and the watcher (see launch). */
function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-proc.pid!, signal);
  } catch {}
}

/** Spawns `node`'s server with its config, its output appended to its log file. */
function launch(node: Node, serverPath: string): void {
  const log = openSync(node.logPath, 'a');
  try {
    // A shell of its own process group runs the server, and a watcher that SIGKILLs it once this process is gone
    // (even SIGKILLed, when no 'exit' handler runs); a signal to the group reaches both. The shell ignores
    // SIGTERM (set after the server starts, so the server still gets it) and ends when the server does.
    const script = `"$0" -c "$1" & n=$!; trap '' TERM INT; ( while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 $n 2>/dev/null ) & w=$!; wait $n; s=$?; kill -9 $w 2>/dev/null; exit $s`;
    const proc = spawn('sh', ['-c', script, serverPath, node.configPath], {
      stdio: ['ignore', log, log],
      detached: true,
    });
    node.proc = proc;
    node.running = true;
    live.add(proc);
    node.exited = new Promise((resolve) => {
      const ended = () => {
        node.running = false;
        live.delete(proc);
        resolve();
      };
      proc.once('exit', ended);
      // A spawn that fails (no binary, no permission) emits 'error' and never 'exit'.
      proc.once('error', ended);
    });
  } finally {
    closeSync(log);
  }
}

/** The config file of `node`: loopback listeners, JetStream, routes to every other node, one user. */
function configText(node: Node, nodes: Node[], storeDir: string, pass: string): string {
  const routes = nodes.filter((n) => n !== node).map((n) => JSON.stringify(`nats-route://127.0.0.1:${n.clusterPort}`));
  const lines = [
    `server_name: ${JSON.stringify(node.name)}`,
    `listen: "127.0.0.1:${node.port}"`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(storeDir)}`,
    '  max_memory_store: 64M',
    '  max_file_store: 4G',
    '}',
  ];
  // A lone node runs JetStream standalone: a cluster block without routes would wait for peers.
  if (nodes.length > 1) {
    lines.push(
      'cluster {',
      '  name: "tidemark-test"',
      `  listen: "127.0.0.1:${node.clusterPort}"`,
      `  routes: [${routes.join(', ')}]`,
      // Clients keep to the addresses they were given (they get every node's): a test may put proxies in front.
      '  no_advertise: true',
      '}',
    );
  }
  lines.push(
    'authorization {',
    `  users: [{ user: ${JSON.stringify(USER)}, password: ${JSON.stringify(pass)} }]`,
    '}',
    '',
  );
  return lines.join('\n');
}

/** `count` distinct free loopback ports: all are held bound until every one is chosen. */
async function freePorts(count: number): Promise<number[]> {
  const held: ReturnType<typeof createServer>[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      held.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return held.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
