/**
 * The segment cleaner: the in-memory twin of the CFP merge. When a table's
 * arena reserves more than live / `liveFraction` plus one segment, it takes
 * the table's sparsest segment, copies each live version in it to the end of
 * the arena, points whatever pointed at the old copy at the new one, and
 * frees the segment once it holds nothing live. Cleaning only to hold that
 * bound (not every segment below the fraction) lets segments decay first:
 * under updates most are nearly empty by the time they are taken.
 *
 *   segment k: [A dead][B live][C dead][D live]...     B' and D' appended to the current segment;
 *                                                      primary slot / newer version's `older` / secondary entries repointed
 *
 * What can point at a version, and how it is repointed:
 *   - the primary index, when it is the row's newest version (`replace`);
 *   - the next newer version's `older` word, found by walking the row's chain
 *     from its head;
 *   - secondary index entries (hash: `replace`; ordered: set again under the
 *     same key), for every version that is not a delete marker;
 *   - the garbage queue: a segment it names is left alone (only versions
 *     installed while a snapshot was open are queued, and new versions never
 *     go to a segment being cleaned);
 *   - staged write sets: every slice moves `engine.epoch`, so a commit looks
 *     its heads up again.
 *
 * It runs in slices of at most `budgetMs` (checked every few versions) on
 * the main thread, one per event-loop turn, so commits never wait long.
 * Copies go to a segment of their own, apart from new versions: what
 * survived a cleaning is cold and stays live, what is new is hot and dies,
 * so segments end up mostly live or mostly dead (cheap to clean). With every
 * segment but the two being appended to at least `liveFraction` live,
 * memory in use stays within live / liveFraction plus two segments per
 * table (plus what is freed while the cleaner catches up). The arena keeps
 * the last segment freed for the next one it opens (see `Arena`); that spare
 * counts as reserved, so the bound holds it too, and is given back when it
 * is all that stands over the bound.
 */
import { ARENA_SEGMENT_BYTES, VERSION_HEADER_BYTES } from '../constants.js';
import type { Engine } from '../txn/engine.js';
import { Arena, offsetOf, pointerOf, segmentOf } from './arena.js';
import type { TableStore } from './table_store.js';

/** Versions moved per batch, between looks at the clock. */
const BATCH = 64;

export interface CleanerStats {
  /** Segments freed, versions and bytes moved, and milliseconds spent in slices. */
  segmentsFreed: number;
  versionsMoved: number;
  bytesMoved: number;
  slices: number;
  cleanerMs: number;
  /** The longest slice, ms. */
  longestSliceMs: number;
}

interface Job {
  table: TableStore;
  segment: number;
  /** The next byte offset to look at, and where the segment's versions end. */
  at: number;
  end: number;
}

export class SegmentCleaner {
  readonly stats: CleanerStats = {
    segmentsFreed: 0,
    versionsMoved: 0,
    bytesMoved: 0,
    slices: 0,
    cleanerMs: 0,
    longestSliceMs: 0,
  };
  private job: Job | null = null;
  /** A batch's pointers and their key hashes. */
  private readonly ptrs = new Uint32Array(BATCH);
  private readonly hashes = new Uint32Array(BATCH);

  constructor(
    private readonly engine: Engine,
    private readonly liveFraction: number,
  ) {}

  /** Whether a segment is worth cleaning now (or a job is under way). */
  hasWork(): boolean {
    if (this.engine.openIterators > 0) return false; // see Engine.openIterators
    return this.job !== null || this.pick() !== null;
  }

  /**
   * Cleans for at most `budgetMs`; returns whether work is left. Segments
   * are taken sparsest first.
   */
  slice(budgetMs: number): boolean {
    if (this.engine.openIterators > 0) return false; // see Engine.openIterators
    const started = performance.now();
    const deadline = started + budgetMs;
    let moved = 0;
    try {
      for (;;) {
        if (this.job?.table.dropped) this.job = null; // its arena was let go with the table
        if (this.job === null) {
          this.job = this.pick();
          if (this.job === null) return false;
        }
        const job = this.job;
        const table = job.table;
        const arena = table.arena;
        const { ptrs, hashes } = this;
        while (job.at < job.end) {
          // A batch of live versions and their key hashes (the segment is read in order), then their
          // index home slots in one loop of independent loads, so the cache misses overlap instead of
          // each move waiting for its own.
          let count = 0;
          while (job.at < job.end && count < BATCH) {
            const ptr = pointerOf(job.segment, job.at);
            job.at += arena.sizeOf(ptr);
            if (arena.isRetired(ptr)) continue;
            ptrs[count] = ptr;
            hashes[count] = table.hashAt(ptr);
            count++;
          }
          table.primary.prefetch(hashes, 0, count);
          // Counted one by one: a move that throws still leaves the ones before it counted (and epoch moved).
          for (let k = 0; k < count; k++) {
            this.move(table, ptrs[k]!, hashes[k]!);
            moved++;
          }
          if (performance.now() >= deadline) return true;
        }
        arena.freeSegment(job.segment);
        this.stats.segmentsFreed++;
        this.job = null;
        if (performance.now() >= deadline) return this.hasWork();
      }
    } finally {
      if (moved > 0) this.engine.indexChanged();
      const ms = performance.now() - started;
      this.stats.slices++;
      this.stats.cleanerMs += ms;
      if (ms > this.stats.longestSliceMs) this.stats.longestSliceMs = ms;
    }
  }

  /**
   * The sparsest segment below the fraction of a table over the bound (null:
   * none). Only segments below it that hold at least (1 - fraction) of a
   * segment in dead bytes: each job then lowers the dead bytes by that much,
   * so cleaning ends — moving fuller segments (large rows packing a segment
   * poorly, or sparse ones held by the garbage queue) would free nothing,
   * forever.
   */
  private pick(): Job | null {
    let best: Job | null = null;
    let bestLive = this.liveFraction * ARENA_SEGMENT_BYTES;
    const minDead = (1 - this.liveFraction) * ARENA_SEGMENT_BYTES;
    for (const table of this.engine.tables) {
      const arena = table.arena;
      const live = arena.bytesInUse - arena.deadBytes;
      if (arena.reservedBytes <= live / this.liveFraction + ARENA_SEGMENT_BYTES) continue;
      let held: Set<number> | null = null; // segments the garbage queue names, found once per table
      let candidate = false;
      for (let seg = 0; seg < arena.segmentCount; seg++) {
        if (arena.isAppendTarget(seg) || arena.isFree(seg)) continue;
        const live = arena.segmentUsed[seg]! - arena.segmentDead[seg]!;
        if (arena.segmentDead[seg]! < minDead || live >= this.liveFraction * ARENA_SEGMENT_BYTES) continue;
        held ??= this.engine.garbage.segmentsOf(table);
        if (held.has(seg)) continue;
        candidate = true;
        if (live >= bestLive) continue;
        bestLive = live;
        best = {
          table,
          segment: seg,
          at: Arena.firstOffset(seg),
          end: Arena.firstOffset(seg) + arena.segmentUsed[seg]!,
        };
      }
      // Over the bound with nothing to clean (a small table: the two segments appended to and the spare):
      // the spare is the one thing left to give back.
      if (!candidate) arena.releaseSpare();
    }
    return best;
  }

  /** Moves one live version and repoints everything that points at it: the primary slot, or the newer version of its chain. */
  private move(table: TableStore, ptr: number, hash: number): void {
    const arena = table.arena;
    const copy = arena.copy(ptr);
    // Most live versions are a row's newest: found by pointer, without comparing keys.
    if (!table.primary.replaceIfPresent(hash, ptr, copy)) {
      const keyAt = offsetOf(ptr) + VERSION_HEADER_BYTES;
      let newer = table.primary.find(hash, arena.u8s[segmentOf(ptr)]!, keyAt, table.keyLengthAt(ptr));
      while (newer !== 0 && arena.older(newer) !== ptr) newer = arena.older(newer);
      if (newer === 0)
        throw new Error(`cleaner: version ${arena.versionId(ptr)} of "${table.name}" is live but nothing points at it`);
      arena.setOlder(newer, copy);
    }
    if (!arena.isDeleted(ptr)) table.repointSecondary(ptr, copy);
    this.stats.versionsMoved++;
    this.stats.bytesMoved += arena.sizeOf(copy);
  }
}
