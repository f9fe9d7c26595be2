/**
 * A request to promote a node, from outside its process (`tidemark-replication
 * promote`): the key `request` of the bucket `<stream>_promote` names the
 * node; that node, while a replica, promotes itself as `promote()` does and
 * deletes the request. A bucket apart from the lease's, whose compare-and-set
 * counts on holding one key.
 */
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

const KEY = 'request';

export class PromoteRequests {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, stream: string, replicas = 3): Promise<PromoteRequests> {
    return new PromoteRequests(await new Kvm(nc).create(`${stream}_promote`, { history: 1, replicas }));
  }

  /** Asks `node` to promote itself. */
  async ask(node: string): Promise<void> {
    await this.kv.put(KEY, JSON.stringify({ node, at: Date.now() }));
  }

  /** The node asked to promote itself, if any. */
  async asked(): Promise<string | null> {
    const entry = await this.kv.get(KEY);
    if (entry === null || entry.operation !== 'PUT') return null;
    try {
      const value = JSON.parse(entry.string()) as { node?: unknown };
      return typeof value.node === 'string' ? value.node : null;
    } catch {
      return null;
    }
  }

  async clear(): Promise<void> {
    await this.kv.delete(KEY);
  }
}
