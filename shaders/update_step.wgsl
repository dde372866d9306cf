// update_step: the weight step shared by update.wgsl and update_centered.wgsl,
// linked after hyper.wgsl and update_batch.wgsl and before the kernel file
// (which supplies load_a and load_b) and gemm.wgsl (which runs the GEMM):
//
//   C[i, j]  = Σ_{r<R} load_a(i, r) · load_b(r, j)     (gemm.wgsl; M = V, N = H, K = R)
//   grad     = C[i, j] · inv_batch − weight_decay · W[i, j]
//   vel[i,j] = momentum · vel[i, j] + learning_rate · grad
//   W[i, j] += vel[i, j]                                   (in place)
//
// Bindings 0–5, the same in both kernels (update_centered.wgsl adds its offsets
// at 6 and 7). Layout (row-major f32): vis [R, V], hid_prob [R, H] (R = B + N,
// update_batch.wgsl); W, vel [V, H].

// struct Dims: shaders/update_batch.wgsl; struct Hyper: shaders/hyper.wgsl (both linked before).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(2) var<storage, read> vis: array<f32>;
@group(0) @binding(3) var<storage, read> hid_prob: array<f32>;
@group(0) @binding(4) var<storage, read_write> W: array<f32>;
@group(0) @binding(5) var<storage, read_write> vel: array<f32>;

// visᵀ walks i (= m) contiguously; hid_prob walks j (= n).
const A_CONTIGUOUS_IN_K: bool = false;
const B_CONTIGUOUS_IN_K: bool = false;

fn gemm_size() -> vec3<u32> {
  return vec3<u32>(dims.n_vis, dims.n_hid, dims.n_rows);
}

fn epilogue(m: u32, n: u32, g: f32) {
  let e = m * dims.n_hid + n;
  let w = W[e];
  let grad = g * hyper.inv_batch - hyper.weight_decay * w;
  let v = hyper.momentum * vel[e] + hyper.learning_rate * grad;
  vel[e] = v;
  W[e] = w + v;
}
