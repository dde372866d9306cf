// Input checks shared by the model and trainers: each error names the value and the fix.

export function checkSize(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${n}`);
  }
}

export function checkFiniteArray(name: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new RangeError(`${name} holds ${a[i]} at index ${i}; every value must be finite`);
    }
  }
}

export function checkBinary(name: string, a: ArrayLike<number>, width: number): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x !== 0 && x !== 1) {
      throw new RangeError(
        `${name} is not binary: row ${Math.floor(i / width)}, column ${i % width} is ${x}. ` +
          'A Bernoulli RBM trains on 0/1 data: binarize it first (threshold or stochastic).',
      );
    }
  }
}

export function checkFiniteNumber(name: string, x: number, min = -Infinity): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) {
    throw new RangeError(`${name} must be a finite number${min > -Infinity ? ` ≥ ${min}` : ''}, got ${x}`);
  }
}
