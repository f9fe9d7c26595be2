/**
 * Builds an empty ByteTree from entries already sorted by key (an index
 * build's, table/index_entries.ts), in steps that end at a deadline: leaves
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
import { Branch, headOf, keyHi, keyLo, Leaf, type Node } from './byte_tree_nodes.js';

/** Bytes more than its share that each leaf's room gets (a rounding's worth, and a key or so). */
const ROOM_SLACK = 16;

export class SortedLoad {
  private at = 0;
  private readonly leaves: Leaf[] = [];
  private readonly words: Uint32Array;
  private readonly bytes: Uint8Array;
  private bytesAt = 0;
  private readonly perLeaf: number;
  private done = false;

  /** Entry i's key is keys[ends[i - 1] (0 for the first), ends[i]), its value values[i]; ascending, no two equal. */
  constructor(
    private readonly tree: ByteTree,
    private readonly keys: Uint8Array,
    private readonly ends: Uint32Array,
    private readonly values: Uint32Array,
    private readonly count: number,
  ) {
    this.perLeaf = Math.max(1, (tree.leafEntries * 7) >>> 3);
    const leaves = Math.ceil(count / this.perLeaf);
    this.words = new Uint32Array(leaves * (4 * tree.leafEntries + 1));
    const keyBytes = count === 0 ? 0 : ends[count - 1]!;
    this.bytes = new Uint8Array(Math.ceil((keyBytes * tree.leafEntries) / this.perLeaf) + leaves * (ROOM_SLACK + 1));
  }

  /** Loads until `deadline` (performance.now()); returns whether the tree holds every entry. */
  step(deadline: number): boolean {
    while (this.at < this.count) {
      this.addLeaf(); // one at least: each step makes progress
      if (this.at < this.count && performance.now() >= deadline) return false;
    }
    if (!this.done) {
      this.done = true;
      if (this.count > 0) this.tree.adopt(this.branches(), this.count);
    }
    return true;
  }

  /** The next leaf, of the next perLeaf entries. */
  private addLeaf(): void {
    const { keys, ends, values } = this;
    const capacity = this.tree.leafEntries;
    const from = this.at;
    const to = Math.min(from + this.perLeaf, this.count);
    const base = from === 0 ? 0 : ends[from - 1]!;
    const w = this.leaves.length * (4 * capacity + 1);
    const words = this.words;
    const leaf = new Leaf(
      words.subarray(w, w + capacity + 1),
      words.subarray(w + capacity + 1, w + 2 * capacity + 1),
      words.subarray(w + 2 * capacity + 1, w + 3 * capacity + 1),
      words.subarray(w + 3 * capacity + 1, w + 4 * capacity + 1),
      this.room(ends[to - 1]! - base),
    );
    leaf.bytes.set(keys.subarray(base, ends[to - 1]!));
    const { offs, vals, hi, lo } = leaf;
    let start = base;
    for (let i = from; i < to; i++) {
      const k = i - from;
      offs[k] = start - base;
      vals[k] = values[i]!;
      headOf(keys, start, ends[i]!);
      hi[k] = keyHi;
      lo[k] = keyLo;
      start = ends[i]!;
    }
    offs[to - from] = start - base;
    leaf.n = to - from;
    const prev = this.leaves.at(-1);
    if (prev !== undefined) {
      prev.next = leaf;
      leaf.prev = prev;
    }
    this.leaves.push(leaf);
    this.at = to;
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
