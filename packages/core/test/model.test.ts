/**
 * Model test: random sequences of autocommit calls and interleaved
 * interactive transactions (fast-check commands), checked after every step
 * against a reference model of plain Maps: full contents, secondary index
 * lookups and ordered scans, each open transaction's own view, conflicts and
 * the errors each call must raise.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, type Database, type Row, type Transaction, isTidemarkError } from '../src/index.js';

type Model = {
  committed: Map<number, Row>;
  /** Commit counter value of the last commit that wrote each key. */
  lastWrite: Map<number, number>;
  commits: number;
  txns: Array<{ begin: number; view: Map<number, Row>; writes: Set<number> }>;
};
type Real = { db: Database; txns: Transaction[] };

const NAMES = ['ann', 'bob', 'cy', 'dé', '🦀'];
const MAX_OPEN = 3;

const rowArb = fc.record({
  id: fc.integer({ min: 0, max: 24 }),
  name: fc.constantFrom(...NAMES),
  balance: fc.integer({ min: -5, max: 5 }).map((n) => n / 2),
  tag: fc.option(fc.string({ maxLength: 4 }), { nil: null }),
});
const patchArb = fc.record({ balance: fc.integer({ min: -5, max: 5 }).map((n) => n / 2) }, { requiredKeys: [] });

async function expectCode(action: () => unknown, code: string | null): Promise<boolean> {
  try {
    await action();
  } catch (error) {
    if (code !== null && isTidemarkError(error) && error.code === code) return false;
    throw error;
  }
  assert.is(code, null, `expected ${code}`);
  return true;
}

function sortById(rows: Row[]): Row[] {
  return [...rows].sort((a, b) => (a.id as number) - (b.id as number));
}

/** Compares what a reader (autocommit or a transaction) sees with the model's view of it. */
function checkView(
  read: { scan: (r?: object) => Row[]; find: (ix: string, k: unknown) => Row[]; get: (k: unknown) => Row | undefined },
  view: Map<number, Row>,
): void {
  const expected = sortById([...view.values()]);
  assert.equal(sortById(read.scan()), expected, 'full scan');
  for (const name of NAMES) {
    assert.equal(
      sortById(read.find('byName', name)),
      expected.filter((r) => r.name === name),
      `find ${name}`,
    );
  }
  const ordered = read.scan({ index: 'byBalance', gte: -1, lt: 2 });
  const inRange = expected.filter((r) => (r.balance as number) >= -1 && (r.balance as number) < 2);
  assert.equal(sortById(ordered), inRange, 'range scan contents');
  for (let i = 1; i < ordered.length; i++)
    assert.ok((ordered[i - 1]!.balance as number) <= (ordered[i]!.balance as number), 'range scan order');
  for (let id = 0; id <= 24; id += 3) assert.equal(read.get(id), view.get(id), `get ${id}`);
}

function checkAll(m: Model, r: Real): void {
  const t = r.db.table('accounts');
  checkView({ scan: (q) => t.scan(q), find: (ix, k) => t.find(ix, k), get: (k) => t.get(k) }, m.committed);
  assert.is(t.size, m.committed.size, 'size');
  m.txns.forEach((mt, i) => {
    const tx = r.txns[i]!;
    checkView(
      {
        scan: (q) => tx.scan('accounts', q),
        find: (ix, k) => tx.find('accounts', ix, k),
        get: (k) => tx.get('accounts', k),
      },
      mt.view,
    );
  });
}

/** A write applied to a view: the error code it must raise, or null after applying it. */
function applyWrite(
  view: Map<number, Row>,
  kind: 'insert' | 'upsert' | 'update' | 'delete',
  row: Row,
  patch: Row,
): string | null {
  const id = row.id as number;
  const present = view.has(id);
  if (kind === 'insert' && present) return 'TM_DUPLICATE_KEY';
  if ((kind === 'update' || kind === 'delete') && !present) return 'TM_NOT_FOUND';
  if (kind === 'delete') view.delete(id);
  else if (kind === 'update') view.set(id, { ...view.get(id)!, ...patch });
  else view.set(id, { ...row });
  return null;
}

type Kind = 'insert' | 'upsert' | 'update' | 'delete';
const kindArb = fc.constantFrom<Kind>('insert', 'upsert', 'update', 'delete');

class AutoWrite implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly kind: Kind,
    readonly row: Row,
    readonly patch: Row,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const expected = applyWrite(new Map(m.committed), this.kind, this.row, this.patch);
    const t = r.db.table('accounts');
    const id = this.row.id;
    const call = {
      insert: () => t.insert(this.row),
      upsert: () => t.upsert(this.row),
      update: () => t.update(id, this.patch),
      delete: () => t.delete(id),
    }[this.kind];
    if (await expectCode(call, expected)) {
      applyWrite(m.committed, this.kind, this.row, this.patch);
      m.lastWrite.set(id as number, ++m.commits);
    }
    checkAll(m, r);
  }
  toString = (): string => `auto ${this.kind} ${JSON.stringify(this.row)} ${JSON.stringify(this.patch)}`;
}

class Begin implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>): boolean => m.txns.length < MAX_OPEN;
  async run(m: Model, r: Real): Promise<void> {
    r.txns.push(r.db.begin());
    m.txns.push({ begin: m.commits, view: new Map(m.committed), writes: new Set() });
    checkAll(m, r);
  }
  toString = (): string => 'begin';
}

class TxWrite implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly which: number,
    readonly kind: Kind,
    readonly row: Row,
    readonly patch: Row,
  ) {}
  check = (m: Readonly<Model>): boolean => m.txns.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const i = this.which % m.txns.length;
    const mt = m.txns[i]!;
    const tx = r.txns[i]!;
    const expected = applyWrite(new Map(mt.view), this.kind, this.row, this.patch);
    const id = this.row.id;
    const call = {
      insert: () => tx.insert('accounts', this.row),
      upsert: () => tx.upsert('accounts', this.row),
      update: () => tx.update('accounts', id, this.patch),
      delete: () => tx.delete('accounts', id),
    }[this.kind];
    if (await expectCode(call, expected)) {
      applyWrite(mt.view, this.kind, this.row, this.patch);
      mt.writes.add(id as number);
    }
    checkAll(m, r);
  }
  toString = (): string => `tx${this.which} ${this.kind} ${JSON.stringify(this.row)} ${JSON.stringify(this.patch)}`;
}

class TxEnd implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly which: number,
    readonly commit: boolean,
  ) {}
  check = (m: Readonly<Model>): boolean => m.txns.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const i = this.which % m.txns.length;
    const [mt] = m.txns.splice(i, 1);
    const [tx] = r.txns.splice(i, 1);
    if (!this.commit) tx!.abort();
    else {
      const conflict = [...mt!.writes].some((id) => (m.lastWrite.get(id) ?? 0) > mt!.begin);
      if (await expectCode(() => tx!.commit(), conflict ? 'TM_CONFLICT' : null)) {
        if (mt!.writes.size > 0) m.commits++;
        for (const id of mt!.writes) {
          const row = mt!.view.get(id);
          // Deleting a row the transaction itself inserted changes nothing committed.
          if (row === undefined && !m.committed.has(id)) continue;
          if (row === undefined) m.committed.delete(id);
          else m.committed.set(id, row);
          m.lastWrite.set(id, m.commits);
        }
      }
      assert.is(tx!.state, conflict ? 'aborted' : 'committed');
    }
    checkAll(m, r);
  }
  toString = (): string => `tx${this.which} ${this.commit ? 'commit' : 'abort'}`;
}

const commands = [
  fc.tuple(kindArb, rowArb, patchArb).map(([k, row, p]) => new AutoWrite(k, row, p)),
  fc.constant(new Begin()),
  fc.tuple(fc.nat(), kindArb, rowArb, patchArb).map(([w, k, row, p]) => new TxWrite(w, k, row, p)),
  fc.tuple(fc.nat(), fc.boolean()).map(([w, c]) => new TxEnd(w, c)),
];

const schema = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' as const },
    { name: 'name', type: 'string' as const },
    { name: 'balance', type: 'float64' as const },
    { name: 'tag', type: 'string' as const, nullable: true },
  ],
  primaryKey: ['id'],
  indexes: [
    { name: 'byName', columns: ['name'], kind: 'hash' as const },
    { name: 'byBalance', columns: ['balance'], kind: 'ordered' as const },
  ],
};

test('random autocommit calls and interleaved transactions match the model after every step', async () => {
  let steps = 0;
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 200, size: 'max' }), async (cmds) => {
      const db = await open({ tables: [schema] });
      const model: Model = { committed: new Map(), lastWrite: new Map(), commits: 0, txns: [] };
      await fc.asyncModelRun(() => ({ model, real: { db, txns: [] } }), cmds);
      steps += [...cmds].length;
      const real = db.table('accounts');
      assert.is(real.size, model.committed.size);
      await db.close();
    }),
    { numRuns: 150 },
  );
  assert.ok(steps > 5000, `ran ${steps} steps`);
});

test.run();
