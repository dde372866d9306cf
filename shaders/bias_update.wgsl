// bias_update: the CD/PCD bias steps (column sums of the stacked batch), and
// the end of the update: it advances the RNG step counter.
//
//   unit u < V (visible i = u):   g = Σ_r s_r · vis[r·V + i]
//   unit u ≥ V (hidden j = u − V): g = Σ_r s_r · hid_prob[r·H + j]
//   s_r = +1 for r < neg_start (data rows), −ρ after (negative phase)
//   vel[u] = momentum · vel[u] + learning_rate · g · inv_batch;  bias[u] += vel[u]
//   so g · inv_batch = (positive sum) / B − (negative sum) / N, with B = neg_start
//   data rows, N = n_rows − neg_start persistent chains and ρ = B / N (exactly 1,
//   the plain difference, when N = B).
//   Sparsity (hidden biases only, Hinton's guide section 11): with q_j the
//   decaying mean of the data-driven p_j,
//     q_j ← decay · q_j + (1 − decay) · Σ_{r<B} hid_prob[r·H + j] · inv_batch
//     g_j += sparsity_cost · (sparsity_target − q_j) / inv_batch   (cost 0 disables)
//   counter[0] += 1: the RNG step; counter[1] += 1: the batch cursor that
//   gather.wgsl reads. One invocation does both, after every kernel of the
//   update that reads them has run.
//
// Layout: vis [R, V], hid_prob [R, H] with R = B + N; b [V], c [H]; b_vel [V], c_vel [H];
// q [H]. Biases carry no weight decay (Hinton's practical guide, section 10).

// struct Dims and phase_difference (the rows' weights): shaders/update_batch.wgsl;
// struct Hyper: shaders/hyper.wgsl (both linked before).

const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(2) var<storage, read> vis: array<f32>;
@group(0) @binding(3) var<storage, read> hid_prob: array<f32>;
@group(0) @binding(4) var<storage, read_write> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;
@group(0) @binding(6) var<storage, read_write> b_vel: array<f32>;
@group(0) @binding(7) var<storage, read_write> c_vel: array<f32>;
@group(0) @binding(8) var<storage, read_write> counter: array<u32>;
@group(0) @binding(9) var<storage, read_write> q: array<f32>;

// Returns (positive-phase sum, negative-phase sum) of one column.
fn column_sums(src_is_vis: bool, col: u32, width: u32) -> vec2<f32> {
  var pos = 0.0;
  var neg = 0.0;
  for (var r = 0u; r < dims.n_rows; r = r + 1u) {
    var x: f32;
    if (src_is_vis) {
      x = vis[r * width + col];
    } else {
      x = hid_prob[r * width + col];
    }
    if (r < dims.neg_start) {
      pos = pos + x;
    } else {
      neg = neg + x;
    }
  }
  return vec2<f32>(pos, neg);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let u = gid.x;
  if (u == 0u) {
    counter[0] = counter[0] + 1u;
    counter[1] = counter[1] + 1u;
  }
  if (u < dims.n_vis) {
    let s = column_sums(true, u, dims.n_vis);
    let g = phase_difference(s);
    let v = hyper.momentum * b_vel[u] + hyper.learning_rate * g * hyper.inv_batch;
    b_vel[u] = v;
    b[u] = b[u] + v;
  } else if (u < dims.n_vis + dims.n_hid) {
    let j = u - dims.n_vis;
    let s = column_sums(false, j, dims.n_hid);
    var g = phase_difference(s);
    if (hyper.sparsity_cost > 0.0) {
      let qj = hyper.sparsity_decay * q[j] + (1.0 - hyper.sparsity_decay) * s.x * hyper.inv_batch;
      q[j] = qj;
      g = g + hyper.sparsity_cost * (hyper.sparsity_target - qj) / hyper.inv_batch;
    }
    let v = hyper.momentum * c_vel[j] + hyper.learning_rate * g * hyper.inv_batch;
    c_vel[j] = v;
    c[j] = c[j] + v;
  }
}
