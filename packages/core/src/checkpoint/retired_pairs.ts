/**
 * Merged sources on their way out, and the deletion of their files. A source
 * is MERGED_SOURCE in the root that installs its merge, TOMBSTONE in the
 * next, its files are deleted once that root is written and the older roots
 * are gone, and the root after leaves it out. Invariants:
 *
 * - Every pair here is MERGED_SOURCE or TOMBSTONE; none holds rows a root
 *   still needs once it is TOMBSTONE and the roots kept (ROOTS_KEPT,
 *   constants.ts) name it no more than MERGED_SOURCE.
 * - `deleted` holds only ids of TOMBSTONE pairs here whose files are gone.
 */
import { assert } from '../assert.js';
import { CfpState } from './cfp_format.js';
import type { CheckpointState } from './checkpoint_state.js';
import { removePairFiles } from './pair_files.js';
import { leave, transition } from './pair_state.js';
import type { CfpEntry } from './root_format.js';

export class RetiredPairs {
  /** MERGED_SOURCE, then TOMBSTONE (files deleted), then dropped. */
  private entries: CfpEntry[] = [];
  /** Ids of TOMBSTONE pairs whose files are gone. */
  private readonly deleted = new Set<number>();
  constructor(private readonly state: CheckpointState) {}

  /** Takes in a MERGED_SOURCE or TOMBSTONE pair a root named (the files of a TOMBSTONE one were removed at open). */
  restore(entry: CfpEntry): void {
    assert(
      entry.state === CfpState.MERGED_SOURCE || entry.state === CfpState.TOMBSTONE,
      `a ${entry.state} pair is not retired`,
    );
    this.entries.push({ ...entry });
    if (entry.state === CfpState.TOMBSTONE) this.deleted.add(entry.id);
  }

  /** A source of an installed merge: a copy of its entry, moved to MERGED_SOURCE. */
  add(source: CfpEntry): void {
    const entry = { ...source };
    transition(entry, CfpState.ACTIVE, CfpState.MERGED_SOURCE);
    this.entries.push(entry);
  }

  /** Whether merged sources still wait to become TOMBSTONE, have their files deleted, or leave the root. */
  get retiring(): boolean {
    return this.entries.length > 0;
  }

  /** Whether merged sources still have files on disk. */
  get retiringFiles(): boolean {
    return this.entries.some((e) => !this.deleted.has(e.id));
  }

  /** The entries as the next root records them (the caller copies them). */
  get list(): readonly CfpEntry[] {
    return this.entries;
  }

  /**
   * Moves merged sources one step along before a root is written: those
   * MERGED_SOURCE in the last root become TOMBSTONE (their files are deleted
   * once that root is written and the root before it, the last to name them
   * ACTIVE, is gone); TOMBSTONE ones whose files are gone leave the root.
   */
  advance(): void {
    this.entries = this.entries.filter((e) => {
      if (e.state !== CfpState.TOMBSTONE || !this.deleted.has(e.id)) return true;
      leave(e, CfpState.TOMBSTONE);
      return false;
    });
    for (const e of this.entries)
      if (e.state === CfpState.MERGED_SOURCE) transition(e, CfpState.MERGED_SOURCE, CfpState.TOMBSTONE);
    for (const id of [...this.deleted]) if (!this.entries.some((e) => e.id === id)) this.deleted.delete(id);
  }

  /** Deletes the files of TOMBSTONE pairs (after their root is written and the older roots are gone); returns how many. */
  deleteFiles(): number {
    let removed = 0;
    for (const e of this.entries) {
      if (e.state !== CfpState.TOMBSTONE || this.deleted.has(e.id)) continue;
      removed += removePairFiles(this.state, e.id, false);
      this.deleted.add(e.id);
    }
    if (removed > 0) this.state.layer.fsyncDir(this.state.options.dir);
    return removed;
  }
}
