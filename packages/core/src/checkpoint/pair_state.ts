/**
 * The states a checkpoint file pair (CFP) moves through, and the only way to
 * move it. Invariants:
 *
 * - A pair's state changes only through `transition`, and only along a move
 *   that PAIR_MOVES lists; anything else is a bug in Tidemark.
 * - A pair comes into the set a root names only in a state PAIR_MOVES lets
 *   come from outside (`enter`), and leaves it only from a state PAIR_MOVES
 *   lets go outside (`leave`): a pair is never forgotten while it holds rows.
 *
 * docs/FORMAT.md ("Root file", the moves between pair states) shows the same
 * table; test/pair_state.test.ts checks that the two agree.
 *
 *   (made) ─► PRECREATED ─► UNDER_CONSTRUCTION ─► ACTIVE ─► MERGED_SOURCE ─► TOMBSTONE ─► (gone)
 *                │                                  ▲
 *                ▼                                  │
 *             (gone)         (made) ─► MERGE_TARGET ┘
 *                                           │
 *                                           ▼
 *                                        (gone)
 */
import { assert } from '../assert.js';
import { CfpState } from './cfp_format.js';

/** One legal move; `null` stands for outside the root (a pair being made, or one left out). */
export interface PairMove {
  readonly from: CfpState | null;
  readonly to: CfpState | null;
  /** When the writer makes it. */
  readonly when: string;
}

export const PAIR_MOVES: readonly PairMove[] = [
  { from: null, to: CfpState.PRECREATED, when: 'the pool is topped up, or a pair is needed with the pool empty' },
  { from: CfpState.PRECREATED, to: CfpState.UNDER_CONSTRUCTION, when: 'the streamer needs a pair' },
  { from: CfpState.PRECREATED, to: null, when: 'found damaged at open: its files are removed' },
  { from: CfpState.UNDER_CONSTRUCTION, to: CfpState.ACTIVE, when: 'its data file is full' },
  { from: CfpState.ACTIVE, to: CfpState.MERGED_SOURCE, when: 'a merge of it is installed' },
  { from: null, to: CfpState.MERGE_TARGET, when: 'a merge begins' },
  { from: CfpState.MERGE_TARGET, to: CfpState.ACTIVE, when: 'the merge is installed' },
  {
    from: CfpState.MERGE_TARGET,
    to: null,
    when: 'the merge failed, did not need it, or was cut short by a crash: its files are removed',
  },
  { from: CfpState.MERGED_SOURCE, to: CfpState.TOMBSTONE, when: 'the next checkpoint (made due at once)' },
  { from: CfpState.TOMBSTONE, to: null, when: 'the checkpoint after its files are deleted' },
];

const legal = new Set(PAIR_MOVES.map((m) => moveKey(m.from, m.to)));
assert(legal.size === PAIR_MOVES.length, 'each move is listed once');

function moveKey(from: CfpState | null, to: CfpState | null): string {
  return `${from ?? '-'}>${to ?? '-'}`;
}

/** Whether the pair state machine allows `from` → `to` (null: outside the root). */
export function isLegalMove(from: CfpState | null, to: CfpState | null): boolean {
  return legal.has(moveKey(from, to));
}

/** Moves `pair` from `from` (its state now) to `to`; asserts that both hold. */
export function transition(pair: { state: CfpState }, from: CfpState, to: CfpState): void {
  assert(pair.state === from, `a pair expected ${from} is ${pair.state}`);
  assert(isLegalMove(from, to), `a pair cannot move from ${from} to ${to}`);
  pair.state = to;
}

/** The state a new pair starts in; asserts that a pair may begin there. */
export function enter(to: CfpState): CfpState {
  assert(isLegalMove(null, to), `a pair cannot begin ${to}`);
  return to;
}

/** Asserts that `pair`, in state `from`, may leave the root (its files are gone or going). */
export function leave(pair: { state: CfpState }, from: CfpState): void {
  assert(pair.state === from, `a pair expected ${from} is ${pair.state}`);
  assert(isLegalMove(from, null), `a pair cannot leave the root ${from}`);
}
