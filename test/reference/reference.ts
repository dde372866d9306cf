// Float64 reference of the GPU update: the same stacked layout and the same
// Philox uniforms, so any GPU update can be replayed here. The order of passes
// and their RNG phases are written out below from the contract (DESIGN.md,
// src/host/rng-streams.ts: phase 0 the first hidden pass, Gibbs step t the
// phases 2t − 1 and 2t), not taken from the engine's schedule (src/rbm/schedule.ts),
// so that a schedule bug shows up as a mismatch instead of being replayed.
import { normal01, uniform01 } from '../../src/host/philox';
import { sigmoid } from './exact';

/** The GPU trainer's hyperparameters (src/rbm/hyper.ts Hyperparameters), replayed as they are. */
export interface CpuHyper {
  learningRate: number;
  momentum?: number;
  weightDecay?: number;
  sparsityTarget?: number;
  sparsityCost?: number;
  sparsityDecay?: number;
}

export interface CpuParams {
  W: ArrayLike<number>;
  b: ArrayLike<number>;
  c: ArrayLike<number>;
}

/** hid_prob/hid_sample rows [off, off+rows) from vis rows [off, off+rows), as hidden.wgsl. */
export function hiddenPass(
  V: number, H: number, p: CpuParams, vis: ArrayLike<number>,
  rows: number, off: number, seed: number, step: number, phase: number,
  prob: Float64Array, sample: Float64Array,
): void {
  for (let m = 0; m < rows; m++) {
    const row = (off + m) * V;
    for (let j = 0; j < H; j++) {
      let x = p.c[j];
      for (let i = 0; i < V; i++) x += vis[row + i] * p.W[i * H + j];
      const e = (off + m) * H + j;
      const q = sigmoid(x);
      prob[e] = q;
      sample[e] = uniform01(seed, step, e, phase) < q ? 1 : 0;
    }
  }
}

/** vis_prob/vis rows [outOff, …) from hid_sample rows [inOff, …), as visible.wgsl. */
export function visiblePass(
  V: number, H: number, p: CpuParams, hidSample: ArrayLike<number>,
  rows: number, inOff: number, outOff: number, seed: number, step: number, phase: number,
  prob: Float64Array, vis: Float64Array, writeProb = true, writeSample = true, gaussian = false,
): void {
  for (let m = 0; m < rows; m++) {
    const hrow = (inOff + m) * H;
    for (let i = 0; i < V; i++) {
      let x = p.b[i];
      for (let j = 0; j < H; j++) x += hidSample[hrow + j] * p.W[i * H + j];
      const e = (outOff + m) * V + i;
      // Gaussian units: the mean x and a unit-variance normal draw around it.
      const q = gaussian ? x : sigmoid(x);
      if (writeProb) prob[e] = q;
      if (writeSample) vis[e] = gaussian ? x + normal01(seed, step, e, phase) : uniform01(seed, step, e, phase) < q ? 1 : 0;
    }
  }
}

/** A CPU twin of the GPU model plus trainer state. */
export class CpuRBM {
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  readonly wVel: Float64Array;
  readonly bVel: Float64Array;
  readonly cVel: Float64Array;
  /** Running mean of the data-driven hidden probabilities (sparsity). */
  readonly q: Float64Array;
  step = 0;
  /**
   * Centered gradients (Melchior, Fischer & Wiskott 2016, Algorithm 1): the
   * offsets μ [V], λ [H] and their sliding rate ν; absent: the plain update.
   */
  centering?: { mu: Float64Array; lambda: Float64Array; rate: number };
  // Stacked buffers, as on the GPU.
  private vis?: Float64Array;
  private visProb?: Float64Array;
  private hidProb?: Float64Array;
  private hidSample?: Float64Array;
  private chainsReady = false;

  constructor(
    readonly V: number,
    readonly H: number,
    init: CpuParams,
    readonly seed: number,
    readonly gaussian = false,
  ) {
    this.W = Float64Array.from(init.W);
    this.b = Float64Array.from(init.b);
    this.c = Float64Array.from(init.c);
    this.wVel = new Float64Array(V * H);
    this.bVel = new Float64Array(V);
    this.cVel = new Float64Array(H);
    this.q = new Float64Array(H).fill(0.5);
  }

  /**
   * One CD-k (or PCD-k) update on a batch of B rows; mirrors trainer.ts.
   * Returns the reconstruction error (per-pixel mean squared error of the
   * one-step reconstruction), as recon_error.wgsl.
   */
  update(batch: ArrayLike<number>, B: number, k: number, persistent: boolean, hyper: CpuHyper): number {
    const { V, H } = this;
    if (!this.vis || this.vis.length !== 2 * B * V) {
      this.vis = new Float64Array(2 * B * V);
      this.visProb = new Float64Array(2 * B * V);
      this.hidProb = new Float64Array(2 * B * H);
      this.hidSample = new Float64Array(2 * B * H);
      this.chainsReady = false;
    }
    const vis = this.vis;
    const visProb = this.visProb!;
    const hidProb = this.hidProb!;
    const hidSample = this.hidSample!;
    for (let i = 0; i < B * V; i++) vis[i] = batch[i];
    if (persistent && !this.chainsReady) {
      for (let i = 0; i < B * V; i++) vis[B * V + i] = batch[i];
      this.chainsReady = true;
    }
    if (!Number.isInteger(k) || k < (persistent ? 0 : 1)) throw new RangeError(`CpuRBM.update: bad k ${k}`);
    const { seed, step, gaussian } = this;
    // Rows [0, B) hold the data, rows [B, 2B) the negative phase. Positive
    // phase: h ~ p(h | v) of the data rows; PCD samples its chains' hidden
    // states in the same pass (rows [0, 2B), phase 0).
    hiddenPass(V, H, this, vis, persistent ? 2 * B : B, 0, seed, step, 0, hidProb, hidSample);
    // PCD: the one-step reconstruction of the data for the metric, probabilities only.
    if (persistent) visiblePass(V, H, this, hidSample, B, 0, B, seed, step, 0, visProb, vis, true, false, gaussian);
    for (let t = 1; t <= k; t++) {
      // CD's first visible half starts from the data's hidden states and its
      // probabilities are the reconstruction; later halves continue the chain.
      const fromData = !persistent && t === 1;
      visiblePass(V, H, this, hidSample, B, fromData ? 0 : B, B, seed, step, 2 * t - 1, visProb, vis, fromData, true, gaussian);
      hiddenPass(V, H, this, vis, B, B, seed, step, 2 * t, hidProb, hidSample);
    }
    let recon = 0;
    for (let e = 0; e < B * V; e++) recon += (vis[e] - visProb[B * V + e]) ** 2;
    recon /= B * V;
    const lr = hyper.learningRate;
    const mom = hyper.momentum ?? 0;
    const wd = hyper.weightDecay ?? 0;
    const sparsityCost = hyper.sparsityCost ?? 0;
    const sparsityTarget = hyper.sparsityTarget ?? 0.1;
    const sparsityDecay = hyper.sparsityDecay ?? 0.9;
    const R = 2 * B;
    if (this.centering) {
      this.centeredStep(B, hidProb, { lr, mom, wd, sparsityCost, sparsityTarget, sparsityDecay });
      this.step++;
      return recon;
    }
    // Weights: update.wgsl.
    for (let i = 0; i < V; i++) {
      for (let j = 0; j < H; j++) {
        let g = 0;
        for (let r = 0; r < R; r++) {
          const s = vis[r * V + i] * hidProb[r * H + j];
          g += r < B ? s : -s;
        }
        const e = i * H + j;
        const grad = g / B - wd * this.W[e];
        this.wVel[e] = mom * this.wVel[e] + lr * grad;
        this.W[e] += this.wVel[e];
      }
    }
    // Biases: bias_update.wgsl.
    for (let i = 0; i < V; i++) {
      let g = 0;
      for (let r = 0; r < R; r++) g += r < B ? vis[r * V + i] : -vis[r * V + i];
      this.bVel[i] = mom * this.bVel[i] + (lr * g) / B;
      this.b[i] += this.bVel[i];
    }
    for (let j = 0; j < H; j++) {
      let g = 0;
      let pos = 0;
      for (let r = 0; r < R; r++) {
        g += r < B ? hidProb[r * H + j] : -hidProb[r * H + j];
        if (r < B) pos += hidProb[r * H + j];
      }
      if (sparsityCost > 0) {
        this.q[j] = sparsityDecay * this.q[j] + (1 - sparsityDecay) * (pos / B);
        g += sparsityCost * (sparsityTarget - this.q[j]) * B;
      }
      this.cVel[j] = mom * this.cVel[j] + (lr * g) / B;
      this.c[j] += this.cVel[j];
    }
    this.step++;
    return recon;
  }

  /**
   * The centered step, written from the paper's Algorithm 1 in the centered
   * parametrisation E = −(v − μ)ᵀW(h − λ) − (v − μ)ᵀb′ − (h − λ)ᵀc′ (not from
   * the engine's closed form): move the offsets to the batch's data means
   * (step 10), express the model in centered parameters b′ = b + Wλ,
   * c′ = c + Wᵀμ, take the gradient step on W, b′, c′ with momentum (step 11),
   * then go back to the ordinary b = b′ − Wλ, c = c′ − Wᵀμ.
   */
  private centeredStep(
    B: number, hidProb: Float64Array,
    h: { lr: number; mom: number; wd: number; sparsityCost: number; sparsityTarget: number; sparsityDecay: number },
  ): void {
    const { V, H } = this;
    const { mu, lambda, rate } = this.centering!;
    const vis = this.vis!;
    const R = 2 * B;
    for (let i = 0; i < V; i++) {
      let m = 0;
      for (let r = 0; r < B; r++) m += vis[r * V + i];
      mu[i] = (1 - rate) * mu[i] + rate * (m / B);
    }
    for (let j = 0; j < H; j++) {
      let m = 0;
      for (let r = 0; r < B; r++) m += hidProb[r * H + j];
      lambda[j] = (1 - rate) * lambda[j] + rate * (m / B);
    }
    const bc = new Float64Array(V);
    const cc = new Float64Array(H);
    for (let i = 0; i < V; i++) {
      bc[i] = this.b[i];
      for (let j = 0; j < H; j++) bc[i] += this.W[i * H + j] * lambda[j];
    }
    for (let j = 0; j < H; j++) {
      cc[j] = this.c[j];
      for (let i = 0; i < V; i++) cc[j] += this.W[i * H + j] * mu[i];
    }
    // ⟨·⟩_d over the data rows (weight 1/B), ⟨·⟩_m over the chains (1/B: as many as rows here).
    for (let i = 0; i < V; i++) {
      for (let j = 0; j < H; j++) {
        let d = 0;
        let m = 0;
        for (let r = 0; r < R; r++) {
          const x = (vis[r * V + i] - mu[i]) * (hidProb[r * H + j] - lambda[j]);
          if (r < B) d += x;
          else m += x;
        }
        const e = i * H + j;
        const grad = (d - m) / B - h.wd * this.W[e];
        this.wVel[e] = h.mom * this.wVel[e] + h.lr * grad;
        this.W[e] += this.wVel[e];
      }
    }
    for (let i = 0; i < V; i++) {
      let g = 0;
      for (let r = 0; r < R; r++) g += r < B ? vis[r * V + i] : -vis[r * V + i];
      this.bVel[i] = h.mom * this.bVel[i] + (h.lr * g) / B;
      bc[i] += this.bVel[i];
    }
    for (let j = 0; j < H; j++) {
      let g = 0;
      let pos = 0;
      for (let r = 0; r < R; r++) {
        g += r < B ? hidProb[r * H + j] : -hidProb[r * H + j];
        if (r < B) pos += hidProb[r * H + j];
      }
      if (h.sparsityCost > 0) {
        this.q[j] = h.sparsityDecay * this.q[j] + (1 - h.sparsityDecay) * (pos / B);
        g += h.sparsityCost * (h.sparsityTarget - this.q[j]) * B;
      }
      this.cVel[j] = h.mom * this.cVel[j] + (h.lr * g) / B;
      cc[j] += this.cVel[j];
    }
    for (let i = 0; i < V; i++) {
      let s = bc[i];
      for (let j = 0; j < H; j++) s -= this.W[i * H + j] * lambda[j];
      this.b[i] = s;
    }
    for (let j = 0; j < H; j++) {
      let s = cc[j];
      for (let i = 0; i < V; i++) s -= this.W[i * H + j] * mu[i];
      this.c[j] = s;
    }
  }
}
