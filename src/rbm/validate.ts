// Input checks shared by the model and trainers: each error names the value and the fix.
// The checks of visible states (finite, binary) live with the unit types that use them.
export { checkBinary, checkFiniteArray } from '../units/checks';

/**
 * A value the caller chose is not allowed (a budget too small for the data, …):
 * `options` lists the option names the message uses, so a front end can name
 * its own flags instead (the CLI's nameFlags).
 */
export class OptionError extends RangeError {
  override name = 'OptionError';
  constructor(
    message: string,
    readonly options: readonly string[],
  ) {
    super(message);
  }
}

export function checkSize(name: string, n: unknown): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${showValue(n)}`);
  }
}

export function checkFiniteNumber(name: string, x: number, min = -Infinity): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) {
    throw new RangeError(`${name} must be a finite number${min > -Infinity ? ` ≥ ${min}` : ''}, got ${x}`);
  }
}

/** Shows an offending option value in an error message: strings quoted, objects as JSON where possible. */
export function showValue(x: unknown): string {
  if (typeof x === 'string') return `'${x}'`;
  if (typeof x === 'function') return 'a function';
  if (x === null || typeof x !== 'object') return String(x);
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}

/** `x` must be one of `allowed` (string enums): the error names the option, the value and every allowed value. */
export function checkEnum<T extends string>(name: string, x: unknown, allowed: readonly T[]): asserts x is T {
  if (typeof x !== 'string' || !(allowed as readonly string[]).includes(x)) {
    throw new RangeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${showValue(x)}`);
  }
}

/** An integer ≥ `min` (sizes that may be 0, counts, indices). */
export function checkInteger(name: string, n: unknown, min = 0): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${showValue(n)}`);
  }
}

/** A 32-bit seed: any integer (negative seeds wrap as `>>> 0` does). */
export function checkSeed(name: string, s: unknown): void {
  if (typeof s !== 'number' || !Number.isSafeInteger(s)) {
    throw new RangeError(`${name} must be an integer (it is used modulo 2^32), got ${showValue(s)}`);
  }
}

export function checkBoolean(name: string, x: unknown): void {
  if (typeof x !== 'boolean') throw new RangeError(`${name} must be true or false, got ${showValue(x)}`);
}

export function checkFunction(name: string, f: unknown): void {
  if (typeof f !== 'function') throw new RangeError(`${name} must be a function, got ${showValue(f)}`);
}

/** A finite number in [min, max) (`max` exclusive), e.g. momentum and sparsity rates in [0, 1). */
export function checkBelow(name: string, x: unknown, min: number, max: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x >= max) {
    throw new RangeError(`${name} must be a finite number in [${min}, ${max}), got ${showValue(x)}`);
  }
}
