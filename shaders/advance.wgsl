// advance: counter[0] += 1 — moves a sampler's RNG step on, on the GPU, so
// many Gibbs sweeps fit in one command buffer with fresh random numbers.

@group(0) @binding(0) var<storage, read_write> counter: array<u32>;

@compute @workgroup_size(1)
fn main() {
  counter[0] = counter[0] + 1u;
}
