// Checks of visible states that the unit types and the engines share: each
// error names the value and the fix. (src/rbm/validate.ts re-exports them with
// its other input checks; they live here because the unit descriptors use them
// and nothing in src/units imports src/rbm.)

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
