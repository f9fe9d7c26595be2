import { open } from '@tidemark/core';
import { rmSync } from 'node:fs';
const dir = process.argv[2]; const n = +process.argv[3];
rmSync(dir, { recursive: true, force: true });
const ACC = { name: 'accounts', columns: [{ name: 'id', type: 'int32' }, { name: 'name', type: 'string', maxLength: 16 }, { name: 'balance', type: 'float64' }, { name: 'ts', type: 'float64' }], primaryKey: ['id'] };
const db = await open({ dir, tables: [ACC], durability: 'delayed' });
for (let i = 0; i < n; i += 1000) {
  db.transactionSync((tx) => { for (let j = i; j < i + 1000 && j < n; j++) tx.insert('accounts', { id: j, name: 'n' + j, balance: j * 1.5, ts: j }); });
  if ((i / 1000) % 50 === 0) await db.flush();
}
for (let i = 0; i < n; i += 5000) db.transactionSync((tx) => { for (let j = i; j < i + 5000 && j < n; j += 5) tx.delete('accounts', j); });
await db.checkpoint();
await db.close();
