/**
 * Invariants. An `assert` that fails is a bug in Tidemark, never something a
 * caller or the disk can cause: those get a `TidemarkError` with a code.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
