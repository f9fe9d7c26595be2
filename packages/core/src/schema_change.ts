/**
 * Schema changes on a live database. Each is one commit of a change-table op
 * (the table's whole new stored definition, or `null` for a drop), stamped,
 * logged, checkpointed and replayed in commit order like any other commit
 * (txn/commit.ts, commitSchemaChange). Changes run one at a time, in the
 * order they were called, so each applies to the schema the one before it
 * left; each resolves with its commitTs once durable (as writes do), and
 * rejects with nothing changed when it cannot be made.
 */
import { ErrorCode, TidemarkError } from './errors.js';
import { withIndex } from './schema/alter.js';
import { definitionToJson } from './schema/definition_json.js';
import { storedOf } from './schema/stored.js';
import type { IndexDef, TableSchema } from './schema/types.js';
import { fillIndex } from './table/index_build.js';
import type { TableStore } from './table/table_store.js';
import { commitSchemaChange } from './txn/commit.js';
import type { Durability, Engine } from './txn/engine.js';

/** Longest a slice of an index build keeps the event loop, in ms. */
export const INDEX_BUILD_SLICE_MS = 2;

/** Runs `fn` after every schema change called before it has finished. */
function inTurn<T>(engine: Engine, fn: () => Promise<T> | T): Promise<T> {
  const run = engine.schemaChanges.then(fn);
  engine.schemaChanges = run.catch(() => {});
  return run;
}

function checkLive(engine: Engine, store: TableStore): void {
  engine.checkWritable();
  if (store.dropped) throw new TidemarkError(ErrorCode.UNKNOWN_TABLE, `table "${store.name}" was dropped`);
}

function logged(engine: Engine, store: TableStore, next: TableSchema | null): number {
  const json = next === null ? 'null' : definitionToJson(storedOf(next));
  const bytes = new TextEncoder().encode(json);
  return commitSchemaChange(engine, (sink) => sink.changeTable(store.id, bytes));
}

/** Moves the table to `change(schema)` (a column added, dropped or renamed, an index dropped). */
export function changeTable(
  engine: Engine,
  store: TableStore,
  change: (schema: TableSchema) => TableSchema,
  durability: Durability,
): Promise<number> {
  return inTurn(engine, () => {
    checkLive(engine, store);
    const next = change(store.schema);
    const commitTs = logged(engine, store, next);
    store.applySchema(next);
    return engine.acknowledge(commitTs, durability);
  });
}

/**
 * Adds an index, built online (table/index_build.ts): commits go on during
 * the build, and reads use the index from the commit that completes it.
 * A unique index that meets two live rows with one key rejects with
 * DUPLICATE_KEY and leaves no index behind.
 */
export function addIndex(engine: Engine, store: TableStore, def: IndexDef, durability: Durability): Promise<number> {
  return inTurn(engine, async () => {
    checkLive(engine, store);
    const next = withIndex(store.schema, def);
    const ix = store.beginIndex(next, def.name);
    const snapshot = engine.clock.now;
    engine.openIterators++; // the walk holds arena offsets: the cleaner must not move versions meanwhile
    let commitTs: number;
    try {
      await fillIndex(engine, store, ix, next, snapshot, INDEX_BUILD_SLICE_MS);
      checkLive(engine, store);
      commitTs = logged(engine, store, next);
      store.applySchema(next);
    } catch (error) {
      store.abandonIndex(ix);
      throw error;
    } finally {
      engine.openIterators--;
    }
    return engine.acknowledge(commitTs, durability);
  });
}

/** Drops a table: later calls on it fail with UNKNOWN_TABLE, and its rows never come back. */
export function dropTable(engine: Engine, store: TableStore, durability: Durability): Promise<number> {
  return inTurn(engine, () => {
    checkLive(engine, store);
    const commitTs = logged(engine, store, null);
    engine.tablesByName.delete(store.name);
    store.drop();
    return engine.acknowledge(commitTs, durability);
  });
}
