/**
 * A non-unique index built on a worker with commits kept off it meanwhile
 * (table/index_build.ts, fillDeferred): with rounds forced to run while any
 * version was added, and every turn of the build updating, deleting and
 * inserting rows (ten of them updated over and over), the index ends with exactly one entry per live row, in
 * order, and finds what a scan finds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type IndexDef, open } from '../src/index.js';
import { deferredRounds, INDEX_WORKER_ROWS } from '../src/table/index_build.js';
import { USERS } from './helpers/tables.js';

test('worker rounds take in the commits made meanwhile: one entry per live row, in order', async () => {
  const rows = INDEX_WORKER_ROWS + 2_000;
  const db = await open({ tables: [USERS] });
  const t = db.table('users');
  await db.transaction((tx) => {
    for (let id = -100; id > -110; id--) tx.insert('users', { id, email: 'hot@x', age: 1 });
    for (let id = 0; id < rows; id++) tx.insert('users', { id, email: `u${id}@x`, age: id % 4 === 0 ? null : id });
  });
  const taken: number[] = [];
  Object.assign(deferredRounds, { minAdds: 1, sortedTail: 1, onRound: (added: number) => taken.push(added) });
  let k = 0;
  try {
    for (const def of [
      { name: 'byAge', columns: ['age'], kind: 'ordered' },
      { name: 'byEmail', columns: ['email'] },
    ] satisfies IndexDef[]) {
      taken.length = 0;
      let building = true;
      const build = t.addIndex(def).finally(() => (building = false));
      while (building) {
        const id = (k * 7919) % rows;
        if (t.get(id) !== undefined) await t.update(id, { age: 1000 + (k % 7), email: `x${k % 50}@x` });
        if (t.get((id + 1) % rows) !== undefined) await t.delete((id + 1) % rows);
        await t.update(-100 - (k % 10), { age: k % 9, email: `hot${k % 3}@x` }); // versions added and retired in every phase
        await t.insert({ id: rows + k, email: `new${k}@x`, age: k % 5 === 0 ? null : k % 300 });
        k++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await build;
      assert.ok(taken.length >= 1, `${def.name}: a later round took versions (${taken.join(', ')})`);
      const live = t.scan();
      const stats = db.stats().tables[0]!.indexes.find((ix) => ix.name === def.name)!;
      assert.is(stats.entries, live.length, `${def.name}: one entry per live row, none for a retired version`);
      if (def.name === 'byAge') {
        const ages = t.scan({ index: 'byAge' }).map((r) => r.age as number | null);
        const sorted = live.map((r) => r.age as number | null).sort((a, b) => (a ?? -1) - (b ?? -1));
        assert.equal(ages, sorted, 'every live row, in order');
      } else
        for (const email of ['x3@x', 'u77@x', `new${k - 1}@x`])
          assert.equal(
            t
              .find('byEmail', email)
              .map((r) => r.id)
              .sort(),
            live
              .filter((r) => r.email === email)
              .map((r) => r.id)
              .sort(),
            `finds ${email}`,
          );
      // Commits after the build keep the index themselves.
      await t.insert({ id: -1 - k, email: 'after@x', age: 5 });
      assert.is(db.stats().tables[0]!.indexes.find((ix) => ix.name === def.name)!.entries, live.length + 1);
    }
  } finally {
    Object.assign(deferredRounds, { minAdds: 20_000, sortedTail: 1_000, onRound: null });
    await db.close();
  }
});

test.run();
