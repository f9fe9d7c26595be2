/**
 * A B+ tree from byte-string keys to uint32 values, compared byte by byte
 * (shorter first on a common prefix). It keeps no object per entry: a leaf
 * holds its keys end to end in one Uint8Array with their offsets in a
 * Uint32Array, and its values in another; a branch holds child nodes and
 * one separator per child after the first. Millions of entries are then a
 * few tens of thousands of objects for the garbage collector to walk, not
 * millions.
 *
 * Every key's first 8 bytes (zeros past its end) are kept beside it as two
 * big-endian uint32s, its head, in the node's arrays: a search compares heads
 * and reads a key's bytes only when the heads are equal, so a probe touches
 * one array instead of chasing a separate key (about 10% off an insert
 * into a tree of 1 M random numbers or 500 K strings sharing a prefix, for
 * 8 more bytes an entry; 2026-12-07).
 *
 * Deletes merge a leaf or branch that falls below a quarter full into a
 * sibling when the two fit in one node; a pair that does not fit is at least
 * three quarters full together, so the tree never thins out.
 */

import {
  Branch,
  compareRanges,
  headOf,
  insertAt,
  keyHi,
  keyLo,
  Leaf,
  type Node,
  removeAt,
  search,
} from './byte_tree_nodes.js';

const LEAF_ENTRIES = 128;
const BRANCH_CHILDREN = 64;

export { compareRanges } from './byte_tree_nodes.js';

export class ByteTree {
  private root: Node;
  private count = 0;
  readonly leafEntries: number;
  readonly branchChildren: number;
  /** The entry a range visit is at (see currentKey). */
  private atLeaf: Leaf | null = null;
  private atIndex = 0;
  /** The branches and child slots of the last descent (reused). */
  private readonly path: Branch[] = [];
  private readonly slots: number[] = [];
  /** The separators around the leaf the last descent reached (null: none on that side). */
  private low: Uint8Array | null = null;
  private high: Uint8Array | null = null;
  /** The leaf the last set went to and the separators around it; null once the tree's shape changed. */
  private finger: Leaf | null = null;
  private fingerLow: Uint8Array | null = null;
  private fingerHigh: Uint8Array | null = null;

  /** Node sizes are for tests; the defaults suit millions of entries. */
  constructor(leafEntries = LEAF_ENTRIES, branchChildren = BRANCH_CHILDREN) {
    this.leafEntries = leafEntries;
    this.branchChildren = branchChildren;
    this.root = this.newLeaf(0);
  }

  get size(): number {
    return this.count;
  }

  /** Takes the nodes a SortedLoad built (byte_tree_load.ts) in place of an empty tree's. */
  adopt(root: Node, count: number): void {
    if (this.count !== 0) throw new Error('a sorted load needs an empty tree');
    this.root = root;
    this.count = count;
    this.finger = null;
  }

  /**
   * Sets key[from, to) to `value`; returns whether the key is new. A key
   * between the separators around the leaf the last set went to goes
   * straight to that leaf (keys added in order, as a build adds them,
   * skip the descent) unless the leaf would split.
   */
  set(value: number, key: Uint8Array, from = 0, to = key.length): boolean {
    let leaf = this.finger;
    if (leaf === null || leaf.n >= this.leafEntries - 1 || !this.inFinger(key, from, to)) {
      leaf = this.fingerAt(key, from, to);
    } else headOf(key, from, to);
    const at = search(leaf, key, from, to);
    if (at >= 0) {
      leaf.vals[at] = value;
      return false;
    }
    insertAt(leaf, ~at, key, from, to, value);
    this.count++;
    if (leaf.n === this.leafEntries) {
      this.finger = null;
      this.splitLeaf(leaf, this.path, this.slots);
    }
    return true;
  }

  /** Descends to the leaf for key[from, to), recording the path, and makes it the finger; sets the key's head. */
  private fingerAt(key: Uint8Array, from: number, to: number): Leaf {
    this.path.length = 0;
    this.slots.length = 0;
    const leaf = this.descend(key, from, to, this.path, this.slots);
    this.finger = leaf;
    this.fingerLow = this.low;
    this.fingerHigh = this.high;
    return leaf;
  }

  /** Whether key[from, to) is between the separators around the finger leaf. */
  private inFinger(key: Uint8Array, from: number, to: number): boolean {
    const low = this.fingerLow;
    const high = this.fingerHigh;
    return (
      (low === null || compareRanges(low, 0, low.length, key, from, to) <= 0) &&
      (high === null || compareRanges(key, from, to, high, 0, high.length) < 0)
    );
  }

  /** Removes key[from, to); returns whether it was there. */
  delete(key: Uint8Array, from = 0, to = key.length): boolean {
    const { path, slots } = this;
    path.length = 0;
    slots.length = 0;
    const leaf = this.descend(key, from, to, path, slots);
    const at = search(leaf, key, from, to);
    if (at < 0) return false;
    removeAt(leaf, at);
    this.count--;
    this.rebalance(leaf, path, slots);
    return true;
  }

  /**
   * Visits values with keys in [low, high], ascending or descending, until
   * `visit` returns false. During a visit, currentKey() is the entry's key.
   */
  forRange(low: Uint8Array, high: Uint8Array, reverse: boolean, visit: (value: number) => boolean): void {
    if (compareRanges(low, 0, low.length, high, 0, high.length) > 0) return;
    if (!reverse) {
      let leaf: Leaf | null = this.descend(low, 0, low.length, null, null);
      const at = search(leaf, low, 0, low.length);
      let i = at >= 0 ? at : ~at;
      for (; leaf !== null; leaf = leaf.next, i = 0) {
        for (; i < leaf.n; i++) {
          if (compareRanges(leaf.bytes, leaf.offs[i]!, leaf.offs[i + 1]!, high, 0, high.length) > 0) return;
          if (!this.visitAt(leaf, i, visit)) return;
        }
      }
    } else {
      let leaf: Leaf | null = this.descend(high, 0, high.length, null, null);
      const at = search(leaf, high, 0, high.length);
      let i = at >= 0 ? at : ~at - 1;
      for (; leaf !== null; leaf = leaf.prev, i = leaf === null ? 0 : leaf.n - 1) {
        for (; i >= 0; i--) {
          if (compareRanges(leaf.bytes, leaf.offs[i]!, leaf.offs[i + 1]!, low, 0, low.length) < 0) return;
          if (!this.visitAt(leaf, i, visit)) return;
        }
      }
    }
  }

  /** A copy of the key of the entry last visited by forRange. */
  currentKey(): Uint8Array {
    const leaf = this.atLeaf!;
    return leaf.bytes.slice(leaf.offs[this.atIndex]!, leaf.offs[this.atIndex + 1]!);
  }

  /** Whether the entry being visited has the key `key`. */
  currentKeyIs(key: Uint8Array): boolean {
    const leaf = this.atLeaf!;
    const from = leaf.offs[this.atIndex]!;
    return compareRanges(leaf.bytes, from, leaf.offs[this.atIndex + 1]!, key, 0, key.length) === 0;
  }

  private visitAt(leaf: Leaf, i: number, visit: (value: number) => boolean): boolean {
    this.atLeaf = leaf;
    this.atIndex = i;
    return visit(leaf.vals[i]!);
  }

  private newLeaf(byteCapacity: number): Leaf {
    return Leaf.empty(this.leafEntries, Math.max(byteCapacity, this.leafEntries * 8));
  }

  /** The leaf where key[from, to) is or would be, recording the branches and child slots on the way. */
  private descend(key: Uint8Array, from: number, to: number, path: Branch[] | null, slots: number[] | null): Leaf {
    let node = this.root;
    this.low = null;
    this.high = null;
    headOf(key, from, to);
    const khi = keyHi;
    const klo = keyLo;
    while (node instanceof Branch) {
      const seps = node.seps;
      const heads = node.hi;
      const lows = node.lo;
      let lo = 0;
      let hi = seps.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const h = heads[mid]!;
        let notAbove: boolean; // seps[mid] <= key
        if (h !== khi) notAbove = h < khi;
        else if (lows[mid] !== klo) notAbove = lows[mid]! < klo;
        else {
          const sep = seps[mid]!;
          notAbove = compareRanges(sep, 0, sep.length, key, from, to) <= 0;
        }
        if (notAbove) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) this.low = seps[lo - 1]!;
      if (lo < seps.length) this.high = seps[lo]!;
      path?.push(node);
      slots?.push(lo);
      node = node.children[lo]!;
    }
    return node;
  }

  private splitLeaf(leaf: Leaf, path: Branch[], slots: number[]): void {
    const half = leaf.n >>> 1;
    const right = this.newLeaf(2 * (leaf.used - leaf.offs[half]!)); // room to fill up again
    right.appendFrom(leaf, half, leaf.n);
    leaf.n = half;
    right.next = leaf.next;
    if (right.next !== null) right.next.prev = right;
    right.prev = leaf;
    leaf.next = right;
    this.insertChild(right.bytes.slice(0, right.offs[1]!), leaf, right, path, slots);
  }

  /** Puts `right` after `left` in the parent of `left` (path's last), splitting branches that fill up. */
  private insertChild(sep: Uint8Array, left: Node, right: Node, path: Branch[], slots: number[]): void {
    const parent = path.pop();
    if (parent === undefined) {
      const root = new Branch(this.branchChildren);
      root.children.push(left, right);
      root.seps.push(sep);
      root.setHeads();
      this.root = root;
      return;
    }
    const slot = slots.pop()!;
    parent.children.splice(slot + 1, 0, right);
    parent.seps.splice(slot, 0, sep);
    if (parent.children.length < this.branchChildren) {
      parent.setHeads();
      return;
    }
    const half = parent.children.length >>> 1;
    const sibling = new Branch(this.branchChildren);
    sibling.children.push(...parent.children.splice(half));
    sibling.seps.push(...parent.seps.splice(half));
    const up = parent.seps.pop()!;
    parent.setHeads();
    sibling.setHeads();
    this.insertChild(up, parent, sibling, path, slots);
  }

  /** Merges an underfull node into a sibling when the two fit in one, upward; shrinks the root. */
  private rebalance(node: Node, path: Branch[], slots: number[]): void {
    const parent = path.pop();
    if (parent === undefined) {
      if (node instanceof Branch && node.children.length === 1) this.root = node.children[0]!;
      return;
    }
    const slot = slots.pop()!;
    const small = node instanceof Leaf ? node.n < this.leafEntries / 4 : node.children.length < this.branchChildren / 4;
    if (!small) return;
    const left = slot > 0 ? slot - 1 : slot;
    if (left + 1 >= parent.children.length) return;
    if (!this.mergeChildren(parent, left)) return;
    this.rebalance(parent, path, slots);
  }

  /** Merges parent.children[at + 1] into parent.children[at] if they fit in one node; returns whether it did. */
  private mergeChildren(parent: Branch, at: number): boolean {
    const a = parent.children[at]!;
    const b = parent.children[at + 1]!;
    if (a instanceof Leaf && b instanceof Leaf) {
      if (a.n + b.n >= this.leafEntries) return false;
      a.appendFrom(b, 0, b.n);
      a.next = b.next;
      if (a.next !== null) a.next.prev = a;
    } else {
      const x = a as Branch;
      const y = b as Branch;
      if (x.children.length + y.children.length >= this.branchChildren) return false;
      x.seps.push(parent.seps[at]!, ...y.seps);
      x.children.push(...y.children);
      x.setHeads();
    }
    parent.children.splice(at + 1, 1);
    parent.seps.splice(at, 1);
    parent.setHeads();
    this.finger = null;
    return true;
  }
}
