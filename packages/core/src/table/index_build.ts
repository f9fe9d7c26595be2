/**
 * Builds a secondary index over a table's existing versions: online for
 * table.addIndex, or at once while a log replays.
 *
 *   begin: the index joins the table as "building" at snapshot S
 *     commits from now on add their versions to it (and check it if unique)
 *   add every version with versionId <= S that is neither retired nor a
 *     delete marker, in slices of at most `sliceMs` with the event loop free
 *     between them; on a table of INDEX_WORKER_ROWS rows or more a worker
 *     first computes the entries from the shared arena (index_entries.ts)
 *     and the slices only add them, after checking each version is still
 *     not retired
 *   done: the caller commits the schema change, and reads use the index
 *
 * Why it is complete: a version is either newer than S (its commit added it)
 * or was in the arena when the build began. Versions do not move during the
 * build, because the segment cleaner waits while `engine.openIterators` is
 * above zero, and the build counts as one; a version retired before it is
 * added is skipped (and removing one the index lacks is allowed while it
 * builds). A unique index checks each live version it adds against the
 * other live rows it holds: with commit-time checks for the versions newer
 * than S, any two live rows that share a key meet one of the checks.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { HashIndex } from '../index/hash_index.js';
import { definitionToJson } from '../schema/definition_json.js';
import { storedOf } from '../schema/stored.js';
import type { TableSchema } from '../schema/types.js';
import type { Engine } from '../txn/engine.js';
import { checkUniqueVersion } from '../txn/unique.js';
import { ArenaWalk, CHECK_EVERY } from './arena_walk.js';
import { DeferredEntries } from './index_deferred.js';
import { keyStart } from '../index/byte_tree_load.js';
import type { IndexEntries, IndexEntriesTask } from './index_entries.js';
import { IndexWorker } from './index_pool.js';
import type { SecondaryIndex, TableStore } from './table_store.js';

/** Tables with at least this many rows have their index entries computed on a worker. */
export const INDEX_WORKER_ROWS = 50_000;

/** Something done in steps until a deadline (performance.now()); step returns whether it is done. */
interface Steps {
  step(deadline: number): boolean;
}

/** Adds a version of the table's arena to an index being built, checking a unique index. */
function addVersion(table: TableStore, ix: SecondaryIndex, ptr: number): void {
  table.indexVersionIn(ix, ptr);
  if (ix.def.unique && table.headOf(ptr) === ptr) checkUniqueVersion(table, ix, ptr);
}

/** Adds entries a worker computed, skipping versions retired since. */
class EntriesFill implements Steps {
  private at = 0;

  constructor(
    private readonly table: TableStore,
    private readonly ix: SecondaryIndex,
    private readonly entries: IndexEntries,
  ) {}

  step(deadline: number): boolean {
    const { table, ix } = this;
    const { count, ptrs, hashes, keys, ends } = this.entries;
    const arena = table.arena;
    const unique = ix.def.unique;
    for (; this.at < count; this.at++) {
      const i = this.at;
      if (i % CHECK_EVERY === 0 && performance.now() >= deadline) return false;
      const ptr = ptrs[i]!;
      if (arena.isRetired(ptr)) continue;
      if (hashes !== null) ix.hash!.add(hashes[i]!, ptr);
      else ix.ordered!.addEncoded(keys!, keyStart(ends!, i), ends![i]!, ptr);
      if (unique && table.headOf(ptr) === ptr) checkUniqueVersion(table, ix, ptr);
    }
    return true;
  }
}

/** Fills `ix` with every version of the table at once (a replayed change; nothing else runs meanwhile). */
export function fillIndexNow(table: TableStore, ix: SecondaryIndex): void {
  new ArenaWalk(table.arena, Number.POSITIVE_INFINITY, (ptr) => table.indexVersionIn(ix, ptr)).step(
    Number.POSITIVE_INFINITY,
  );
}

/** When a deferred build's worker rounds stop (see fillDeferred); tests lower them. */
export const deferredRounds = {
  /** Another round runs while commits have added at least this many versions since the last. */
  minAdds: 20_000,
  /** Rounds in all, the first included. */
  max: 8,
  /** The versions added after the last round are sorted on the worker first (an ordered index) when at least this many. */
  sortedTail: 1_000,
  /** Called as each later round starts, with the versions it takes. */
  onRound: null as ((added: number) => void) | null,
};

/**
 * Fills `ix`, being built as part of `next`, with the versions up to
 * `snapshot`, in slices of `sliceMs` with the event loop free between them.
 * Rejects with DUPLICATE_KEY (a unique index), CLOSED or UNKNOWN_TABLE
 * (dropped meanwhile).
 */
export async function fillIndex(
  engine: Engine,
  table: TableStore,
  ix: SecondaryIndex,
  next: TableSchema,
  snapshot: number,
  sliceMs: number,
): Promise<void> {
  if (table.liveRows < INDEX_WORKER_ROWS) {
    await inSlices(new ArenaWalk(table.arena, snapshot, (ptr) => addVersion(table, ix, ptr)), engine, table, sliceMs);
    return;
  }
  const worker = new IndexWorker(engine.closing.signal);
  try {
    const task = (): IndexEntriesTask => ({
      segments: table.arena.buffers,
      used: [...table.arena.segmentUsed],
      definition: definitionToJson(storedOf(next)),
      index: ix.def.name,
      snapshot,
    });
    if (ix.def.unique) {
      const entries = await worker.entries(task());
      checkGoingOn(engine, table);
      // Room for the entries and a quarter more for the commits meanwhile: no rehash of millions in one slice.
      ix.hash?.reserve(ix.hash.size + Math.ceil(entries.count * 1.25));
      await inSlices(new EntriesFill(table, ix, entries), engine, table, sliceMs);
    } else await fillDeferred(engine, table, ix, worker, task, sliceMs);
  } finally {
    await worker.destroy();
  }
}

/**
 * A build of a non-unique index on a worker, with commits kept off the
 * index meanwhile (DeferredEntries), so that they cost what they cost
 * without it:
 *
 *   round 1: the worker computes the entries of the versions up to the
 *     snapshot; commits record the versions they add and retire
 *   round k: the worker computes the entries of the versions added since
 *     the last round and merges them into those of the rounds after the
 *     first (not into the first's: a round then costs what it takes in);
 *     rounds go on while enough were added (deferredRounds) and each round
 *     has fewer than the last
 *   every entry goes into the empty index: an ordered one's tree is built
 *     from the two sorted runs, merged, by the main thread in slices
 *     (byte_tree_load.ts); a hash one's table is laid out by the worker
 *   from then on commits keep the index themselves; the versions retired
 *     meanwhile are removed, and those added since the last round are added
 *     (an ordered index's sorted on the worker first, so the tree takes
 *     them in order), skipping any retired by then
 *
 * Why it is complete: every version up to the snapshot that was not retired
 * when the build began is in round 1, every later one was recorded by its
 * commit (a round, or the last step), and every version retired since the
 * build began was recorded as it retired and is removed (or skipped).
 */
async function fillDeferred(
  engine: Engine,
  table: TableStore,
  ix: SecondaryIndex,
  worker: IndexWorker,
  task: () => IndexEntriesTask,
  sliceMs: number,
): Promise<void> {
  const deferred = new DeferredEntries();
  ix.deferred = deferred;
  try {
    // The first round's entries, and the later rounds' merged among themselves (each round then costs what it takes in).
    const first = await worker.entries({ ...task(), paced: true });
    let later: IndexEntries | null = null;
    let last = Number.POSITIVE_INFINITY;
    for (let round = 1; round < deferredRounds.max; round++) {
      checkGoingOn(engine, table);
      const added = deferred.added;
      if (added < deferredRounds.minAdds || added >= last) break;
      last = added;
      deferredRounds.onRound?.(added);
      later = await worker.entries({ ...task(), versions: { ...deferred.take(), base: later } });
    }
    checkGoingOn(engine, table);
    const runs = later === null ? [first] : [first, later];
    const count = runs.reduce((sum, run) => sum + run.count, 0);
    if (first.hashes !== null) {
      // The table laid out by the worker, with room for a quarter more: what commits add meanwhile.
      const slots = HashIndex.slotsFor(Math.ceil((count + deferred.added) * 1.25));
      const built = await worker.entries({ ...task(), hashTable: { entries: runs, slots } });
      checkGoingOn(engine, table);
      ix.hash!.adopt(built.table!, count);
    } else {
      const sorted = runs.map(({ keys, ends, ptrs, count: n }) => ({
        keys: keys!,
        ends: ends!,
        values: ptrs,
        count: n,
      }));
      await inSlices(ix.ordered!.sortedLoad(sorted), engine, table, sliceMs);
    }
  } finally {
    ix.deferred = null;
  }
  const tail = deferred.take();
  const removes = deferred.removes;
  await inSlices(
    entriesAdded(removes.length, (i) => table.unindexVersionIn(ix, removes[i]!)),
    engine,
    table,
    sliceMs,
  );
  const arena = table.arena;
  if (ix.ordered !== null && tail.count >= deferredRounds.sortedTail) {
    const { count, ptrs, keys, ends } = await worker.entries({ ...task(), versions: { ...tail, base: null } });
    checkGoingOn(engine, table);
    const add = (i: number): void => {
      if (!arena.isRetired(ptrs[i]!)) ix.ordered!.addEncoded(keys!, keyStart(ends!, i), ends![i]!, ptrs[i]!);
    };
    await inSlices(entriesAdded(count, add), engine, table, sliceMs);
  } else {
    const add = (i: number): void => {
      if (!arena.isRetired(tail.ptrs[i]!)) table.indexVersionIn(ix, tail.ptrs[i]!);
    };
    await inSlices(entriesAdded(tail.count, add), engine, table, sliceMs);
  }
}

/** Steps that call `add` for 0 .. count - 1. */
function entriesAdded(count: number, add: (i: number) => void): Steps {
  let at = 0;
  return {
    step(deadline: number): boolean {
      for (; at < count; at++) {
        if (at % CHECK_EVERY === 0 && performance.now() >= deadline) return false;
        add(at);
      }
      return true;
    },
  };
}

/** Runs `steps` in slices of `sliceMs`, the event loop free between them. */
async function inSlices(steps: Steps, engine: Engine, table: TableStore, sliceMs: number): Promise<void> {
  while (!steps.step(performance.now() + sliceMs)) {
    await new Promise((resolve) => setImmediate(resolve));
    checkGoingOn(engine, table);
  }
}

function checkGoingOn(engine: Engine, table: TableStore): void {
  if (engine.closed) throw new TidemarkError(ErrorCode.CLOSED, 'the database was closed while an index was built');
  if (table.dropped) throw new TidemarkError(ErrorCode.UNKNOWN_TABLE, `table "${table.name}" was dropped`);
}
