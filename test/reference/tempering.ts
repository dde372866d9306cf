// Float64 reference of parallel tempering (src/rbm/tempering.ts): the same
// stacked layout, the same sweep order and the same Philox uniforms, so a GPU
// sweep can be replayed here and its swap decisions checked one by one.
import { sigmoid, softplus } from './exact';
import { uniform01 } from '../../src/host/philox';
import type { CpuParams } from './reference';

export interface TemperedRBM extends CpuParams {
  visible: number;
  hidden: number;
}

/** The RBM (βW, βb, βc): its distribution is the tempered p_β(v) ∝ e^{−β E}. */
export function temperedParams(p: TemperedRBM, beta: number): TemperedRBM {
  const scale = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, (x) => beta * x);
  return { visible: p.visible, hidden: p.hidden, W: scale(p.W), b: scale(p.b), c: scale(p.c) };
}

/** x_j = vᵀw_j + c_j of row `offset` of `v`. */
function preactivation(p: TemperedRBM, v: ArrayLike<number>, offset: number, out: Float64Array): Float64Array {
  const { visible: V, hidden: H, W, c } = p;
  for (let j = 0; j < H; j++) {
    let x = c[j];
    for (let i = 0; i < V; i++) x += v[offset + i] * W[i * H + j];
    out[j] = x;
  }
  return out;
}

/** F_β(v) = −β bᵀv − Σ_j softplus(β (vᵀw_j + c_j)), the tempered free energy. */
export function temperedFreeEnergy(p: TemperedRBM, beta: number, v: ArrayLike<number>, offset = 0): number {
  const x = preactivation(p, v, offset, new Float64Array(p.hidden));
  let f = 0;
  for (let i = 0; i < p.visible; i++) f -= beta * p.b[i] * v[offset + i];
  for (let j = 0; j < p.hidden; j++) f -= softplus(beta * x[j]);
  return f;
}

/** log r = F_a(A) + F_b(B) − F_a(B) − F_b(A): the log acceptance ratio of swapping A (at β_a) and B (at β_b). */
export function swapLogRatio(
  p: TemperedRBM, betaA: number, betaB: number,
  A: ArrayLike<number>, B: ArrayLike<number>, offsetA = 0, offsetB = 0,
): number {
  return (
    temperedFreeEnergy(p, betaA, A, offsetA) + temperedFreeEnergy(p, betaB, B, offsetB) -
    temperedFreeEnergy(p, betaA, B, offsetB) - temperedFreeEnergy(p, betaB, A, offsetA)
  );
}

export interface TemperedSweepOptions {
  chains: number;
  betas: ArrayLike<number>;
  seed: number;
  /** The sweep's RNG step (the GPU's counter[0] when it runs). */
  step: number;
  /** Swap pairs m ≡ parity (mod 2) in this sweep; undefined: no swap round. */
  parity?: number;
  /** RNG phases: must be PT_PHASE of src/host/rng-streams.ts. */
  phases: { hidden: number; visible: number; swapDecide: number; swapResample: number };
}

export interface TemperedSweepResult {
  vis: Float64Array;
  visProb: Float64Array;
  /** Accepted swaps of pair (m, m+1) in this sweep. */
  accepted: number[];
  /** Per tried pair and chain: the log ratio, the uniform and the decision (for near-tie checks). */
  decisions: Array<{ m: number; chain: number; logRatio: number; u: number; accepted: boolean }>;
}

/**
 * One tempered sweep exactly as the GPU runs it: hidden pass (h ~ σ(β_r x)),
 * the swap round (if `parity` is given), visible pass. `vis` is [M·n, V]
 * stacked by replica and is not modified.
 */
export function temperedSweep(p: TemperedRBM, vis: ArrayLike<number>, o: TemperedSweepOptions): TemperedSweepResult {
  const { visible: V, hidden: H, W, b } = p;
  const n = o.chains;
  const M = o.betas.length;
  const R = M * n;
  const { seed, step, phases } = o;
  const beta = (row: number): number => o.betas[Math.floor(row / n)];
  const v = Float64Array.from(vis);
  const x = new Float64Array(R * H);
  const h = new Float64Array(R * H);
  const xr = new Float64Array(H);
  for (let r = 0; r < R; r++) {
    preactivation(p, v, r * V, xr);
    for (let j = 0; j < H; j++) {
      const e = r * H + j;
      x[e] = xr[j];
      h[e] = uniform01(seed, step, e, phases.hidden) < sigmoid(beta(r) * xr[j]) ? 1 : 0;
    }
  }
  const accepted = new Array<number>(Math.max(0, M - 1)).fill(0);
  const decisions: TemperedSweepResult['decisions'] = [];
  if (o.parity !== undefined) {
    for (let m = o.parity; m + 1 < M; m += 2) {
      for (let i = 0; i < n; i++) {
        const ra = m * n + i;
        const rb = ra + n;
        const logRatio = swapLogRatio(p, o.betas[m], o.betas[m + 1], v, v, ra * V, rb * V);
        const u = uniform01(seed, step, ra, phases.swapDecide);
        const ok = logRatio >= 0 || u < Math.exp(logRatio);
        decisions.push({ m, chain: i, logRatio, u, accepted: ok });
        if (!ok) continue;
        accepted[m]++;
        for (let k = 0; k < V; k++) {
          const t = v[ra * V + k];
          v[ra * V + k] = v[rb * V + k];
          v[rb * V + k] = t;
        }
        for (let j = 0; j < H; j++) {
          const ea = ra * H + j;
          const eb = rb * H + j;
          h[ea] = uniform01(seed, step, ea, phases.swapResample) < sigmoid(o.betas[m] * x[eb]) ? 1 : 0;
          h[eb] = uniform01(seed, step, eb, phases.swapResample) < sigmoid(o.betas[m + 1] * x[ea]) ? 1 : 0;
        }
      }
    }
  }
  const visProb = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < V; i++) {
      let s = b[i];
      for (let j = 0; j < H; j++) s += h[r * H + j] * W[i * H + j];
      const e = r * V + i;
      const q = sigmoid(beta(r) * s);
      visProb[e] = q;
      v[e] = uniform01(seed, step, e, phases.visible) < q ? 1 : 0;
    }
  }
  return { vis: v, visProb, accepted, decisions };
}
