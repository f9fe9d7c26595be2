/**
 * The checker's history and its checks. Every operation is recorded when
 * it is invoked and when it completes, with its outcome: `ok` (acknowledged:
 * the commit's token and the epoch of the node that acknowledged it),
 * `fail` (certainly not committed: a conflict, a refused write,
 * REPLICATION_FENCED, which says the commit never reached the stream), or
 * `unknown` (no answer, a timeout, REPLICATION_UNAVAILABLE). Faults are
 * recorded too. The checks, on the healed cluster's final content:
 *
 *   every acknowledged transfer and insert is on every node; no failed one is
 *   no log row that no operation attempted
 *   money is conserved (a transfer applied in part would break it)
 *   every epoch was acknowledged by one node only
 *   every read-your-writes read saw its write
 *   every node has the same content
 */
import { writeFileSync } from 'node:fs';

export type Outcome = 'ok' | 'fail' | 'unknown';

export interface Entry {
  at: number;
  kind: 'invoke' | 'complete' | 'fault' | 'read';
  op?: string;
  tid?: string;
  node?: string;
  outcome?: Outcome;
  code?: string;
  token?: number;
  epoch?: number;
  detail?: string;
}

export interface NodeState {
  node: string;
  log: string[];
  balances: number[];
}

/**
 * How a failed request's code counts: `fail` only where the commit certainly
 * is not in the stream (refused before it was made, or REPLICATION_FENCED).
 */
export function outcomeOf(code: string | undefined): Outcome {
  if (code === undefined) return 'ok';
  return ['TM_CONFLICT', 'TM_READ_ONLY', 'TM_REPLICATION_FENCED', 'NOT_PRIMARY'].includes(code) ? 'fail' : 'unknown';
}

export class History {
  readonly entries: Entry[] = [];
  readonly #started = Date.now();

  add(entry: Omit<Entry, 'at'>): void {
    this.entries.push({ at: Date.now() - this.#started, ...entry });
  }

  count(kind: Entry['kind'], outcome?: Outcome): number {
    return this.entries.filter((e) => e.kind === kind && (outcome === undefined || e.outcome === outcome)).length;
  }

  write(path: string): void {
    writeFileSync(path, `${this.entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
  }

  /** The entries about `tid`, and those around them: the smallest window that shows an anomaly. */
  window(tid: string, around = 5): string {
    const at = this.entries.flatMap((e, i) => (e.tid === tid ? [i] : []));
    if (at.length === 0) return `(no entry for ${tid})`;
    const lo = Math.max(0, at[0]! - around);
    const hi = Math.min(this.entries.length, at.at(-1)! + around + 1);
    return this.entries
      .slice(lo, hi)
      .map((e) => JSON.stringify(e))
      .join('\n');
  }

  /** The anomalies of this history against the final content of every node. */
  check(states: NodeState[], accounts: number): string[] {
    const anomalies: string[] = [];
    const done = this.entries.filter((e) => e.kind === 'complete');
    const attempted = new Set(this.entries.filter((e) => e.kind === 'invoke').map((e) => e.tid));
    for (const state of states) {
      const rows = new Set(state.log);
      for (const e of done) {
        if (e.outcome === 'ok' && !rows.has(e.tid!))
          anomalies.push(`${e.op} ${e.tid} was acknowledged but is not on ${state.node}\n${this.window(e.tid!)}`);
        if (e.outcome === 'fail' && rows.has(e.tid!))
          anomalies.push(`${e.op} ${e.tid} failed (${e.code}) but is on ${state.node}\n${this.window(e.tid!)}`);
      }
      for (const tid of rows)
        if (!attempted.has(tid)) anomalies.push(`${state.node} holds ${tid}, which no operation attempted`);
      const total = state.balances.reduce((a, b) => a + b, 0);
      if (state.balances.length !== accounts || total !== accounts * 100)
        anomalies.push(
          `${state.node}: ${state.balances.length} accounts holding ${total}, not ${accounts} holding ${accounts * 100}`,
        );
    }
    const first = states[0]!;
    for (const state of states.slice(1)) {
      const same = JSON.stringify([...state.log].sort()) === JSON.stringify([...first.log].sort());
      if (!same || JSON.stringify(state.balances) !== JSON.stringify(first.balances))
        anomalies.push(`${state.node} differs from ${first.node} after healing`);
    }
    const byEpoch = new Map<number, Set<string>>();
    for (const e of done) {
      if (e.outcome !== 'ok' || e.epoch === undefined || e.epoch === 0) continue;
      const nodes = byEpoch.get(e.epoch) ?? new Set<string>();
      nodes.add(e.node!);
      byEpoch.set(e.epoch, nodes);
    }
    for (const [epoch, nodes] of byEpoch)
      if (nodes.size > 1) anomalies.push(`epoch ${epoch} was acknowledged by ${[...nodes].join(' and ')}`);
    for (const e of this.entries)
      if (e.kind === 'read' && e.outcome === 'fail')
        anomalies.push(`a read-your-writes read of ${e.tid} on ${e.node} missed it\n${this.window(e.tid!)}`);
    return anomalies;
  }
}
