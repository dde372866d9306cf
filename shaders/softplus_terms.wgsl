// softplus_terms: the hidden-unit terms of the free energy for a block of rows,
//
//   terms[m·H + j] = softplus(Σ_i data[(row_offset + m)·V + i] · W[i·H + j] + c[j])
//
// one tiled GEMM (gemm.wgsl) with softplus fused into its epilogue; free_energy.wgsl
// then reduces each row. Layout (row-major f32): data [N, V], W [V, H], c [H],
// terms [rows, H] (rows of this block only).

struct Dims {
  rows: u32,
  row_offset: u32,
  n_vis: u32,
  n_hid: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> terms: array<f32>;

const A_CONTIGUOUS_IN_K: bool = true;
const B_CONTIGUOUS_IN_K: bool = false;

fn gemm_size() -> vec3<u32> {
  return vec3<u32>(dims.rows, dims.n_hid, dims.n_vis);
}

fn load_a(m: u32, k: u32) -> f32 {
  return data[(dims.row_offset + m) * dims.n_vis + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  return W[k * dims.n_hid + n];
}

fn epilogue(m: u32, n: u32, x: f32) {
  terms[m * dims.n_hid + n] = softplus(x + c[n]);
}
