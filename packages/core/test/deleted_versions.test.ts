/**
 * The delta file's filter: a bitmap over the data file's versionId span, or
 * the sorted list where the span is far larger than the tombstones. Both
 * give the same answers: each tombstone taken once, duplicates and ids that
 * are not versionIds refused, a tombstone no row matches reported.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DELETED, DeletedVersions, LIVE, ORPHAN } from '../src/checkpoint/deleted_versions.js';

function build(ids: number[], min: number): DeletedVersions {
  const built = DeletedVersions.build(Float64Array.from(ids), min);
  if (!(built instanceof DeletedVersions)) throw new Error(`refused: ${JSON.stringify(built)}`);
  return built;
}

/** Takes every versionId of `rows` (rising); returns the deleted ones, or the orphan reported. */
function filter(deleted: DeletedVersions, rows: number[]): { deleted: number[]; orphan: number | null } {
  const out: number[] = [];
  for (const v of rows) {
    const taken = deleted.take(v);
    if (taken === ORPHAN) return { deleted: out, orphan: deleted.orphan };
    if (taken === DELETED) out.push(v);
    else assert.is(taken, LIVE);
  }
  return { deleted: out, orphan: deleted.left() ? deleted.orphan : null };
}

const SPARSE = 100_000_000; // a span far beyond 64 bytes per tombstone and 1 MiB: the sorted list

for (const [mode, spread, kind] of [
  ['bitmap', 1, 'bitmap'],
  ['sorted list', SPARSE, 'sorted'],
] as const) {
  test(`${mode}: deletes exactly its tombstones, in any order, each once`, () => {
    const rows = Array.from({ length: 2000 }, (_, i) => 1000 + i * spread);
    const gone = rows.filter((_, i) => i % 3 === 0);
    const shuffled = [...gone].sort((a, b) => ((a * 7919) % 1009) - ((b * 7919) % 1009));
    const deleted = build(shuffled, 1000);
    assert.is(deleted.kind, kind);
    const result = filter(deleted, rows);
    assert.equal(result.deleted, gone);
    assert.is(result.orphan, null);
  });

  test(`${mode}: a tombstone no row matches is reported, below, inside and above the rows`, () => {
    const rows = Array.from({ length: 100 }, (_, i) => 1000 + i * 2 * spread);
    for (const stray of [500, 1000 + spread, 1000 + 300 * spread]) {
      const result = filter(build([rows[5]!, stray], 1000), rows);
      assert.is(result.orphan, stray, `stray ${stray}`);
    }
  });
}

test('a versionId twice, or one that is not a versionId, is refused', () => {
  assert.equal(DeletedVersions.build(Float64Array.from([5, 9, 5]), 0), { twice: 5 });
  assert.equal(DeletedVersions.build(Float64Array.from([5, 5 + SPARSE, 5]), 0), { twice: 5 });
  assert.equal(DeletedVersions.build(Float64Array.from([5, 1.5]), 0), { invalid: 1.5 });
  assert.equal(DeletedVersions.build(Float64Array.from([5, -1]), 0), { invalid: -1 });
  assert.equal(DeletedVersions.build(Float64Array.from([Number.NaN]), 0), { invalid: Number.NaN });
});

test('no tombstones: every row is live', () => {
  const result = filter(DeletedVersions.none(), [1, 2, 3]);
  assert.equal(result, { deleted: [], orphan: null });
});

test.run();
