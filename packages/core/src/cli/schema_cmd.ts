/**
 * `tidemark schema <dir> [table]`: the stored catalog as JSON, as the
 * database holds it after recovery (changes since the last checkpoint
 * included; beside a live owner, read from a snapshot: snapshot.ts): an array of every table's definition, or, with `table`, that
 * table's. Either is what `tidemark import --schema` takes (`int64`
 * defaults as decimal strings, `bytes` defaults as base64).
 */
import { definitionOf, definitionToJson } from '../schema/definition_json.js';
import type { Io } from './output.js';
import { withSnapshot } from './snapshot.js';

export async function runSchema(dir: string, tableName: string | undefined, io: Io): Promise<number> {
  return withSnapshot(dir, async (db) => {
    const names = tableName === undefined ? db.tableNames() : [tableName];
    const definitions = names.map((name) => JSON.parse(definitionToJson(definitionOf(db.table(name).schema))));
    io.out(JSON.stringify(tableName === undefined ? definitions : definitions[0], null, 2));
    return 0;
  });
}
