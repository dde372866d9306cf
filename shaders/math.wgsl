// Shared scalar functions, prepended to the kernels that need them.

// Numerically safe logistic function: exp never overflows to NaN.
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) {
    return 1.0 / (1.0 + exp(-x));
  }
  let e = exp(x);
  return e / (1.0 + e);
}

// softplus(x) = log(1 + e^x), stable for large |x|.
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}
