/**
 * Command-line arguments of one command: positionals and `--name value` / `--name=value` options.
 * Only the options a command declares are accepted; anything else is a usage error.
 */
import { UsageError } from "./usage-error.js";

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string>;
}

export function parseArgs(command: string, argv: readonly string[], valueOptions: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!valueOptions.includes(name)) throw new UsageError(`${command}: unknown option --${name}`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new UsageError(`${command}: --${name} needs a value`);
    options.set(name, value);
  }
  return { positionals, options };
}

/** Checks the positional count: exactly `names.length`, or up to it when `optional` trailing ones are allowed. */
export function expectPositionals(command: string, positionals: readonly string[], required: readonly string[], optional: readonly string[] = []): void {
  if (positionals.length < required.length) {
    throw new UsageError(`${command}: missing <${required[positionals.length]}>`);
  }
  if (positionals.length > required.length + optional.length) {
    throw new UsageError(`${command}: unexpected argument "${positionals[required.length + optional.length]}"`);
  }
}

/** A non-negative integer option value. */
export function parseCount(command: string, name: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${command}: --${name} must be a non-negative integer, got "${text}"`);
  }
  return Number(text);
}
