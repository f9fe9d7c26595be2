/**
 * Builds an empty ByteTree from runs of entries already sorted by key (an
 * index build's, table/index_entries.ts), merged, in steps that end at a deadline: leaves
 * first, a leaf at a time, then the branches above them, and the tree takes
 * the nodes at the end (so it stays empty until then, and nothing may change
 * it meanwhile).
 *
 * Nothing is allocated per entry, and little per leaf: every leaf's offsets,
 * values and heads are views into one Uint32Array allocated at the start,
 * and its key bytes a view into one Uint8Array, with room for a full leaf
 * of keys of the average length (a leaf that needs more later takes a
 * buffer of its own). So loading millions of entries makes two large
 * allocations rather than several per leaf, and the garbage collector is
 * not called once for every few megabytes of leaves, then or on the first
 * inserts after.
 *
 * Leaves are filled to seven eighths and branches to three quarters, which
 * leaves room for the inserts that follow.
 */
import type { ByteTree } from './byte_tree.js';
import { Branch, compareRanges, headOf, keyHi, keyLo, Leaf, type Node } from './byte_tree_nodes.js';

/** Bytes more than its share that each leaf's room gets (a rounding's worth, and a key or so). */
const ROOM_SLACK = 16;

/** Entries sorted by key: entry i's key is keys[keyStart(ends, i), ends[i]), its value values[i]. */
export interface SortedRun {
  keys: Uint8Array;
  ends: Uint32Array;
  values: Uint32Array;
  count: number;
}

/** Where entry i's key starts in a run of keys laid end to end (where entry i - 1's ends). */
export function keyStart(ends: Uint32Array, i: number): number {
  return i === 0 ? 0 : ends[i - 1]!;
}

export class SortedLoad {
  /** Each run's next entry. */
  private readonly next: number[];
  private left: number;
  private readonly count: number;
  private readonly leaves: Leaf[] = [];
  private readonly words: Uint32Array;
  private readonly bytes: Uint8Array;
  private bytesAt = 0;
  private readonly perLeaf: number;
  /** The entries of the leaf being made: run and entry number. */
  private readonly pickedRun: Uint8Array;
  private readonly pickedAt: Uint32Array;
  private done = false;

  /** Loads `runs`, merged (a few: each entry picks the least of their next keys); no key is in two runs. */
  constructor(
    private readonly tree: ByteTree,
    private readonly runs: readonly SortedRun[],
  ) {
    this.perLeaf = Math.max(1, (tree.leafEntries * 7) >>> 3);
    this.next = runs.map(() => 0);
    this.count = runs.reduce((sum, run) => sum + run.count, 0);
    this.left = this.count;
    const leaves = Math.ceil(this.count / this.perLeaf);
    this.words = new Uint32Array(leaves * (4 * tree.leafEntries + 1));
    const keyBytes = runs.reduce((sum, run) => sum + (run.count === 0 ? 0 : run.ends[run.count - 1]!), 0);
    this.bytes = new Uint8Array(Math.ceil((keyBytes * tree.leafEntries) / this.perLeaf) + leaves * (ROOM_SLACK + 1));
    this.pickedRun = new Uint8Array(this.perLeaf);
    this.pickedAt = new Uint32Array(this.perLeaf);
  }

  /** Loads until `deadline` (performance.now()); returns whether the tree holds every entry. */
  step(deadline: number): boolean {
    while (this.left > 0) {
      this.addLeaf(); // one at least: each step makes progress
      if (this.left > 0 && performance.now() >= deadline) return false;
    }
    if (!this.done) {
      this.done = true;
      if (this.count > 0) this.tree.adopt(this.branches(), this.count);
    }
    return true;
  }

  /** Picks the run whose next key is least. */
  private least(): number {
    const { runs, next } = this;
    let best = -1;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      const i = next[r]!;
      if (i >= run.count) continue;
      if (best >= 0) {
        const b = runs[best]!;
        const j = next[best]!;
        const from = keyStart(run.ends, i);
        const bFrom = keyStart(b.ends, j);
        if (compareRanges(run.keys, from, run.ends[i]!, b.keys, bFrom, b.ends[j]!) >= 0) continue;
      }
      best = r;
    }
    return best;
  }

  /** The next leaf, of the next perLeaf entries. */
  private addLeaf(): void {
    const { runs, next, pickedRun, pickedAt } = this;
    const n = Math.min(this.perLeaf, this.left);
    let used = 0;
    for (let k = 0; k < n; k++) {
      const r = this.least();
      const i = next[r]!++;
      pickedRun[k] = r;
      pickedAt[k] = i;
      const run = runs[r]!;
      used += run.ends[i]! - keyStart(run.ends, i);
    }
    this.left -= n;
    const capacity = this.tree.leafEntries;
    const w = this.leaves.length * (4 * capacity + 1);
    const words = this.words;
    const leaf = new Leaf(
      words.subarray(w, w + capacity + 1),
      words.subarray(w + capacity + 1, w + 2 * capacity + 1),
      words.subarray(w + 2 * capacity + 1, w + 3 * capacity + 1),
      words.subarray(w + 3 * capacity + 1, w + 4 * capacity + 1),
      this.room(used),
    );
    const { offs, vals, hi, lo, bytes } = leaf;
    let at = 0;
    for (let k = 0; k < n; k++) {
      const run = runs[pickedRun[k]!]!;
      const i = pickedAt[k]!;
      const from = keyStart(run.ends, i);
      const to = run.ends[i]!;
      offs[k] = at;
      vals[k] = run.values[i]!;
      headOf(run.keys, from, to);
      hi[k] = keyHi;
      lo[k] = keyLo;
      for (let b = from; b < to; b++) bytes[at++] = run.keys[b]!;
    }
    offs[n] = at;
    leaf.n = n;
    const prev = this.leaves.at(-1);
    if (prev !== undefined) {
      prev.next = leaf;
      leaf.prev = prev;
    }
    this.leaves.push(leaf);
  }

  /** A leaf's key bytes, for `used` bytes of perLeaf keys: room for a full leaf of them. */
  private room(used: number): Uint8Array {
    const size = Math.ceil((used * this.tree.leafEntries) / this.perLeaf) + ROOM_SLACK;
    const at = this.bytesAt;
    this.bytesAt += size;
    return this.bytes.subarray(at, at + size);
  }

  /** The branches over the leaves, level by level; returns the root. */
  private branches(): Node {
    let level: Node[] = this.leaves;
    let firsts: Uint8Array[] = this.leaves.map((leaf) => leaf.bytes.slice(0, leaf.offs[1]!));
    const per = Math.max(2, (this.tree.branchChildren * 3) >>> 2);
    while (level.length > 1) {
      const groups = Math.ceil(level.length / per);
      const up: Node[] = [];
      const upFirsts: Uint8Array[] = [];
      for (let g = 0; g < groups; g++) {
        const from = Math.floor((g * level.length) / groups);
        const to = Math.floor(((g + 1) * level.length) / groups);
        const branch = new Branch(this.tree.branchChildren);
        branch.children.push(...level.slice(from, to));
        branch.seps.push(...firsts.slice(from + 1, to));
        branch.setHeads();
        up.push(branch);
        upFirsts.push(firsts[from]!);
      }
      level = up;
      firsts = upFirsts;
    }
    return level[0]!;
  }
}
