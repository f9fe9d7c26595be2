/**
 * The pair state machine: the moves the code allows are exactly the ones
 * docs/FORMAT.md shows, and every other move is an assertion failure.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AssertionError } from '../src/assert.js';
import { CfpState } from '../src/checkpoint/cfp_format.js';
import { enter, isLegalMove, leave, PAIR_MOVES, transition } from '../src/checkpoint/pair_state.js';

const FORMAT_MD = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'FORMAT.md');
const STATES = Object.values(CfpState);
const OUTSIDE = '—';
const isAssertion = (e: unknown): boolean => e instanceof AssertionError;

/** The rows of the FORMAT.md table whose header is `| from | to | when |`, as from>to>when. */
function documentedMoves(): string[] {
  const lines = readFileSync(FORMAT_MD, 'utf8').split('\n');
  const cells = (line: string): string[] =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim());
  const start = lines.findIndex((l) => l.startsWith('|') && cells(l).join(',') === 'from,to,when');
  assert.ok(start >= 0, 'FORMAT.md has the table of pair state moves');
  const rows: string[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cells(lines[i]!).join('>'));
  return rows;
}

test('the moves in the code are the moves docs/FORMAT.md shows, in the same order', () => {
  const code = PAIR_MOVES.map((m) => [m.from ?? OUTSIDE, m.to ?? OUTSIDE, m.when].join('>'));
  assert.equal(documentedMoves(), code);
});

test('every state is reached and every state is left: none is a dead end or unreachable', () => {
  for (const state of STATES) {
    assert.ok(
      PAIR_MOVES.some((m) => m.to === state),
      `${state} is reached`,
    );
    assert.ok(
      PAIR_MOVES.some((m) => m.from === state),
      `${state} is left`,
    );
  }
});

test('transition makes every listed move and asserts against every other', () => {
  for (const from of STATES) {
    for (const to of STATES) {
      const pair = { state: from as CfpState };
      if (isLegalMove(from, to)) {
        transition(pair, from, to);
        assert.is(pair.state, to);
      } else {
        assert.throws(() => transition(pair, from, to), isAssertion, `${from} → ${to}`);
        assert.is(pair.state, from, 'a refused move leaves the state as it was');
      }
    }
  }
});

test('transition asserts that the pair is in the state the caller expects', () => {
  const pair = { state: CfpState.ACTIVE as CfpState };
  assert.throws(
    () => transition(pair, CfpState.UNDER_CONSTRUCTION, CfpState.ACTIVE),
    (e: unknown) => e instanceof AssertionError && /expected UNDER_CONSTRUCTION is ACTIVE/.test(e.message),
  );
});

test('a pair begins only PRECREATED or MERGE_TARGET, and leaves the root only PRECREATED, MERGE_TARGET or TOMBSTONE', () => {
  for (const state of STATES) {
    const begins = state === CfpState.PRECREATED || state === CfpState.MERGE_TARGET;
    if (begins) assert.is(enter(state), state);
    else assert.throws(() => enter(state), isAssertion, `begin ${state}`);
    const leaves = state === CfpState.PRECREATED || state === CfpState.MERGE_TARGET || state === CfpState.TOMBSTONE;
    if (leaves) leave({ state }, state);
    else assert.throws(() => leave({ state }, state), isAssertion, `leave ${state}`);
  }
});

test.run();
