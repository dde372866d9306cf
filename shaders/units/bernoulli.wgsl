// Bernoulli visible units, v ∈ {0, 1}: the visible layer of the binary RBM.
//
// Every file in shaders/units/ defines the same functions, which the visible
// kernels call for their layer (visible, tempered_visible, free_energy,
// ais_weight link exactly one of these files; src/units/ holds the TS
// descriptor of each, test/units/ checks one against the other). x is the
// unit's field, W_i·h + b_i (tempered: (1 − β)·b_base,i + β·(W_i·h + b_i)).
//   unit_mean(x)                          E[v | x]                                    σ(x)
//   unit_sample(mean, seed, step, e, ph)  a draw of v given its mean, from the Philox
//                                         stream (seed, step, element e, phase ph)   1 if uniform01 < mean else 0
//   unit_free_energy_term(v, b)           unit i's bias term of F(v) (and of E)       −b·v
//   unit_add_bias_difference(acc, v, b, b_base)
//                                         acc + the term at b_base − the term at b:
//                                         AIS's visible log-weight per unit of δβ     acc + (b − b_base)·v, one fma
// Needs rng.wgsl (uniform01, normal01) and math.wgsl (sigmoid) linked too.

fn unit_mean(x: f32) -> f32 {
  return sigmoid(x);
}

fn unit_sample(mean: f32, seed: u32, step: u32, element: u32, phase: u32) -> f32 {
  return select(0.0, 1.0, uniform01(seed, step, element, phase) < mean);
}

fn unit_free_energy_term(v: f32, b: f32) -> f32 {
  return -(b * v);
}

fn unit_add_bias_difference(acc: f32, v: f32, b: f32, b_base: f32) -> f32 {
  return fma(b - b_base, v, acc);
}
