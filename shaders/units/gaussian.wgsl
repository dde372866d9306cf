// Gaussian visible units with unit variance, v ∈ ℝ: the visible layer of the
// Gaussian–Bernoulli RBM, E = Σ_i (v_i − b_i)²/2 − vᵀWh − cᵀh, p(v | h) = N(b + Wh, I).
//
// The functions every file in shaders/units/ defines (see bernoulli.wgsl for
// the contract); x is the unit's field, W_i·h + b_i (tempered and mixed with
// the AIS base model N(b_base, I): (1 − β)·b_base,i + β·(W_i·h + b_i), still unit variance).
//   unit_mean(x)                          E[v | x]                                    x
//   unit_sample(mean, seed, step, e, ph)  a draw of v given its mean                   mean + normal01(seed, step, e, ph)
//   unit_free_energy_term(v, b)           unit i's bias term of F(v) (and of E)       (v − b)²/2
//   unit_add_bias_difference(acc, v, b, b_base)
//                                         acc + the term at b_base − the term at b
//                                         = acc + (b − b_base)·(v − (b + b_base)/2), one fma
// Needs rng.wgsl (normal01) linked too.

fn unit_mean(x: f32) -> f32 {
  return x;
}

fn unit_sample(mean: f32, seed: u32, step: u32, element: u32, phase: u32) -> f32 {
  return mean + normal01(seed, step, element, phase);
}

fn unit_free_energy_term(v: f32, b: f32) -> f32 {
  let d = v - b;
  return 0.5 * d * d;
}

fn unit_add_bias_difference(acc: f32, v: f32, b: f32, b_base: f32) -> f32 {
  return fma(b - b_base, v - 0.5 * (b + b_base), acc);
}
