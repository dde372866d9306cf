// The Hyper uniform shared by update.wgsl and bias_update.wgsl (packed by
// src/gpu/hyper.ts): learning rate, momentum, L2 weight decay, 1/B, and the
// sparsity target, cost and running-mean decay. 1/B weighs the positive phase;
// the negative phase's 1/N (N persistent chains, which may differ from B)
// follows from the kernels' row counts (update.wgsl, bias_update.wgsl).

struct Hyper {
  learning_rate: f32,
  momentum: f32,
  weight_decay: f32,
  inv_batch: f32,
  sparsity_target: f32,
  sparsity_cost: f32,
  sparsity_decay: f32,
  _pad: f32,
}
