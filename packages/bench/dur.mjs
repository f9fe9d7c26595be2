import { open } from '@tidemark/core';
import { rmSync } from 'node:fs';
const dir = '/tmp/rt/dur'; rmSync(dir, { recursive: true, force: true });
const K = +(process.argv[2] ?? 256); const N = +(process.argv[3] ?? 400000); const mode = process.argv[4] ?? 'durable';
const ACC = { name: 'accounts', columns: [{ name: 'id', type: 'int32' }, { name: 'name', type: 'string', maxLength: 16 }, { name: 'balance', type: 'float64' }, { name: 'ts', type: 'float64' }], primaryKey: ['id'] };
const db = await open(mode === 'memory' ? { tables: [ACC] } : { dir, tables: [ACC] });
const t = db.table('accounts');
let next = 0; const lat = [];
const opts = mode === 'delayed' ? { durability: 'delayed' } : undefined;
async function lane() { while (next < N) { const id = next++; const s = performance.now(); await t.insert({ id, name: 'n' + id, balance: id * 1.5, ts: id }, opts); lat.push(performance.now() - s); } }
const t0 = performance.now();
await Promise.all(Array.from({ length: K }, lane));
const sec = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
console.log(JSON.stringify({ K, mode, perSec: Math.round(N / sec), p50: lat[lat.length >> 1].toFixed(2), p99: lat[Math.floor(lat.length * 0.99)].toFixed(2) }));
const s = db.stats().durability; if (s) console.log('wal', s.wal);
await db.close();
