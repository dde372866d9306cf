// Philox4x32-10, bit for bit the generator of shaders/rng.wgsl: the host side of
// the engine (initialisation, shuffles, start states) and the float64 reference
// (test/reference) draw the same numbers as the kernels. Checked against the Random123
// known-answer vectors in test/host/philox.test.ts; stream ids: ./rng-streams.ts.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const ROUNDS = 10;
const INV_2POW24 = 1 / 16777216;

/** High 32 bits of the 64-bit unsigned product a*b, via 16-bit limbs as in WGSL. */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const lohi = aLo * bHi;
  const hilo = aHi * bLo;
  const hihi = aHi * bHi;
  const cross = (lolo >>> 16) + (lohi & 0xffff) + (hilo & 0xffff);
  return (hihi + Math.floor(lohi / 65536) + Math.floor(hilo / 65536) + Math.floor(cross / 65536)) >>> 0;
}

/** Philox4x32-10 on a 4-word counter and a 2-word key; returns 4 unsigned words. */
export function philox4x32_10(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((x) => x >>> 0);
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  return [c0, c1, c2, c3];
}

/** The uniform in [0, 1) that the kernels draw for (seed, step, element, phase). */
export function uniform01(seed: number, step: number, element: number, phase: number): number {
  const x = philox4x32_10([element, phase, 0, 0], [seed, step]);
  return (x[0] >>> 8) * INV_2POW24;
}

/** The standard normal normal01 in rng.wgsl draws (Box–Muller, float64 here). */
export function normal01(seed: number, step: number, element: number, phase: number): number {
  const x = philox4x32_10([element, phase, 0, 0], [seed, step]);
  const u1 = ((x[0] >>> 8) + 1) * INV_2POW24;
  const u2 = (x[1] >>> 8) * INV_2POW24;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
