// center_bias: the centered trainer's last step, moving the ordinary biases
// (Melchior, Fischer & Wiskott 2016). Runs after update_centered.wgsl (vel = ΔW,
// this update's weight step) and bias_update.wgsl (which has added the centered
// biases' own steps Δb′, Δc′: the plain bias gradients ⟨v⟩_d − ⟨v⟩_m, ⟨h⟩_d − ⟨h⟩_m).
//
// The centered energy −(v − μ)ᵀW(h − λ) − (v − μ)ᵀb′ − (h − λ)ᵀc′ has ordinary
// biases b = b′ − Wλ and c = c′ − Wᵀμ, so with fixed offsets a step (ΔW, Δb′, Δc′)
// moves them by Δb = Δb′ − ΔW·λ and Δc = Δc′ − ΔWᵀ·μ. bias_update.wgsl did the
// Δb′, Δc′ part; here:
//   unit u < V (visible i = u):   b_i −= Σ_j vel[i·H + j] · λ_j
//   unit u ≥ V (hidden j = u − V): c_j −= Σ_i vel[i·H + j] · μ_i
// μ = λ = 0 leaves b and c exactly as they are.
//
// Layout: vel [V, H] (W's velocity, row-major); mu [V]; lambda [H]; b [V]; c [H].

// struct Dims: shaders/update_batch.wgsl (linked before; bias_update.wgsl's Dims).

const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> vel: array<f32>;
@group(0) @binding(2) var<storage, read> mu: array<f32>;
@group(0) @binding(3) var<storage, read> lambda: array<f32>;
@group(0) @binding(4) var<storage, read_write> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let u = gid.x;
  let H = dims.n_hid;
  if (u < dims.n_vis) {
    var s = 0.0;
    for (var j = 0u; j < H; j = j + 1u) {
      s = s + vel[u * H + j] * lambda[j];
    }
    b[u] = b[u] - s;
  } else if (u < dims.n_vis + H) {
    let j = u - dims.n_vis;
    var s = 0.0;
    for (var i = 0u; i < dims.n_vis; i = i + 1u) {
      s = s + vel[i * H + j] * mu[i];
    }
    c[j] = c[j] - s;
  }
}
