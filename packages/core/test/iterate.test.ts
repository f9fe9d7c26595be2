/**
 * iterate() and count() against scan(): for random requests on a table with
 * ordered indexes, autocommit and in transactions (with and without their
 * own writes, serializable too), the iterator hands out the same rows in the
 * same order and count() says how many. Also: an early stop lets go of the
 * snapshot, an open iterator keeps seeing its snapshot while later commits
 * land, and bad requests fail with scan's error codes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, isTidemarkError, open, type Database, type Row } from '../src/index.js';

const ROWS = 400;

async function scores(): Promise<Database> {
  const db = await open({
    tables: [
      {
        name: 'scores',
        columns: [
          { name: 'id', type: 'int32' },
          { name: 'score', type: 'int32' },
          { name: 'name', type: 'string' },
        ],
        primaryKey: ['id'],
        indexes: [
          { name: 'byScore', columns: ['score'], kind: 'ordered' },
          { name: 'byScoreName', columns: ['score', 'name'], kind: 'ordered' },
          { name: 'byNameHash', columns: ['name'], kind: 'hash' },
        ],
      },
    ],
  });
  const t = db.table('scores');
  for (let id = 0; id < ROWS; id++)
    await t.insert({ id, score: id % 37, name: `n${id % 11}` }, { durability: 'delayed' });
  return db;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomRequest(next: () => number): Record<string, unknown> {
  const pick = next();
  const request: Record<string, unknown> = {};
  if (next() < 0.5) request.limit = Math.floor(next() * 60);
  if (next() < 0.3) request.columns = next() < 0.5 ? ['id'] : ['name', 'score'];
  if (pick < 0.2) return request;
  request.index = pick < 0.6 ? 'byScore' : 'byScoreName';
  const bound = (): unknown =>
    request.index === 'byScore' || next() < 0.5
      ? Math.floor(next() * 40) - 1
      : [Math.floor(next() * 40), `n${Math.floor(next() * 11)}`];
  if (next() < 0.5) request[next() < 0.5 ? 'gt' : 'gte'] = bound();
  if (next() < 0.5) request[next() < 0.5 ? 'lt' : 'lte'] = bound();
  if (next() < 0.5) request.reverse = true;
  return request;
}

function taken(rows: Iterable<Row>): Row[] {
  const out: Row[] = [];
  for (const row of rows) out.push(row);
  return out;
}

test('table.iterate and table.count equal scan for random requests', async () => {
  const db = await scores();
  const t = db.table('scores');
  const next = random(26);
  for (let i = 0; i < 300; i++) {
    const request = randomRequest(next);
    const expected = t.scan(request);
    assert.equal(taken(t.iterate(request)), expected, JSON.stringify(request));
    assert.is(t.count(request), expected.length, JSON.stringify(request));
  }
  assert.is(db.stats().openTransactions, 0);
  await db.close();
});

test('tx.iterate and tx.count equal tx.scan, own writes included, in both isolation levels', async () => {
  const db = await scores();
  const next = random(7);
  for (const isolation of ['snapshot', 'serializable'] as const) {
    for (let round = 0; round < 20; round++) {
      const tx = db.begin({ isolation });
      const writes = round % 3 === 0 ? 0 : Math.floor(next() * 12);
      for (let w = 0; w < writes; w++) {
        const id = Math.floor(next() * (ROWS + 20));
        const choice = next();
        if (choice < 0.4) tx.upsert('scores', { id, score: Math.floor(next() * 37), name: `n${w}` });
        else if (choice < 0.7 && tx.get('scores', id) !== undefined) tx.delete('scores', id);
        else if (tx.get('scores', id) !== undefined) tx.update('scores', id, { score: Math.floor(next() * 37) });
      }
      for (let i = 0; i < 15; i++) {
        const request = randomRequest(next);
        const expected = tx.scan('scores', request);
        assert.equal(taken(tx.iterate('scores', request)), expected, `${isolation} ${JSON.stringify(request)}`);
        assert.is(tx.count('scores', request), expected.length, `${isolation} ${JSON.stringify(request)}`);
      }
      tx.abort();
    }
  }
  assert.is(db.stats().openTransactions, 0);
  await db.close();
});

test('an ordered iterate with a limit is cheap, and stopping early lets go of the snapshot', async () => {
  const db = await scores();
  const t = db.table('scores');
  const first = t.iterate({ index: 'byScore', reverse: true, limit: 3 });
  assert.is(db.stats().openTransactions, 1, 'an open iterator holds its snapshot');
  assert.equal(taken(first), t.scan({ index: 'byScore', reverse: true, limit: 3 }));
  assert.is(db.stats().openTransactions, 0, 'a finished iterator lets go');
  let n = 0;
  for (const _row of t.iterate({ index: 'byScoreName' })) if (++n === 5) break;
  assert.is(db.stats().openTransactions, 0, 'break lets go');
  const it = t.iterate();
  it.next();
  assert.equal(it.return?.(), { value: undefined, done: true });
  assert.equal(it.next(), { value: undefined, done: true });
  assert.is(db.stats().openTransactions, 0, 'return() lets go');
  await db.close();
});

test('an open autocommit iterator keeps reading its snapshot while later commits land', async () => {
  const db = await scores();
  const t = db.table('scores');
  for (const request of [{}, { index: 'byScore' }, { index: 'byScoreName', reverse: true }]) {
    const expected = t.scan(request);
    const it = t.iterate(request);
    const got: Row[] = [];
    for (let id = 0; id < ROWS; id += 3) {
      const step = it.next();
      if (step.done === true) break;
      got.push(step.value);
      // Every kind of change, each awaited so other event-loop turns (the cleaner's) come between.
      if (id % 2 === 0) await t.update(id, { score: 40 + (id % 5), name: 'changed' });
      else await t.delete(id);
      await t.insert({ id: 10_000 + id, score: id % 37, name: 'new' });
    }
    got.push(...taken(it));
    assert.equal(got, expected, JSON.stringify(request));
    assert.is(t.count(request), t.scan(request).length);
    for (let id = 10_000; id < 10_000 + ROWS; id += 3) await t.delete(id);
    for (let id = 0; id < ROWS; id++) await t.upsert({ id, score: id % 37, name: `n${id % 11}` });
  }
  await db.clean();
  assert.is(db.stats().openTransactions, 0);
  await db.close();
});

test('iterate and count refuse what scan refuses, with the same codes', async () => {
  const db = await scores();
  const t = db.table('scores');
  const tx = db.begin();
  const bad: Array<Record<string, unknown>> = [
    { gt: 1 },
    { reverse: true },
    { index: 'byScore', limit: -1 },
    { index: 'byScore', limit: 1.5 },
    { index: 'byScore', gt: 'x' },
    { index: 'byScore', gt: 1, gte: 1 },
    { index: 'byScore', reverse: 'yes' },
    { index: 'byScore', colour: 'red' },
    { index: 'missing' },
    { index: 'byNameHash' },
    { columns: 'id' },
    { columns: ['nope'] },
  ];
  const codeOf = (action: () => unknown): string => {
    try {
      action();
    } catch (error) {
      assert.ok(isTidemarkError(error), String(error));
      return (error as { code: string }).code;
    }
    return 'none';
  };
  for (const request of bad) {
    const code = codeOf(() => t.scan(request));
    assert.is.not(code, 'none', JSON.stringify(request));
    assert.is(
      codeOf(() => t.iterate(request)),
      code,
      JSON.stringify(request),
    );
    assert.is(
      codeOf(() => t.count(request)),
      code,
      JSON.stringify(request),
    );
    assert.is(
      codeOf(() => tx.iterate('scores', request)),
      code,
      JSON.stringify(request),
    );
    assert.is(
      codeOf(() => tx.count('scores', request)),
      code,
      JSON.stringify(request),
    );
  }
  assert.is(
    codeOf(() => t.iterate({ index: 'byNameHash' })),
    ErrorCode.UNKNOWN_INDEX,
  );
  tx.abort();
  assert.is(
    codeOf(() => tx.iterate('scores')),
    ErrorCode.TXN_FINISHED,
  );
  assert.is(db.stats().openTransactions, 0, 'a refused request holds nothing');
  await db.close();
});

test.run();
