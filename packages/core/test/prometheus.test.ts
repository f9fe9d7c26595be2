/**
 * The Prometheus exporter: a scrape reads db.stats() and shows it in the
 * text format with the right types and labels; a closed database drops out
 * of the scrape; unregistering removes every metric.
 */
import { Registry } from 'prom-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, type TableDef } from '../src/index.js';
import { registerTidemarkMetrics } from '../src/prometheus.js';
import { tempDirs } from './helpers/dirs.js';

const items: TableDef = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'label', type: 'string' },
  ],
  primaryKey: ['id'],
};
const dirs = tempDirs('tidemark-prom-');
test.after(() => dirs.cleanup());

/** The value of the sample `name{labels}` in a scrape, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('a scrape shows the database statistics, with labels', async () => {
  const db = await open({ dir: dirs.make(), tables: [items] });
  const registry = new Registry();
  const unregister = registerTidemarkMetrics(db, { registry, labels: { db: 'test' } });
  try {
    for (let i = 0; i < 5; i++) await db.table('items').insert({ id: i, label: `item ${i}` });
    await db.checkpoint();
    const text = await registry.metrics();
    assert.match(text, /# TYPE tidemark_commits_total counter/);
    assert.match(text, /# TYPE tidemark_table_rows gauge/);
    assert.is(sample(text, 'tidemark_commits_total{db="test"}'), db.stats().commits);
    assert.is(sample(text, 'tidemark_table_rows{db="test",table="items"}'), 5);
    assert.is(sample(text, 'tidemark_durable_lag_ts{db="test"}'), 0);
    assert.is(sample(text, 'tidemark_durable_waiting{db="test"}'), 0);
    assert.ok(sample(text, 'tidemark_wal_bytes_total{db="test"}')! > 0);
    // Every state has a sample; the pairs holding the rows are published by the streamer after its step.
    for (const state of ['PRECREATED', 'UNDER_CONSTRUCTION', 'ACTIVE', 'MERGE_TARGET', 'MERGED_SOURCE', 'TOMBSTONE']) {
      assert.ok(sample(text, `tidemark_checkpoint_pairs{db="test",state="${state}"}`)! >= 0, state);
    }
    assert.is(sample(text, 'tidemark_disk_full{db="test"}'), 0);
    await db.close();
    const closed = await registry.metrics();
    assert.is(sample(closed, 'tidemark_commits_total{db="test"}'), undefined, 'a closed database drops out');
    unregister();
    assert.is(registry.getMetricsAsArray().length, 0);
  } finally {
    await db.close();
  }
});

test('several databases share a registry with their own labels; one stats() call per database per scrape', async () => {
  const a = await open({ dir: dirs.make(), tables: [items] });
  const b = await open({ dir: dirs.make(), tables: [items] });
  const registry = new Registry();
  try {
    const offA = registerTidemarkMetrics(a, { registry, labels: { db: 'a' } });
    registerTidemarkMetrics(b, { registry, labels: { db: 'b' } });
    assert.throws(() => registerTidemarkMetrics(b, { registry, labels: { db: 'b' } }), /already registered/);
    assert.throws(() => registerTidemarkMetrics(b, { registry, labels: { shard: '1' } }), /same label names/);
    await a.table('items').insert({ id: 1, label: 'x' });
    for (let i = 0; i < 3; i++) await b.table('items').insert({ id: i, label: 'y' });
    let calls = 0;
    const stats = b.stats.bind(b);
    b.stats = () => {
      calls++;
      return stats();
    };
    const text = await registry.metrics();
    assert.is(calls, 1, 'every metric of the scrape reads the same stats');
    assert.is(sample(text, 'tidemark_table_rows{db="a",table="items"}'), 1);
    assert.is(sample(text, 'tidemark_table_rows{db="b",table="items"}'), 3);
    offA();
    const after = await registry.metrics();
    assert.is(sample(after, 'tidemark_table_rows{db="a",table="items"}'), undefined);
    assert.is(sample(after, 'tidemark_table_rows{db="b",table="items"}'), 3);
  } finally {
    await a.close();
    await b.close();
  }
});

test('an in-memory database exports its engine figures and leaves the log ones out', async () => {
  const db = await open({ tables: [items] });
  const registry = new Registry();
  registerTidemarkMetrics(db, { registry, prefix: 'app_db_' });
  try {
    await db.table('items').insert({ id: 1, label: 'x' });
    const text = await registry.metrics();
    assert.is(sample(text, 'app_db_commits_total'), 1);
    assert.is(sample(text, 'app_db_wal_bytes_total'), undefined);
  } finally {
    await db.close();
  }
});

test.run();
