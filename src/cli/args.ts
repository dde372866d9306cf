// Command-line parsing on node:util parseArgs, plus typed readers that turn
// each flag into a checked value or a UsageError naming the flag and the fix.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { DeviceLimitError, describeSizeLimit, HostMemoryError, OptionError } from '../index';
import { CliError, messageOf, UsageError } from './errors';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
/** Parsed flag values: no option is `multiple`, so each is a string, a boolean or absent. */
export type Values = Readonly<Record<string, string | boolean | undefined>>;

export interface ParsedArgs {
  values: Values;
  positionals: string[];
}

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/** Strict parse of one command's arguments; unknown flags and missing values are usage errors. */
export function parseCommand(command: string, args: string[], options: OptionSpec): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: true });
    return { values: values as Values, positionals };
  } catch (e) {
    throw new UsageError(`${describeParseError(e)}; run "webgpu-rbm ${command} --help" for the options`);
  }
}

// parseArgs' own messages are long and aimed at programmers; keep their gist.
function describeParseError(e: unknown): string {
  const code = (e as { code?: string }).code;
  const quoted = /'([^']+)'/.exec(messageOf(e))?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) return `unknown option ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted) {
    const flag = quoted.split(' ')[0];
    const msg = messageOf(e);
    if (msg.includes('does not take an argument')) return `${flag} takes no value`;
    // "ambiguous": the next word starts with a dash (another flag, or a negative number).
    if (msg.includes('ambiguous')) return `${flag} needs a value (for a value starting with "-" write ${flag}=-X)`;
    return `${flag} needs a value`;
  }
  return messageOf(e).replace(/\.$/, '');
}

export function stringOption(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

export function flag(v: Values, name: string): boolean {
  return v[name] === true;
}

/** A string flag the command cannot run without. */
export function requiredString(v: Values, command: string, name: string, what: string): string {
  const x = stringOption(v, name);
  if (x === undefined || x === '') throw new UsageError(`${command} needs --${name} ${what}`);
  return x;
}

/** An integer flag in [min, max]. */
export function intOption(v: Values, name: string, fallback: number, min = 1, max = 2 ** 31 - 1): number {
  const s = stringOption(v, name);
  if (s === undefined) return fallback;
  const n = /^\s*[+-]?\d+\s*$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = min === 1 && max === 2 ** 31 - 1 ? 'a positive integer' : `an integer in ${min}..${max}`;
    throw new UsageError(`--${name} must be ${range}, got "${s}"`);
  }
  return n;
}

export interface NumberRange {
  min?: number;
  max?: number;
  /** Exclude `min` itself (e.g. a learning rate must be > 0). */
  above?: boolean;
  /** Exclude `max` itself. */
  below?: boolean;
}

/** A finite number flag within `range`. */
export function numberOption(v: Values, name: string, fallback: number, range?: NumberRange): number;
export function numberOption(v: Values, name: string, fallback: undefined, range?: NumberRange): number | undefined;
export function numberOption(v: Values, name: string, fallback: number | undefined, range: NumberRange = {}): number | undefined {
  const s = stringOption(v, name);
  if (s === undefined) return fallback;
  const n = s.trim() === '' ? NaN : Number(s);
  const { min = -Infinity, max = Infinity, above = false, below = false } = range;
  const ok = Number.isFinite(n) && (above ? n > min : n >= min) && (below ? n < max : n <= max);
  if (!ok) {
    const lo = min > -Infinity ? `${above ? '>' : '≥'} ${min}` : '';
    const hi = max < Infinity ? `${below ? '<' : '≤'} ${max}` : '';
    const bounds = [lo, hi].filter((b) => b !== '').join(' and ');
    throw new UsageError(`--${name} must be a number${bounds ? ' ' + bounds : ''}, got "${s}"`);
  }
  return n;
}

/** One of a fixed set of words. */
export function choiceOption<T extends string>(v: Values, name: string, choices: readonly T[], fallback: T): T {
  const s = stringOption(v, name);
  if (s === undefined) return fallback;
  if (!(choices as readonly string[]).includes(s)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${s}"`);
  }
  return s as T;
}

/** A seed: any uint32. */
export function seedOption(v: Values, fallback: number): number {
  return intOption(v, 'seed', fallback, 0, 0xffffffff);
}

/** Exactly `names.length` positional arguments; `names` describe the missing ones in the error. */
export function positionals(p: ParsedArgs, command: string, names: string[]): string[] {
  if (p.positionals.length < names.length) {
    throw new UsageError(`${command} needs ${names.slice(p.positionals.length).join(' and ')}; run "webgpu-rbm ${command} --help"`);
  }
  if (p.positionals.length > names.length) {
    throw new UsageError(`unexpected argument "${p.positionals[names.length]}"; run "webgpu-rbm ${command} --help"`);
  }
  return p.positionals;
}

/**
 * A library size error (DeviceLimitError or HostMemoryError that carries the
 * sizes it multiplied) as a one-line CliError naming this command's flags, e.g.
 * "--chains 20000 × --replicas 10 × 784 visible units needs 627 MB of GPU
 * storage (…) but this device allows 134 MB per buffer; lower --chains or
 * --replicas". `flags` maps library option names to flags; any other error is
 * returned unchanged.
 */
export function nameFlags(e: unknown, flags: Readonly<Record<string, string>>): unknown {
  if ((e instanceof DeviceLimitError || e instanceof HostMemoryError) && e.size) {
    return new CliError(describeSizeLimit(e.size, (option) => (Object.hasOwn(flags, option) ? flags[option] : option)));
  }
  if (e instanceof OptionError) {
    let message = e.message;
    for (const option of e.options) {
      if (Object.hasOwn(flags, option)) message = message.replace(new RegExp(`\\b${option}\\b`, 'g'), flags[option]);
    }
    return new UsageError(message);
  }
  return e;
}

/** Runs `f`, turning its size errors into CliErrors that name `flags` (see nameFlags). */
export async function withFlagNames<T>(flags: Readonly<Record<string, string>>, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw nameFlags(e, flags);
  }
}
