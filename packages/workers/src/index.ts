/**
 * @tidemark/workers: the engine's worker threads. Each entry point in
 * `src/entries/` is thin wiring, bundled on its own by scripts/build.mjs into
 * `packages/core/dist/workers/`, where `open()` starts it; the work itself is
 * in pure modules exported here so tests can drive them on one thread.
 */
export { LogWriterLoop, type StepResult } from './log_writer/loop.js';
export { StreamerLoop, type StreamerStep } from './streamer/loop.js';
export { runLogWriter } from './log_writer/run.js';
export { runStreamer } from './streamer/run.js';
export { inlineThreads, InlineMergeRunner } from './inline.js';
