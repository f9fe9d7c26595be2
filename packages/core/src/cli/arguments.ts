/**
 * Option values checked as commander parses them, so that a mistake in one
 * (`--workers abc`, `--batch 0`, `--format xml`) is a usage mistake: exit
 * status 2, the message naming the option and what it takes. A usage
 * mistake found later, once a command knows more (import without
 * `--schema` for a table that does not exist), is a UsageError: also 2.
 */
import { InvalidArgumentError } from 'commander';
import { CliErrorCode } from '../errors.js';
import { CliError } from './output.js';

/** A usage mistake found by a command: `tidemark: <message> [TM_USAGE]`, exit status 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, CliErrorCode.USAGE);
  }
}

/** A parser for an integer option from `min` to `max`. */
export function integerOption(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(
        `${name} must be an integer from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, not "${text}"`,
      );
    }
    return value;
  };
}

/** A parser for an option that takes one of `choices`. */
export function choiceOption<T extends string>(name: string, choices: readonly T[]): (text: string) => T {
  return (text) => {
    if (!(choices as readonly string[]).includes(text))
      throw new InvalidArgumentError(`${name} must be ${choices.join(' or ')}, not "${text}"`);
    return text as T;
  };
}
