// free_energy: F(v) for each row of a block, from the softplus terms.
//
//   F(v) = Σ_i unit_free_energy_term(v_i, b_i) − Σ_j terms[m·H + j]
//   with terms[m·H + j] = softplus(vᵀw_j + c_j) from softplus_terms.wgsl and the
//   visible unit type's term from its linked module (shaders/units/<type>.wgsl):
//   −b_i·v_i for Bernoulli units, (v_i − b_i)²/2 for Gaussian ones.
//
// Layout (row-major f32): data [N, V] (block rows start at row_offset),
// terms [rows, H], b [V]; out [N] (written at row_offset + m).
// One workgroup per row: a strided sum, then a tree reduction in workgroup
// memory. Rows beyond maxComputeWorkgroupsPerDimension go to the y dimension.

struct Dims {
  rows: u32,
  row_offset: u32,
  n_vis: u32,
  n_hid: u32,
}

const WORKGROUP_SIZE: u32 = 128u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> terms: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let m = wg.x + wg.y * nwg.x;
  let V = dims.n_vis;
  let H = dims.n_hid;
  let in_range = m < dims.rows;
  let base = (dims.row_offset + m) * V;

  // s accumulates −F(v).
  var s = 0.0;
  if (in_range) {
    for (var j = lid; j < H; j = j + WORKGROUP_SIZE) {
      s = s + terms[m * H + j];
    }
    for (var i = lid; i < V; i = i + WORKGROUP_SIZE) {
      s = s - unit_free_energy_term(data[base + i], b[i]);
    }
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      partial[lid] = partial[lid] + partial[lid + width];
    }
    workgroupBarrier();
  }
  if (lid == 0u && in_range) {
    out[dims.row_offset + m] = -partial[0];
  }
}
