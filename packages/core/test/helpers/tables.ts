/** Table definitions the suites share. */
import type { TableDef } from '../../src/index.js';

/** A key-value table: an int32 key and a string. */
export const KV = {
  name: 'kv',
  columns: [
    { name: 'k', type: 'int32' as const },
    { name: 'v', type: 'string' as const },
  ],
  primaryKey: ['k'],
};

/** Users: an int32 key, an email, a nullable age (schema changes and index builds). */
export const USERS: TableDef = {
  name: 'users',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'email', type: 'string' },
    { name: 'age', type: 'int32', nullable: true },
  ],
  primaryKey: ['id'],
};
