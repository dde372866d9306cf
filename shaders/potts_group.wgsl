// potts_group: the softmax and categorical draw of a Potts visible layer,
// run right after a visible pass (visible, tempered_visible) whose unit module
// (shaders/units/potts.wgsl) stored each unit's field x unchanged.
//
// One invocation per (row m, site s), g = m·sites + s; the site's q units are
// e = (row_offset + m)·sites·q + s·q + t, t = 0 … q − 1:
//   x_t         = vis[e] when WRITE_SAMPLE is set (the visible pass stored the field
//                 there), else vis_prob[e]
//   p_t         = exp(x_t − max x) / Σ_u exp(x_u − max x)
//   u           = uniform01(seed, counter[0], e_0, phase),  e_0 = the site's first unit
//   state       = the least t with u < p_0 + … + p_t (q − 1 if rounding leaves u above the sum)
//   vis_prob[e] = p_t                    (WRITE_PROB)
//   vis[e]      = 1 if t = state else 0  (WRITE_SAMPLE)
// flags: the same WRITE_PROB = 1, WRITE_SAMPLE = 2 bits as the visible pass it follows
// (VISIBLE_FLAGS in src/gpu/kernels.ts). The draw uses one Philox uniform per
// site at the site's first element, a counter the elementwise unit_sample of
// Potts units never consumes, so the stream is (seed, step, e_0, phase) exactly
// as src/units/potts.ts reproduces it on the CPU.
//
// Layout (row-major f32): vis, vis_prob [R, sites·q]; counter [1] u32 (word 0 = the step).
// Workgroups of 256 invocations; groups past maxComputeWorkgroupsPerDimension go to y.
// Two passes over the site's fields (the maximum, then exponentials and sums):
// no local array, so q is not bounded by the kernel.

struct Dims {
  rows: u32,
  row_offset: u32,
  sites: u32,
  states: u32,
  phase: u32,
  seed: u32,
  flags: u32,
  _pad: u32,
}

const WORKGROUP_SIZE: u32 = 256u;
const WRITE_PROB: u32 = 1u;
const WRITE_SAMPLE: u32 = 2u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read_write> vis_prob: array<f32>;
@group(0) @binding(3) var<storage, read_write> vis: array<f32>;

fn field(e: u32, from_sample: bool) -> f32 {
  if (from_sample) {
    return vis[e];
  }
  return vis_prob[e];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (g >= dims.rows * dims.sites) {
    return;
  }
  let q = dims.states;
  let m = g / dims.sites;
  let s = g % dims.sites;
  let e0 = ((dims.row_offset + m) * dims.sites + s) * q;
  let write_prob = (dims.flags & WRITE_PROB) != 0u;
  let write_sample = (dims.flags & WRITE_SAMPLE) != 0u;

  var mx = field(e0, write_sample);
  for (var t = 1u; t < q; t = t + 1u) {
    mx = max(mx, field(e0 + t, write_sample));
  }
  var total = 0.0;
  for (var t = 0u; t < q; t = t + 1u) {
    total = total + exp(field(e0 + t, write_sample) - mx);
  }
  let inv = 1.0 / total;
  let u = uniform01(dims.seed, counter[0], e0, dims.phase);
  var cum = 0.0;
  var state = q - 1u;
  var found = false;
  // Probabilities are written after every field is read; the sample after the draw.
  for (var t = 0u; t < q; t = t + 1u) {
    let p = exp(field(e0 + t, write_sample) - mx) * inv;
    cum = cum + p;
    if (!found && u < cum) {
      state = t;
      found = true;
    }
    if (write_prob) {
      vis_prob[e0 + t] = p;
    }
  }
  if (write_sample) {
    for (var t = 0u; t < q; t = t + 1u) {
      vis[e0 + t] = select(0.0, 1.0, t == state);
    }
  }
}
