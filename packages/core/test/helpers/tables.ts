/** Table definitions the suites share. */

/** A key-value table: an int32 key and a string. */
export const KV = {
  name: 'kv',
  columns: [
    { name: 'k', type: 'int32' as const },
    { name: 'v', type: 'string' as const },
  ],
  primaryKey: ['k'],
};
