/**
 * A partition made on loopback: a TCP proxy in front of each NATS node.
 * A process given the proxies' addresses reaches the cluster through them;
 * `cut()` drops every connection through them and refuses new ones (the
 * process is cut off from every node while the others still reach them),
 * `heal()` lets them through again.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export class PartitionProxy {
  #cut = false;
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly servers: Server[],
    /** nats://127.0.0.1:<port> of each proxy, in the order of the targets. */
    readonly addresses: string[],
  ) {}

  /** A proxy on a free loopback port for each of `targets` (nats://host:port). */
  static async start(targets: string[]): Promise<PartitionProxy> {
    const servers: Server[] = [];
    const addresses: string[] = [];
    let proxy: PartitionProxy | null = null;
    for (const target of targets) {
      const url = new URL(target);
      const server = createServer((client) => {
        if (proxy === null || proxy.#cut) {
          client.destroy();
          return;
        }
        const upstream = tcpConnect(Number(url.port), url.hostname);
        const sockets = proxy.#sockets;
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      servers.push(server);
      addresses.push(`nats://127.0.0.1:${port}`);
    }
    proxy = new PartitionProxy(servers, addresses);
    return proxy;
  }

  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }

  heal(): void {
    this.#cut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
