/**
 * @tidemark/workers: the engine's worker threads. Each worker entry point is
 * a file in `src/entries/` that scripts/build.mjs bundles on its own into
 * `dist/entries/<name>.js`, so a worker loads one file with everything it
 * needs. The entry points (log writer, checkpoint streamer, merge, recovery)
 * arrive with the durability work; this module tells the engine where their
 * bundles are.
 */
import { existsSync } from 'node:fs';

/** The URL of a worker bundle, resolved next to this module's built file. */
export function workerEntryUrl(name: string, base: string | URL = import.meta.url): URL {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new TypeError(`invalid worker entry name "${name}"`);
  const url = new URL(`./entries/${name}.js`, base);
  if (!existsSync(url)) throw new Error(`worker bundle ${url.pathname} is missing; run \`pnpm build\``);
  return url;
}
