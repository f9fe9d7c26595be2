/**
 * The ordered index's parts against models: the byte encoding of keys orders
 * exactly as compareKeys does (every value type, the edge values, MIN/MAX
 * bounds), and the ByteTree, with nodes small enough to split, merge and grow
 * several levels, holds what a sorted model holds through random sets,
 * overwrites and deletes, forward and reverse ranges included.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteTree, compareRanges } from '../src/index/byte_tree.js';
import { SortedLoad } from '../src/index/byte_tree_load.js';
import { compareKeys, MAX, MIN, OrderedIndex } from '../src/index/ordered_index.js';
import { OrderedKeyWriter } from '../src/index/ordered_key.js';
import { type IndexEntries, merged } from '../src/table/index_entries.js';
import { sortOrder } from '../src/table/index_sort.js';
import { Pacer } from '../src/threads/pacer.js';

fc.configureGlobal({ seed: Number(process.env.TIDEMARK_FUZZ_SEED ?? 20261207) });

const edgeNumbers = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Infinity,
  -Infinity,
  NaN,
];
const edgeStrings = [
  '',
  '\0',
  'a',
  'a\0',
  'ab',
  '~',
  '\x7f',
  '\x80',
  'é',
  '\u407e',
  '\u407f',
  '\uffff',
  '\ud800',
  '😀',
  'z',
];
const value = fc.oneof(
  fc.constant(null),
  fc.double(),
  fc.constantFrom(...edgeNumbers),
  fc.integer({ min: -5, max: 5 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(...edgeStrings),
  fc.boolean(),
  fc.uint8Array({ maxLength: 6 }),
  fc.constantFrom(new Uint8Array([0]), new Uint8Array([0, 0]), new Uint8Array([1]), new Uint8Array()),
);

/** Keys laid end to end, as an index build's entries hold them: key i ends at ends[i]. */
function endToEnd(list: readonly Uint8Array[]): { keys: Uint8Array; ends: Uint32Array } {
  const keys = new Uint8Array(list.reduce((n, k) => n + k.length, 0));
  const ends = new Uint32Array(list.length);
  let at = 0;
  list.forEach((k, i) => {
    keys.set(k, at);
    at += k.length;
    ends[i] = at;
  });
  return { keys, ends };
}

function bytesOrder(a: Uint8Array, b: Uint8Array): number {
  return Math.sign(compareRanges(a, 0, a.length, b, 0, b.length));
}

test('encoded entry keys order as compareKeys does', () => {
  const writer = new OrderedKeyWriter();
  const entry = (values: unknown[], id: number): Uint8Array => writer.buf.slice(0, writer.entry(values, id));
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 1, maxLength: 3 }),
      fc.array(value, { minLength: 1, maxLength: 3 }),
      fc.nat(),
      (a, b, id) => {
        const n = Math.min(a.length, b.length);
        const x = a.slice(0, n);
        const y = b.slice(0, n);
        // Same arity, as in one index; equal values fall to the versionId.
        const expected = Math.sign(compareKeys([...x, id], [...y, id + 1]));
        assert.is(bytesOrder(entry(x, id), entry(y, id + 1)), expected, `${String(x)} vs ${String(y)}`);
      },
    ),
    { numRuns: 3000 },
  );
});

test('bounds with MIN and MAX enclose exactly the entries with their prefix', () => {
  const writer = new OrderedKeyWriter();
  fc.assert(
    fc.property(fc.array(value, { minLength: 2, maxLength: 3 }), value, fc.nat(), (values, other, id) => {
      const key = writer.buf.slice(0, writer.entry(values, id));
      const prefix = values.slice(0, 1);
      const low = writer.bound([...prefix, MIN]);
      const high = writer.bound([...prefix, MAX]);
      assert.ok(bytesOrder(low, key) <= 0 && bytesOrder(key, high) < 0);
      const outside = writer.buf.slice(0, writer.entry([other, ...values.slice(1)], id));
      const inside = compareKeys([other], prefix) === 0;
      assert.is(bytesOrder(low, outside) <= 0 && bytesOrder(outside, high) < 0, inside);
      assert.ok(bytesOrder(writer.bound([MIN]), key) < 0 && bytesOrder(key, writer.bound([MAX])) < 0);
    }),
    { numRuns: 2000 },
  );
});

/** A deterministic generator (xorshift32) for the tree model test. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('ByteTree holds what a sorted model holds through splits, merges and deletes', () => {
  const random = rng(20261207);
  const tree = new ByteTree(6, 4);
  const model = new Map<string, number>();
  // Short keys, and long ones sharing their first 4 or all 8 bytes of the head.
  const keyOf = (): Uint8Array => {
    const shared = random() < 0.3 ? (random() < 0.5 ? 4 : 8) : 0;
    const length = shared > 0 ? 5 + Math.floor(random() * 6) : Math.floor(random() * 4);
    return Uint8Array.from({ length }, (_, i) => (i < shared ? 7 : Math.floor(random() * 3)));
  };
  const inRange = (low: Uint8Array, high: Uint8Array, reverse: boolean): void => {
    const got: string[] = [];
    tree.forRange(low, high, reverse, (v) => {
      got.push(`${hex(tree.currentKey())}=${v}`);
      return true;
    });
    const want = [...model.entries()]
      .map(([k, v]) => [Buffer.from(k, 'hex'), v] as const)
      .filter(([k]) => bytesOrder(low, k) <= 0 && bytesOrder(k, high) <= 0)
      .sort(([a], [b]) => bytesOrder(a, b))
      .map(([k, v]) => `${hex(k)}=${v}`);
    if (reverse) want.reverse();
    assert.equal(got, want);
  };
  for (let step = 0; step < 60_000; step++) {
    const key = keyOf();
    // Grow for the first half, then shrink: splits, then merges down to a leaf root.
    const grow = step < 30_000 ? 0.7 : 0.25;
    if (random() < grow) {
      const value = Math.floor(random() * 1000) + 1;
      assert.is(tree.set(value, key), !model.has(hex(key)));
      model.set(hex(key), value);
    } else assert.is(tree.delete(key), model.delete(hex(key)));
    assert.is(tree.size, model.size);
    if (step % 500 === 0) {
      const [a, b] = [keyOf(), keyOf()].sort(bytesOrder);
      inRange(a!, b!, false);
      inRange(a!, b!, true);
      inRange(new Uint8Array(), Uint8Array.of(255), step % 1000 === 0);
    }
  }
  for (const k of [...model.keys()]) assert.ok(tree.delete(Buffer.from(k, 'hex')));
  assert.is(tree.size, 0);
  model.clear();
  inRange(new Uint8Array(), Uint8Array.of(255), false);
});

test('OrderedIndex: an entry added again is repointed; ranges stop where the visitor says', () => {
  const ix = new OrderedIndex();
  for (let i = 0; i < 1000; i++) ix.add([i % 10, `n${String(i).padStart(4, '0')}`], i + 1, i + 1);
  ix.add([3, 'n0003'], 4, 9999);
  assert.is(ix.size, 1000);
  const seen: number[] = [];
  ix.forRange([3, MIN], [3, MAX], false, (ptr) => {
    seen.push(ptr);
    return seen.length < 3;
  });
  assert.equal(seen, [9999, 14, 24]);
  ix.remove([3, 'n0003'], 4);
  assert.is(ix.size, 999);
});

test("the order an index build adds its entries in is the keys' order (prefix sort, paced in merged blocks, and the runs sharing a prefix)", () => {
  const random = rng(7);
  for (const [count, pacer] of [
    [0, null],
    [1, null],
    [2, null],
    [5000, null],
    [100_003, new Pacer()],
  ] as const) {
    const list = Array.from({ length: count }, () =>
      // Short keys, keys with long shared prefixes and zeros: ties in the packed prefix are common.
      Uint8Array.from({ length: Math.floor(random() * 9) }, () => (random() < 0.6 ? 0 : Math.floor(random() * 3))),
    );
    const { keys, ends } = endToEnd(list);
    const got = [...sortOrder(count, keys, ends, pacer)].map((i) => hex(list[i]!));
    const want = list.map(hex).sort((a, b) => bytesOrder(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')));
    const wrong = got.findIndex((key, i) => key !== want[i]); // not assert.equal: its diff of 100 K lines takes minutes
    assert.is(wrong, -1, `${count} keys: the first out of place is at ${wrong}`);
  }
});

test('SortedLoad: a tree loaded from three sorted runs in steps, then changed at random, holds what the model holds', () => {
  const random = rng(11);
  const all = (tree: ByteTree): string[] => {
    const got: string[][] = [[], []];
    for (const reverse of [false, true])
      tree.forRange(new Uint8Array(), Uint8Array.of(255), reverse, (v) => {
        got[Number(reverse)]!.push(`${hex(tree.currentKey())}=${v}`);
        return true;
      });
    assert.equal(got[1]!.reverse(), got[0], 'the same entries backwards');
    return got[0]!;
  };
  for (const n of [0, 1, 5, 6, 3_000]) {
    const tree = new ByteTree(6, 4);
    const model = new Map<string, number>();
    const want = (): string[] =>
      [...model.entries()]
        .sort(([a], [b]) => bytesOrder(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')))
        .map(([k, v]) => `${k}=${v}`);
    // Distinct keys of 1 to 9 bytes (many sharing a head), sorted.
    const distinct = new Map<string, Uint8Array>();
    while (distinct.size < n) {
      const key = Uint8Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 4));
      distinct.set(hex(key), key);
    }
    const list = [...distinct.values()].sort(bytesOrder);
    // Split among three runs at random, each still sorted: the load merges them.
    const parts: Array<Array<[Uint8Array, number]>> = [[], [], []];
    list.forEach((key, i) => {
      parts[Math.floor(random() * 3)]!.push([key, i + 1]);
      model.set(hex(key), i + 1);
    });
    const runs = parts.map((part) => ({
      ...endToEnd(part.map(([key]) => key)),
      values: Uint32Array.from(part, ([, v]) => v),
      count: part.length,
    }));
    const load = new SortedLoad(tree, runs);
    let steps = 1;
    while (!load.step(0)) {
      assert.is(tree.size, 0, 'empty until the last step');
      steps++;
    }
    assert.ok(steps >= Math.ceil(n / 5), `a leaf a step at most (${steps})`);
    assert.is(tree.size, n);
    assert.equal(all(tree), want(), `${n} keys loaded`);
    for (let step = 0; step < 2 * n; step++) {
      const key = list[Math.floor(random() * n)]!.slice();
      if (random() < 0.3) key[key.length - 1] = 9; // a key between those there
      if (random() < 0.5) {
        assert.is(tree.set(step, key), !model.has(hex(key)));
        model.set(hex(key), step);
      } else assert.is(tree.delete(key), model.delete(hex(key)));
    }
    assert.equal(all(tree), want(), `${n} keys loaded, then changed`);
  }
});

test("merged: two sorted entry sets become one in the keys' order, each key with its pointer", () => {
  const random = rng(5);
  const entriesOf = (list: Uint8Array[], first: number): IndexEntries => {
    list.sort(bytesOrder);
    const { keys, ends } = endToEnd(list);
    const ptrs = Uint32Array.from(list, (_, i) => first + i);
    return { count: list.length, ptrs, hashes: null, keys, ends };
  };
  const keyList = (n: number): Uint8Array[] =>
    Array.from({ length: n }, () =>
      Uint8Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * 3)),
    );
  for (const [n, m] of [
    [0, 0],
    [0, 3],
    [4, 0],
    [500, 300],
  ] as const) {
    const a = entriesOf(keyList(n), 1);
    const b = entriesOf(keyList(m), 10_000);
    const both = merged(a, b);
    const pairs = (e: IndexEntries): string[] =>
      Array.from(
        { length: e.count },
        (_, i) => `${hex(e.keys!.subarray(i === 0 ? 0 : e.ends![i - 1]!, e.ends![i]!))}:${e.ptrs[i]}`,
      );
    const got = pairs(both);
    assert.is(both.count, n + m);
    assert.equal([...got].sort(), [...pairs(a), ...pairs(b)].sort(), 'every entry, with its pointer');
    const keysOnly = got.map((p) => Buffer.from(p.split(':')[0]!, 'hex'));
    for (let i = 1; i < keysOnly.length; i++) assert.ok(bytesOrder(keysOnly[i - 1]!, keysOnly[i]!) <= 0, 'in order');
  }
});

test.run();
