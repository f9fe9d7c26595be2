/**
 * The Node flags the engine's worker threads start with. A worker inherits
 * the process's flags by default, and some of them only make sense for the
 * main script: `node --input-type=module -e "…"` would start every worker
 * with --input-type and no string to apply it to, and fail. When the process
 * has such a flag, the workers get an explicit list instead: the flags that
 * shape how a thread loads and runs modules (loaders, conditions, source
 * maps, warnings, experimental features). Node refuses V8 and per-process
 * flags in an explicit list (--max-old-space-size, --expose-gc, --title),
 * and needs none of them there: they already hold for the whole process.
 * Otherwise (the usual case) the workers inherit as before.
 */

/** Flags that belong to the main script only; the first group takes a value (`--flag value` or `--flag=value`). */
const MAIN_ONLY_WITH_VALUE = new Set([
  '-e',
  '--eval',
  '-p',
  '--print',
  '--input-type',
  '--run',
  '--watch-path',
  '--env-file',
]);
const MAIN_ONLY = /^(--test(-[\w-]+)?|--watch(-preserve-output)?|-i|--interactive|-c|--check)$/;

/** Flags a worker thread takes and needs; the first group takes a value. */
const KEEP_WITH_VALUE = new Set([
  '-C',
  '--conditions',
  '--import',
  '--loader',
  '--experimental-loader',
  '-r',
  '--require',
  '--disable-warning',
  '--unhandled-rejections',
]);
const KEEP =
  /^--((no-)?experimental-[\w-]+|enable-source-maps|no-warnings|trace-warnings|trace-uncaught|no-deprecation|throw-deprecation|trace-deprecation|pending-deprecation|preserve-symlinks(-main)?)$/;

/** The execArgv option for a worker: undefined to inherit `argv` as it is, else the flags of it that apply to the worker. */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] | undefined {
  if (!argv.some((arg) => MAIN_ONLY_WITH_VALUE.has(nameOf(arg)) || MAIN_ONLY.test(nameOf(arg)))) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = nameOf(arg);
    const separateValue = !arg.includes('=') && (KEEP_WITH_VALUE.has(name) || MAIN_ONLY_WITH_VALUE.has(name));
    if (KEEP_WITH_VALUE.has(name) || KEEP.test(name)) {
      kept.push(arg);
      if (separateValue && i + 1 < argv.length) kept.push(argv[++i]!);
    } else if (separateValue) {
      i++; // the dropped flag's value
    }
  }
  return kept;
}

function nameOf(arg: string): string {
  const equals = arg.indexOf('=');
  return equals < 0 ? arg : arg.slice(0, equals);
}
