// The accounts table the spot-check scripts (in_flight.mjs, update_churn.mjs, streaming.mjs) write to.
export const ACCOUNTS = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'name', type: 'string', maxLength: 16 },
    { name: 'balance', type: 'float64' },
    { name: 'ts', type: 'float64' },
  ],
  primaryKey: ['id'],
};
