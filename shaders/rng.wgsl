// Philox4x32-10 counter-based generator (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC'11), shared by every sampling kernel.
//
//   philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32>
//
// The engine keys it with (seed, update step) and uses the counter
// (element index, phase, 0, 0): phase tells apart the Gibbs half-steps of one
// update. Word 0 of the output, as 24 bits, gives the element's uniform
//   u = (x0 >> 8) * 2^-24  in [0, 1),
// which is exact in f32 and f64, so src/cpu/philox.ts reproduces it bit for bit
// whatever the dispatch shape.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const PHILOX_ROUNDS: u32 = 10u;
const INV_2POW24: f32 = 5.9604644775390625e-8;

// High 32 bits of the 64-bit product a*b (WGSL has no mulhi): 16-bit limbs.
fn mulhi32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xFFFFu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xFFFFu;
  let b_hi = b >> 16u;
  let lolo = a_lo * b_lo;
  let lohi = a_lo * b_hi;
  let hilo = a_hi * b_lo;
  let hihi = a_hi * b_hi;
  let cross = (lolo >> 16u) + (lohi & 0xFFFFu) + (hilo & 0xFFFFu);
  return hihi + (lohi >> 16u) + (hilo >> 16u) + (cross >> 16u);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < PHILOX_ROUNDS; r = r + 1u) {
    if (r > 0u) {
      k = vec2<u32>(k.x + PHILOX_W0, k.y + PHILOX_W1);
    }
    let hi0 = mulhi32(PHILOX_M0, c.x);
    let lo0 = PHILOX_M0 * c.x;
    let hi1 = mulhi32(PHILOX_M1, c.z);
    let lo1 = PHILOX_M1 * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}

// The uniform in [0, 1) for one element of one phase of one update.
fn uniform01(seed: u32, step: u32, element: u32, phase: u32) -> f32 {
  let x = philox4x32_10(vec4<u32>(element, phase, 0u, 0u), vec2<u32>(seed, step));
  return f32(x.x >> 8u) * INV_2POW24;
}

const TWO_PI: f32 = 6.283185307179586;

// A standard normal for the same (seed, step, element, phase), by Box–Muller
// on words 0 and 1 of the same Philox output (u1 in (0, 1], so log is finite).
fn normal01(seed: u32, step: u32, element: u32, phase: u32) -> f32 {
  let x = philox4x32_10(vec4<u32>(element, phase, 0u, 0u), vec2<u32>(seed, step));
  let u1 = (f32(x.x >> 8u) + 1.0) * INV_2POW24;
  let u2 = f32(x.y >> 8u) * INV_2POW24;
  return sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
}
