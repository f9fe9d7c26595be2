import { open } from '@tidemark/core';
const dir = process.argv[2]; const w = process.argv[3] === undefined ? undefined : +process.argv[3];
const t0 = performance.now();
const db = await open(w === undefined ? { dir } : { dir, recoveryWorkers: w });
const t1 = performance.now();
const r = db.recovery;
console.log(JSON.stringify({ openMs: +(t1 - t0).toFixed(1), recMs: +r.durationMs.toFixed(1), loadMs: +r.checkpoint.loadMs.toFixed(1), link: +r.checkpoint.linkMs.toFixed(1), task: +r.checkpoint.taskMs.toFixed(1), workers: r.checkpoint.workers, walMs: +r.walMs.toFixed(1) }));
await db.close();
