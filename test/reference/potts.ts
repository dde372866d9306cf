// Exact float64 math of a Potts–Bernoulli RBM, written from the definitions
// (independent of src/): L sites of q states, one-hot visible units
// e = site·q + state (V = L·q), H binary hidden units, W [V, H] row-major.
//   E(v, h) = −bᵀv − vᵀWh − cᵀh
//   p(v_site = s | h) = softmax_s(b_{site,s} + Σ_j W_{site·q+s, j} h_j)
//   p(h_j = 1 | v) = σ(c_j + Σ_i v_i W_ij)
//   F(v) = −bᵀv − Σ_j softplus(c_j + vᵀw_j)
//   log Z = log Σ_{v one-hot} Σ_h e^{−E(v,h)}
//         = logsumexp_h [cᵀh + Σ_site logsumexp_s (b_{site,s} + W_{site·q+s}·h)]
// The brute-force forms enumerate everything (q^L · 2^H terms): tiny sizes only.
import { logSumExp, sigmoid, softplus } from './exact';

export interface PottsParams {
  sites: number;
  states: number;
  hidden: number;
  W: ArrayLike<number>;
  b: ArrayLike<number>;
  c: ArrayLike<number>;
}

/** Softmax of a list, in float64. */
export function softmaxRef(x: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(x));
  const e = Array.from(x, (v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
}

/** The visible fields x_i = b_i + Σ_j W_ij h_j of one hidden state h. */
export function pottsFields(p: PottsParams, h: ArrayLike<number>): Float64Array {
  const V = p.sites * p.states;
  const x = new Float64Array(V);
  for (let i = 0; i < V; i++) {
    let s = p.b[i];
    for (let j = 0; j < p.hidden; j++) s += p.W[i * p.hidden + j] * h[j];
    x[i] = s;
  }
  return x;
}

/** p(v | h): each site's softmax, [V]. */
export function pottsConditional(p: PottsParams, h: ArrayLike<number>): Float64Array {
  const x = pottsFields(p, h);
  const q = p.states;
  const out = new Float64Array(x.length);
  for (let s = 0; s < p.sites; s++) out.set(softmaxRef(x.subarray(s * q, (s + 1) * q)), s * q);
  return out;
}

/** p(h_j = 1 | v), [H]. */
export function pottsHiddenProbs(p: PottsParams, v: ArrayLike<number>): Float64Array {
  const V = p.sites * p.states;
  const out = new Float64Array(p.hidden);
  for (let j = 0; j < p.hidden; j++) {
    let s = p.c[j];
    for (let i = 0; i < V; i++) s += v[i] * p.W[i * p.hidden + j];
    out[j] = sigmoid(s);
  }
  return out;
}

/** F(v) = −bᵀv − Σ_j softplus(c_j + vᵀw_j). */
export function pottsFreeEnergy(p: PottsParams, v: ArrayLike<number>): number {
  const V = p.sites * p.states;
  let f = 0;
  for (let i = 0; i < V; i++) f -= p.b[i] * v[i];
  for (let j = 0; j < p.hidden; j++) {
    let s = p.c[j];
    for (let i = 0; i < V; i++) s += v[i] * p.W[i * p.hidden + j];
    f -= softplus(s);
  }
  return f;
}

/** The one-hot row of a list of states (codes). */
export function oneHot(codes: ArrayLike<number>, q: number): Float64Array {
  const v = new Float64Array(codes.length * q);
  for (let s = 0; s < codes.length; s++) v[s * q + codes[s]] = 1;
  return v;
}

/** Every visible configuration's codes, in order (site 0 fastest): q^L of them. */
export function allConfigurations(sites: number, q: number): number[][] {
  const out: number[][] = [];
  const total = q ** sites;
  for (let n = 0; n < total; n++) {
    const codes: number[] = [];
    let r = n;
    for (let s = 0; s < sites; s++) {
      codes.push(r % q);
      r = Math.floor(r / q);
    }
    out.push(codes);
  }
  return out;
}

/** log Z by brute force over every (v, h): q^L · 2^H energies. */
export function pottsLogZBrute(p: PottsParams): number {
  const V = p.sites * p.states;
  const terms: number[] = [];
  for (const codes of allConfigurations(p.sites, p.states)) {
    const v = oneHot(codes, p.states);
    for (let hs = 0; hs < 2 ** p.hidden; hs++) {
      let e = 0; // −E(v, h)
      for (let i = 0; i < V; i++) e += p.b[i] * v[i];
      for (let j = 0; j < p.hidden; j++) {
        if (((hs >> j) & 1) === 0) continue;
        e += p.c[j];
        for (let i = 0; i < V; i++) e += v[i] * p.W[i * p.hidden + j];
      }
      terms.push(e);
    }
  }
  return logSumExp(terms);
}

/** log Z by enumerating h: logsumexp_h [cᵀh + Σ_site logsumexp_s x_{site,s}(h)]. */
export function pottsLogZHidden(p: PottsParams): number {
  const q = p.states;
  const terms: number[] = [];
  for (let hs = 0; hs < 2 ** p.hidden; hs++) {
    const h = Array.from({ length: p.hidden }, (_, j) => (hs >> j) & 1);
    const x = pottsFields(p, h);
    let t = 0;
    for (let j = 0; j < p.hidden; j++) t += p.c[j] * h[j];
    for (let s = 0; s < p.sites; s++) t += logSumExp(Array.from(x.subarray(s * q, (s + 1) * q)));
    terms.push(t);
  }
  return logSumExp(terms);
}

/** p(v) of every configuration (allConfigurations order), from F and the brute-force log Z. */
export function pottsDistribution(p: PottsParams): Float64Array {
  const logZ = pottsLogZBrute(p);
  return Float64Array.from(allConfigurations(p.sites, p.states), (codes) => Math.exp(-pottsFreeEnergy(p, oneHot(codes, p.states)) - logZ));
}

/** The exact per-unit marginals p(v_{site} = s), [V]. */
export function pottsMarginals(p: PottsParams): Float64Array {
  const dist = pottsDistribution(p);
  const out = new Float64Array(p.sites * p.states);
  allConfigurations(p.sites, p.states).forEach((codes, n) => {
    for (let s = 0; s < p.sites; s++) out[s * p.states + codes[s]] += dist[n];
  });
  return out;
}

/** The exact pair marginals p(v_a = s, v_b = t) of two sites, [q, q] row-major. */
export function pottsPairMarginal(p: PottsParams, a: number, b: number): Float64Array {
  const dist = pottsDistribution(p);
  const out = new Float64Array(p.states * p.states);
  allConfigurations(p.sites, p.states).forEach((codes, n) => {
    out[codes[a] * p.states + codes[b]] += dist[n];
  });
  return out;
}

/** A categorical draw from probabilities p with uniform u: the least t with u < p_0 + … + p_t. */
export function categorical(p: ArrayLike<number>, u: number): number {
  let cum = 0;
  for (let t = 0; t < p.length; t++) {
    cum += p[t];
    if (u < cum) return t;
  }
  return p.length - 1;
}
