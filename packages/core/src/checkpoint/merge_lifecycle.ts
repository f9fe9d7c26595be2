/**
 * The merge lifecycle on the writer's side: a merge is planned, begun (its
 * targets listed as MERGE_TARGET), done (the task's result set) or abandoned
 * (its files removed), and installed at the next checkpoint (the targets
 * ACTIVE in the sources' place, the sources MERGED_SOURCE). Invariants:
 *
 * - At most one merge is in progress.
 * - Its sources are adjacent ACTIVE pairs, ACTIVE in the last root written,
 *   and marked `merging` until it is installed or abandoned; every tombstone
 *   that reaches them meanwhile is carried to the targets at the install.
 * - The task's targets are a prefix of the targets begun, in order.
 */
import { assert } from '../assert.js';
import { CfpState } from './cfp_format.js';
import type { CheckpointState } from './checkpoint_state.js';
import { chooseMerge, type MergePlan, type MergePolicy } from './merge_policy.js';
import type { MergeResult, MergeTask } from './merge_task.js';
import { closePairFiles, type OpenPair, openPair } from './open_pair.js';
import { removePairFiles } from './pair_files.js';
import { enter, leave, transition } from './pair_state.js';
import type { PairWriter } from './pair_writer.js';
import type { RetiredPairs } from './retired_pairs.js';
import type { CfpEntry } from './root_format.js';

/** What the merges and the file lifecycle did, for statistics. */
export interface MergeCounters {
  merges: number;
  mergeFailures: number;
  mergeRowsDropped: number;
  mergeBytesRead: number;
  mergeBytesWritten: number;
  tombstonesCarried: number;
  /** Checkpoint files deleted once no kept root needed them. */
  filesDeleted: number;
}

/** The merge in progress: begun, then done (result set), then installed at the next checkpoint. */
interface MergeInProgress {
  /** The pairs being written (MERGE_TARGET), in the order the task fills them; one it does not reach is not made. */
  targets: CfpEntry[];
  sources: OpenPair[];
  /** Tombstones that reached the sources after the merge read them. */
  carried: number[];
  result: MergeResult | null;
}

export class MergeLifecycle {
  private merge: MergeInProgress | null = null;
  /** Ids of the pairs ACTIVE in the last root written (a merge reads only those). */
  private readonly activeInRoot = new Set<number>();
  readonly counters: MergeCounters = {
    merges: 0,
    mergeFailures: 0,
    mergeRowsDropped: 0,
    mergeBytesRead: 0,
    mergeBytesWritten: 0,
    tombstonesCarried: 0,
    filesDeleted: 0,
  };

  constructor(
    private readonly state: CheckpointState,
    private readonly writer: PairWriter,
    private readonly retired: RetiredPairs,
  ) {}

  get running(): boolean {
    return this.merge !== null && this.merge.result === null;
  }

  get installPending(): boolean {
    return this.merge !== null && this.merge.result !== null;
  }

  /** The targets of the merge in progress (none if there is none). */
  get targets(): readonly CfpEntry[] {
    return this.merge?.targets ?? [];
  }

  /** Records which pairs a root just written names ACTIVE. */
  rootWritten(pairs: readonly OpenPair[]): void {
    this.activeInRoot.clear();
    for (const p of pairs) if (p.entry.state === CfpState.ACTIVE) this.activeInRoot.add(p.entry.id);
  }

  /** Records a pair ACTIVE in the root the writer was opened from. */
  restoreActive(id: number): void {
    this.activeInRoot.add(id);
  }

  /** The merge to run next under `policy` (null: none, or a merge is already in progress). */
  plan(policy: MergePolicy): MergePlan | null {
    if (this.merge !== null) return null;
    const mergeable = (e: CfpEntry): boolean => e.state === CfpState.ACTIVE && this.activeInRoot.has(e.id);
    return chooseMerge(
      this.writer.pairs.map((p) => p.entry),
      mergeable,
      policy,
    );
  }

  /**
   * Starts merging the pairs `plan.sources` (adjacent, ACTIVE) into
   * `plan.targets` new pairs: flushes the sources' pending tombstones so
   * the task reads them, gives each target a file id (each listed as
   * MERGE_TARGET until the install, so that a crash removes its files),
   * and from now on carries every new tombstone of the sources over to the
   * targets. Returns the task for a merge runner.
   */
  begin(plan: MergePlan): MergeTask {
    assert(this.merge === null, 'no merge is in progress when one begins');
    this.writer.flush();
    const sources = plan.sources.map((id) => {
      const source = this.writer.pairs.find((p) => p.entry.id === id);
      assert(source !== undefined && source.entry.state === CfpState.ACTIVE, `merge source ${id} is an ACTIVE pair`);
      return source;
    });
    assert(sources.length > 0 && plan.targets > 0, 'a merge has sources and targets');
    const targets = this.newTargets(sources, plan.targets);
    for (const s of sources) s.merging = true;
    this.merge = { targets, sources, carried: [], result: null };
    this.state.structureChanged = true;
    const { options } = this.state;
    return {
      dir: options.dir,
      databaseId: String(options.databaseId),
      targets: targets.map((t) => t.id),
      targetBytes: options.dataFileSizeBytes,
      sources: sources.map((s) => ({ ...s.entry })),
      fileMode: options.fileMode,
    };
  }

  /** A tombstone reached a source of the merge in progress: the install carries it to the targets. */
  carry(versionId: number): void {
    assert(this.merge !== null, 'a merge is in progress');
    this.merge.carried.push(versionId);
  }

  /** The merge task finished: its targets are installed at the next checkpoint. */
  finish(result: MergeResult): void {
    const merge = this.merge;
    const ids = result.targets.map((t) => t.id);
    assert(
      merge !== null && merge.result === null && ids.length > 0 && ids.every((id, i) => merge.targets[i]?.id === id),
      `a merge into pairs ${ids.join(', ')} is in progress`,
    );
    merge.result = result;
  }

  /** The merge task failed: its files are removed and the sources stay as they are. */
  abandon(): void {
    const merge = this.merge;
    if (merge === null) return;
    for (const s of merge.sources) s.merging = false;
    for (const t of merge.targets) {
      leave(t, CfpState.MERGE_TARGET);
      removePairFiles(this.state, t.id, true);
    }
    this.merge = null;
    this.counters.mergeFailures++;
    this.state.structureChanged = true;
  }

  /**
   * Installs a finished merge in the root being made: the targets take the
   * sources' place (ACTIVE, each over its part of their union range, so
   * later deletes route to it), the tombstones the sources received since
   * the merge read them go to the delta file of the target holding each
   * version, and the sources become MERGED_SOURCE. A target the task did
   * not make leaves the root.
   */
  install(): void {
    const merge = this.merge;
    assert(merge !== null && merge.result !== null, 'a finished merge is installed');
    const result = merge.result;
    const installed = result.targets.map((t, i) => {
      const entry: CfpEntry = {
        ...merge.targets[i]!,
        minVersion: t.minVersion,
        maxVersion: t.maxVersion,
        capacity: t.dataLength,
        dataLength: t.dataLength,
        deltaLength: t.deltaLength,
        rows: t.rows,
        tombstones: 0,
      };
      transition(entry, CfpState.MERGE_TARGET, CfpState.ACTIVE);
      return openPair(entry);
    });
    for (const unused of merge.targets.slice(installed.length)) leave(unused, CfpState.MERGE_TARGET);
    for (const versionId of merge.carried) {
      const target = installed.find((t) => t.entry.minVersion <= versionId && versionId <= t.entry.maxVersion!);
      assert(target !== undefined, `a carried tombstone ${versionId} falls in a target's range`);
      target.pending.push(versionId);
    }
    for (const target of installed) {
      target.entry.tombstones = target.pending.length;
      this.writer.writeDelta(target);
    }
    this.writer.replace(merge.sources, installed);
    for (const s of merge.sources) {
      closePairFiles(this.state.layer, s);
      this.retired.add(s.entry);
    }
    this.count(result, merge.carried.length);
    this.merge = null;
  }

  private count(result: MergeResult, carried: number): void {
    const c = this.counters;
    c.merges++;
    c.mergeRowsDropped += result.rowsDropped;
    c.mergeBytesRead += result.bytesRead;
    c.mergeBytesWritten += result.bytesWritten;
    c.tombstonesCarried += carried;
  }

  /** Target entries for a merge of `sources`, each over the sources' whole range until the install. */
  private newTargets(sources: OpenPair[], count: number): CfpEntry[] {
    const first = sources[0]!.entry;
    const last = sources[sources.length - 1]!.entry;
    let firstCommitTs = Math.min(...sources.map((s) => s.entry.firstCommitTs).filter((ts) => ts > 0), Infinity);
    if (!Number.isFinite(firstCommitTs)) firstCommitTs = 0;
    // Rows do not carry their commitTs: every target gets the sources' whole commit range.
    return Array.from({ length: count }, () => ({
      id: this.state.takeFileId(),
      state: enter(CfpState.MERGE_TARGET),
      minVersion: first.minVersion,
      maxVersion: last.maxVersion,
      firstCommitTs,
      lastCommitTs: Math.max(...sources.map((s) => s.entry.lastCommitTs)),
      capacity: 0,
      dataLength: 0,
      deltaLength: 0,
      rows: 0,
      tombstones: 0,
      sinceCheckpoint: this.state.nextRootSeq,
    }));
  }
}
