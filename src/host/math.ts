// Scalar float64 helpers the engine runs on the host (AIS arithmetic, monitors).
// The float64 reference (test/reference/exact.ts) has its own copies: it checks the
// engine and must not share its code.

/** log(1 + e^x) without overflow for large x or loss of precision for small. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** 1 / (1 + e^-x), never evaluating exp of a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log σ(x) = −softplus(−x). */
export function logSigmoid(x: number): number {
  return -softplus(-x);
}

