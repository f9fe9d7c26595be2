/**
 * The API refuses what it cannot do as asked, instead of quietly doing
 * something else: scan bounds and `reverse` without an ordered index, bounds
 * of the wrong type, limits that are not non-negative integers, and unknown
 * or ill-typed keys in the options of every call (as open() refuses them).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, isTidemarkError, open, type Database } from '../src/index.js';
import { registerTidemarkMetrics } from '../src/prometheus.js';
import { inspect } from '../src/inspect.js';
import { verify } from '../src/verify.js';

async function people(): Promise<Database> {
  const db = await open({
    tables: [
      {
        name: 'people',
        columns: [
          { name: 'id', type: 'int32' },
          { name: 'name', type: 'string' },
          { name: 'born', type: 'int64' },
          { name: 'nick', type: 'string', nullable: true },
        ],
        primaryKey: ['id'],
        indexes: [
          { name: 'byName', columns: ['name'], kind: 'ordered' },
          { name: 'byBorn', columns: ['born', 'name'], kind: 'ordered' },
          { name: 'byNick', columns: ['nick'], kind: 'ordered' },
          { name: 'byNameHash', columns: ['name'], kind: 'hash' },
        ],
      },
    ],
  });
  const t = db.table('people');
  for (let id = 1; id <= 5; id++)
    await t.insert({ id, name: `p${id}`, born: BigInt(1990 + id), nick: id % 2 === 0 ? null : `n${id}` });
  return db;
}

/** `action` throws INVALID_OPTION and the message names `mentions`. */
function refuses(action: () => unknown, mentions: string): void {
  try {
    action();
  } catch (error) {
    assert.ok(isTidemarkError(error, ErrorCode.INVALID_OPTION), `expected TM_INVALID_OPTION, got ${String(error)}`);
    assert.ok((error as Error).message.includes(mentions), `"${(error as Error).message}" should mention ${mentions}`);
    return;
  }
  assert.unreachable(`expected TM_INVALID_OPTION naming ${mentions}`);
}

async function rejects(action: () => Promise<unknown>, mentions: string): Promise<void> {
  try {
    await action();
  } catch (error) {
    assert.ok(isTidemarkError(error, ErrorCode.INVALID_OPTION), `expected TM_INVALID_OPTION, got ${String(error)}`);
    assert.ok((error as Error).message.includes(mentions), `"${(error as Error).message}" should mention ${mentions}`);
    return;
  }
  assert.unreachable(`expected a rejection with TM_INVALID_OPTION naming ${mentions}`);
}

test('scan without an index refuses bounds and reverse, in a table and in a transaction', async () => {
  const db = await people();
  const t = db.table('people');
  const tx = db.begin();
  for (const [key, value] of [
    ['gt', 1],
    ['gte', 1],
    ['lt', 3],
    ['lte', 3],
    ['reverse', true],
    ['reverse', false],
  ] as const) {
    refuses(() => t.scan({ [key]: value }), `options.${key}`);
    refuses(() => tx.scan('people', { [key]: value }), `options.${key}`);
  }
  assert.is(t.scan().length, 5);
  assert.is(t.scan({ limit: 2 }).length, 2);
  tx.abort();
  await db.close();
});

test('scan refuses a bound of the wrong type for the index column', async () => {
  const db = await people();
  const t = db.table('people');
  refuses(() => t.scan({ index: 'byName', gte: 5 }), 'options.gte');
  refuses(() => t.scan({ index: 'byName', lt: 5n }), 'column "name"');
  refuses(() => t.scan({ index: 'byBorn', gt: 1992 }), 'options.gt');
  refuses(() => t.scan({ index: 'byBorn', gte: [1992n, 7] }), 'options.gte[1]');
  refuses(() => t.scan({ index: 'byBorn', gte: [1992n, 'p', 'x'] }), 'options.gte');
  refuses(() => t.scan({ index: 'byBorn', gte: [] }), 'options.gte');
  refuses(() => t.scan({ index: 'byName', gte: null }), 'not nullable');
  refuses(() => t.scan({ index: 'byName', gt: 'p1', gte: 'p1' }), 'options.gt and options.gte');
  refuses(() => t.scan({ index: 'byName', lt: 'p1', lte: 'p1' }), 'options.lt and options.lte');
  const tx = db.begin();
  refuses(() => tx.scan('people', { index: 'byName', lte: 1 }), 'options.lte');
  tx.abort();
  // The right types still work, a nullable column takes null, and a hash index is still UNKNOWN_INDEX.
  assert.equal(
    t.scan({ index: 'byName', gt: 'p3' }).map((r) => r.id),
    [4, 5],
  );
  assert.equal(
    t.scan({ index: 'byBorn', gte: [1994n], reverse: true }).map((r) => r.id),
    [5, 4],
  );
  assert.equal(
    t.scan({ index: 'byNick', lte: null }).map((r) => r.id),
    [2, 4],
  );
  try {
    t.scan({ index: 'byNameHash', gte: 'p' });
    assert.unreachable('a hash index cannot be scanned');
  } catch (error) {
    assert.ok(isTidemarkError(error, ErrorCode.UNKNOWN_INDEX));
  }
  await db.close();
});

test('find refuses a key of the wrong type on an ordered index as on a hash index (it found nothing)', async () => {
  const db = await people();
  const t = db.table('people');
  const code = (action: () => unknown): string | null => {
    try {
      action();
      return null;
    } catch (error) {
      return isTidemarkError(error) ? error.code : String(error);
    }
  };
  assert.is(
    code(() => t.find('byNameHash', 5)),
    ErrorCode.SCHEMA_VIOLATION,
    'a hash index refuses a number for a string',
  );
  assert.is(
    code(() => t.find('byName', 5)),
    ErrorCode.SCHEMA_VIOLATION,
    'so does an ordered index',
  );
  assert.is(
    code(() => t.find('byBorn', [1992n, 7])),
    ErrorCode.SCHEMA_VIOLATION,
    'and a wrong value in a composite key',
  );
  assert.is(
    code(() => t.find('byBorn', [1992n])),
    ErrorCode.SCHEMA_VIOLATION,
    'and a key of the wrong length',
  );
  const tx = db.begin();
  assert.is(
    code(() => tx.find('people', 'byName', 5)),
    ErrorCode.SCHEMA_VIOLATION,
    'in a transaction too',
  );
  tx.abort();
  // The right types still find their rows.
  assert.equal(
    t.find('byName', 'p2').map((r) => r.id),
    [2],
  );
  assert.equal(
    t.find('byBorn', [1993n, 'p3']).map((r) => r.id),
    [3],
  );
  assert.equal(
    t.find('byNick', null).map((r) => r.id),
    [2, 4],
  );
  await db.close();
});

test('scan refuses a limit that is not a non-negative integer', async () => {
  const db = await people();
  const t = db.table('people');
  for (const limit of [-1, 2.5, NaN, Infinity, '2', 2n, null]) {
    refuses(() => t.scan({ limit: limit as number }), 'options.limit');
    refuses(() => t.scan({ index: 'byName', limit: limit as number }), 'options.limit');
    refuses(() => db.begin().scan('people', { limit: limit as number }), 'options.limit');
  }
  refuses(() => t.scan({ index: 'byName', reverse: 1 as unknown as boolean }), 'options.reverse');
  refuses(() => t.scan({ index: 7 as unknown as string }), 'options.index');
  refuses(() => t.scan({ colums: ['id'] } as object), 'options.colums');
  assert.is(t.scan({ index: 'byName', limit: 0 }).length, 0);
  await db.close();
});

test("write options are checked like open()'s: unknown keys and wrong values", async () => {
  const db = await people();
  const t = db.table('people');
  const misspelt = { durabilty: 'delayed' } as object;
  await rejects(() => t.insert({ id: 9, name: 'x', born: 1n }, misspelt), 'options.durabilty');
  await rejects(() => t.upsert({ id: 9, name: 'x', born: 1n }, misspelt), 'options.durabilty');
  await rejects(() => t.update(1, { name: 'y' }, misspelt), 'options.durabilty');
  await rejects(() => t.delete(1, misspelt), 'options.durabilty');
  await rejects(
    () => t.insert({ id: 9, name: 'x', born: 1n }, { durability: 'eventually' as 'delayed' }),
    'options.durability',
  );
  await rejects(() => t.insert({ id: 9, name: 'x', born: 1n }, 'delayed' as unknown as object), 'options');
  await rejects(() => t.insert({ id: 9, name: 'x', born: 1n }, null as unknown as object), 'options');
  assert.is(t.size, 5, 'nothing was written');
  await t.insert({ id: 9, name: 'x', born: 1n }, { durability: 'delayed' });
  await t.insert({ id: 10, name: 'y', born: 1n }, { durability: undefined });
  await db.close();
});

test('transaction, retry and read options are checked the same way', async () => {
  const db = await people();
  const t = db.table('people');
  refuses(() => db.begin({ isolaton: 'serializable' } as object), 'options.isolaton');
  refuses(() => db.begin({ durability: 'soon' as 'delayed' }), 'options.durability');
  refuses(() => db.transactionSync(() => 1, { retry: 2 } as object), 'options.retry');
  refuses(() => db.transactionSync(() => 1, { retries: -1 }), 'options.retries');
  await rejects(() => db.transaction(() => 1, { durabilty: 'delayed' } as object), 'options.durabilty');
  await rejects(() => db.retry(() => 1, { retries: 1, isolation: 'snapshot' } as object), 'options.isolation');
  await rejects(() => db.retry(() => 1, { retries: 'x' as unknown as number }), 'options.retries');
  refuses(() => t.get(1, { column: ['id'] } as object), 'options.column');
  refuses(() => t.get(1, { columns: 'id' as unknown as string[] }), 'options.columns');
  refuses(() => t.find('byNameHash', 'p1', { colums: [] } as object), 'options.colums');
  const tx = db.begin({ isolation: 'serializable', durability: 'delayed' });
  refuses(() => tx.get('people', 1, { coluns: [] } as object), 'options.coluns');
  refuses(() => tx.find('people', 'byName', 'p1', { x: 1 } as object), 'options.x');
  tx.abort();
  assert.equal(t.get(1, { columns: ['name'] }), { name: 'p1' });
  assert.is(await db.transaction(() => 7, { retries: 0, isolation: 'snapshot', durability: 'delayed' }), 7);
  assert.is(await db.retry(() => 8, { retries: 2 }), 8);
  await db.close();
});

test('the options of inspect(), verify() and registerTidemarkMetrics() are checked too', async () => {
  const db = await open();
  refuses(() => registerTidemarkMetrics(db, { prefx: 'x_' } as object), 'options.prefx');
  refuses(() => inspect('/nonexistent-tidemark-dir', { layr: null } as object), 'options.layr');
  await rejects(() => verify('/nonexistent-tidemark-dir', { layr: null } as object), 'options.layr');
  await db.close();
});

test.run();
