// Parallel tempering (replica exchange) for a Bernoulli RBM on the GPU.
//
// M replicas of n chains each sample the tempered models
// p_β(v, h) ∝ exp(−β E(v, h)) for β_0 = 1 > β_1 ≥ … ≥ β_{M−1} ≥ 0; the hot
// replicas cross energy barriers easily and pass their states down to β = 1
// through swap moves between neighbouring temperatures. One sweep, every
// replica at once (all rows stacked by replica in one buffer):
//
//   tempered_hidden   x = vW + c stored, h ~ σ(β_r x)              (one GEMM, all replicas)
//   pt_swap     on swap sweeps: pairs (m, m+1), m ≡ round (mod 2), accept with
//               min(1, e^{F_m(v_m) + F_{m+1}(v_{m+1}) − F_m(v_{m+1}) − F_{m+1}(v_m)}),
//               swapped rows redraw h in their new replica
//   tempered_visible  v ~ σ(β_r (hWᵀ + b))                  (one GEMM, all replicas)
//   advance     the RNG step
//
// β scales the kernels' epilogues instead of copies of W, so the sampler always
// sees the model's current parameters (training changes them every update)
// and costs 3–4 dispatches per sweep whatever M is. Accepted swaps are counted
// per pair on the GPU; attempts are known on the CPU; both are read once.
import { BufferOwner, readBuffer, readFloat32, writeArray } from '../gpu/buffers';
import { getKernel, KERNELS, type KernelOf, type TileShape } from '../gpu/kernels';
import { DispatchPlan, type PlannedDispatch } from '../gpu/plan';
import { PT_KERNELS, PT_SWAP_WORKGROUP_SIZE } from '../gpu/pt-kernels';
import type { TileChoice } from '../gpu/tune';
import { uniform01 } from '../host/philox';
import { PT_NOISE_PHASE as NOISE_PHASE, PT_PHASE, PT_SEED_SALT } from '../host/rng-streams';
import type { ModelParams } from './params';
import { checkChainSizes, checkKeepingSizes, runKeeping, type SampleResult } from './sampler';
import type { SizeFactor } from '../gpu/buffers';
import { resolveTiles } from './trainer';
import { checkBinary, checkSize } from './validate';
import { UNIT_NAMES, UNITS, unitType } from '../units';
import { SubmitRunner } from '../gpu/runner';
import { checkTargetAcceptance, DEFAULT_TARGET_ACCEPTANCE, geometricBetas, retuneBetas, type RetuneOptions } from './ladder';

/** Replicas when neither `replicas` nor `betas` is given. */
export const DEFAULT_REPLICAS = 10;
/**
 * The hottest β of the default ladder. At β = 0 the tempered model is the
 * uniform distribution over v: the top replica draws an independent fair-coin
 * state every sweep, so whichever mode a state belongs to, it can enter the
 * ladder at the top, with no tuning. (A Gaussian visible layer would need
 * β > 0, but tempering supports Bernoulli visible units only.)
 */
export const DEFAULT_BETA_MIN = 0;
/**
 * The hottest β of the default geometric ladder, the starting point of
 * adaptation (docs/pt-ladder.md: measured on 784-500 MNIST models, where an
 * evenly spaced ladder to β = 0 leaves its hottest pairs at ≈ 0 % acceptance).
 */
export const DEFAULT_GEOMETRIC_BETA_MIN = 0.2;
/** Burn-in sweeps that adapt the default ladder before sampling. */
export const DEFAULT_ADAPT_SWEEPS = 400;
/** Retunes of the ladder during those sweeps (one per window of sweeps / windows). */
export const DEFAULT_ADAPT_WINDOWS = 8;
/** Tempering's RNG streams differ from training's and plain sampling's for the same model seed (src/host/rng-streams.ts). */
export { PT_SEED_SALT };

/** The distribution a tempering ladder reaches at β = 0 (TemperingOptions.base). */
export type TemperingBase = 'uniform' | 'visible-bias';

export interface TemperingOptions {
  /** Chains per replica; the β = 1 replica's chains are the samples. */
  chains: number;
  /** Number of temperatures M ≥ 2 (default 10, or betas.length). */
  replicas?: number;
  /**
   * The inverse temperatures, β_0 = 1 first, non-increasing, each in [0, 1].
   * Default: M values evenly spaced from 1 down to `betaMin`.
   */
  betas?: ArrayLike<number>;
  /**
   * The last β of the ladder: default 0 for 'linear', DEFAULT_GEOMETRIC_BETA_MIN
   * for 'geometric'. Given without `ladder`, the ladder is 'linear' (as before
   * ladders were chosen).
   */
  betaMin?: number;
  /**
   * How the default ladder is spaced from 1 down to betaMin: 'geometric'
   * (equal ratios; the default when neither betas nor betaMin is given) or
   * 'linear' (evenly spaced; the only one that can end at β = 0).
   */
  ladder?: 'geometric' | 'linear';
  /**
   * Start from Bernoulli(1/2) noise (default), from [chains, V] binary states
   * (every replica starts there) or from [replicas · chains, V] states
   * (replica by replica).
   */
  init?: 'noise' | Float32Array;
  /** A round of swaps every this many sweeps (default 1); rounds alternate even and odd pairs. */
  swapEvery?: number;
  /**
   * Where the ladder leads as β → 0: 'uniform' (default; p_β ∝ e^{−β E}, β = 0
   * is fair coins) or 'visible-bias' (only W and c are tempered,
   * p_β ∝ e^{β (vᵀWh + cᵀh) + bᵀv}; β = 0 is v_i ~ σ(b_i), closer to the model,
   * so fewer replicas bridge it: docs/pt-ladder.md).
   */
  base?: TemperingBase;
  seed?: number;
  /** GEMM tile shapes of the two sweep passes: 'auto' (default, tuned per device and shape) or given. */
  tile?: 'auto' | TileShape | TileChoice;
}

/** Adapting the ladder during burn-in (see src/rbm/ladder.ts for the rule). */
export interface AdaptOptions extends RetuneOptions {
  /** Burn-in sweeps spent adapting, before the sampled ones (default 400). */
  sweeps?: number;
  /** Retunes in those sweeps: one after each window of sweeps / windows sweeps (default 8). */
  windows?: number;
}

/** What adaptation did: each window's ladder and the swaps it saw. */
export interface LadderAdaptation {
  /** The ladder before adaptation. */
  initialBetas: number[];
  /** Per window: the ladder it ran with and its swaps; the next window runs the retuned ladder. */
  windows: Array<{ betas: number[]; accepted: number[]; attempted: number[]; acceptance: number[] }>;
  /** The ladder after the last retune (float32 values, as the GPU uses it). */
  betas: number[];
  targetAcceptance: number;
  /** Burn-in sweeps run. */
  sweeps: number;
}

export interface TemperingSampleOptions extends TemperingOptions {
  /** Tempered sweeps to run (after the adaptation's burn-in, if any). */
  steps: number;
  /**
   * Adapt the ladder to a target swap acceptance during extra burn-in sweeps
   * before the `steps` sampled ones; the ladder is then fixed, so the samples
   * come from a fixed Markov chain. Default: on when the ladder is left to
   * the library (no betas, betaMin or ladder given), off otherwise.
   */
  adapt?: boolean | AdaptOptions;
  /** Keep the β = 1 replica's state every this many sweeps (default: only the last). */
  keepEvery?: number;
  /** Sweeps per command buffer (default 50). */
  stepsPerSubmit?: number;
}

export interface SwapStats {
  /** Accepted and attempted swaps of each neighbouring pair (m, m+1), m = 0 … M−2. */
  accepted: number[];
  attempted: number[];
  /** accepted / attempted per pair (NaN for a pair never tried). */
  acceptance: number[];
}

export interface TemperingResult extends SampleResult {
  /** The ladder as the GPU uses it (float32 values). */
  betas: number[];
  /** Swap acceptance rate of each pair (m, m+1), m = 0 … M−2. */
  swapAcceptance: number[];
  swaps: SwapStats;
  /** The burn-in adaptation, when the ladder was adapted. */
  adaptation?: LadderAdaptation;
}

/** M inverse temperatures evenly spaced from 1 down to betaMin. */
export function linearBetas(replicas: number, betaMin = DEFAULT_BETA_MIN): number[] {
  if (!Number.isInteger(replicas) || replicas < 2) throw new RangeError(`replicas must be an integer ≥ 2, got ${replicas}`);
  checkBeta('betaMin', betaMin);
  return Array.from({ length: replicas }, (_, m) => (m === replicas - 1 ? betaMin : 1 - ((1 - betaMin) * m) / (replicas - 1)));
}

function checkBeta(name: string, b: number): void {
  if (typeof b !== 'number' || !Number.isFinite(b) || b < 0 || b > 1) {
    throw new RangeError(`${name} must be a number in [0, 1], got ${b}`);
  }
}

/**
 * Resolves replicas / betas / betaMin / ladder to a checked ladder. With none
 * of betas, betaMin and ladder given, the ladder is `fallback` (TemperedChains
 * and parallelTempering: geometric; PT training keeps its evenly spaced one,
 * so checkpoints of earlier runs resume with the ladder they were trained on).
 */
export function resolveBetas(
  o: Pick<TemperingOptions, 'replicas' | 'betas' | 'betaMin' | 'ladder'>, fallback: 'geometric' | 'linear' = 'geometric',
): number[] {
  if (o.betas === undefined) {
    const M = o.replicas ?? DEFAULT_REPLICAS;
    if (o.ladder !== undefined && o.ladder !== 'geometric' && o.ladder !== 'linear') {
      throw new RangeError(`ladder must be 'geometric' or 'linear', got ${String(o.ladder)}`);
    }
    const kind = o.ladder ?? (o.betaMin !== undefined ? 'linear' : fallback);
    if (kind === 'linear') return linearBetas(M, o.betaMin ?? DEFAULT_BETA_MIN);
    if (o.betaMin !== undefined) checkBeta('betaMin', o.betaMin);
    return geometricBetas(M, o.betaMin ?? DEFAULT_GEOMETRIC_BETA_MIN);
  }
  if (o.ladder !== undefined) throw new RangeError('give either betas or ladder, not both');
  const betas = Array.from(o.betas);
  if (betas.length < 2) throw new RangeError(`betas must hold at least 2 inverse temperatures, got ${betas.length}`);
  if (o.replicas !== undefined && o.replicas !== betas.length) {
    throw new RangeError(`replicas (${o.replicas}) and betas.length (${betas.length}) disagree`);
  }
  if (o.betaMin !== undefined) throw new RangeError('give either betas or betaMin, not both');
  betas.forEach((b, m) => checkBeta(`betas[${m}]`, b));
  if (betas[0] !== 1) throw new RangeError(`betas[0] must be 1 (the model itself), got ${betas[0]}`);
  for (let m = 1; m < betas.length; m++) {
    if (betas[m] > betas[m - 1]) {
      throw new RangeError(`betas must not increase: betas[${m}] = ${betas[m]} > betas[${m - 1}] = ${betas[m - 1]}`);
    }
  }
  return betas;
}

function checkBase(base: TemperingBase | undefined): TemperingBase {
  if (base === undefined) return 'uniform';
  if (base !== 'uniform' && base !== 'visible-bias') throw new RangeError(`base must be 'uniform' or 'visible-bias', got ${String(base)}`);
  return base;
}

/** Pairs (m, m+1) with m ≡ parity (mod 2) among M replicas. */
export function swapPairs(replicas: number, parity: number): number {
  return parity === 0 ? Math.floor(replicas / 2) : Math.floor((replicas - 1) / 2);
}

/** n chains at each of M temperatures, persistent until disposed. */
export class TemperedChains {
  /** Visible states [M · chains, V], stacked by replica: rows [0, chains) are β = 1. */
  readonly vis: GPUBuffer;
  readonly visProb: GPUBuffer;
  readonly replicas: number;
  private ladder: number[];
  private readonly betaBuffer: GPUBuffer;
  private readonly owner: BufferOwner;
  private readonly acceptedBuffer: GPUBuffer;
  /** counter[0]: the sweep step keying the RNG (advanced on the GPU, equal to `steps`). */
  private readonly counter: GPUBuffer;
  // One sweep records hidden, [swap of this round's parity], visible, advance.
  private readonly hidden: PlannedDispatch;
  private readonly visible: PlannedDispatch;
  private readonly swap: Array<PlannedDispatch | undefined>;
  private readonly advance: PlannedDispatch;
  private readonly attempted: number[];
  /** Sweeps run so far. */
  steps = 0;
  /** Swap rounds run so far (round r tries pairs m ≡ r mod 2). */
  swapRounds = 0;

  private constructor(
    readonly model: ModelParams,
    readonly chains: number,
    betas: Float32Array,
    readonly swapEvery: number,
    readonly seed: number,
    readonly base: TemperingBase,
    init: Float32Array,
    k: {
      hidden: KernelOf<typeof PT_KERNELS.hidden>;
      visible: KernelOf<typeof PT_KERNELS.visible>;
      swap: KernelOf<typeof PT_KERNELS.swap>;
      advance: KernelOf<typeof KERNELS.advance>;
    },
  ) {
    const V = model.visible;
    const H = model.hidden;
    const n = chains;
    const M = betas.length;
    const R = M * n;
    this.replicas = M;
    this.ladder = Array.from(betas);
    this.attempted = new Array<number>(M - 1).fill(0);
    const device = model.device;
    const owner = new BufferOwner(device, `tempered chains ${M}×${n}`);
    this.owner = owner;
    try {
      const betaBuf = owner.storage('betas', betas);
      this.betaBuffer = betaBuf;
      this.vis = owner.storage('vis', init);
      this.visProb = owner.storage('vis_prob', init);
      const x = owner.storage('x', R * H * 4);
      const hid = owner.storage('hid', R * H * 4);
      const counter = owner.storage('counter', new Uint32Array(4));
      this.counter = counter;
      this.acceptedBuffer = owner.storage('accepted swaps', new Uint32Array(M - 1));
      const hDims = owner.uniform(
        'pt hidden dims',
        k.hidden.pack('dims', { rows: R, chains: n, n_in: V, n_out: H, seed, phase: PT_PHASE.hidden }),
      );
      const vDims = owner.uniform(
        'pt visible dims',
        k.visible.pack('dims', { rows: R, chains: n, n_in: H, n_out: V, seed, phase: PT_PHASE.visible }),
      );
      // tempered_visible's base-rate biases: zero, so replica r samples σ(β_r (hWᵀ + b)),
      // or the model's own b (read live, as training changes it), so it samples σ(β_r hWᵀ + b).
      const bBase = base === 'visible-bias' ? model.b : owner.storage('zero base biases', V * 4);
      // Both GEMM passes run over all M·n stacked rows.
      const plan = new DispatchPlan(device, { hint: 'lower chains or replicas' });
      this.hidden = plan.add(
        k.hidden,
        { dims: hDims, counter, betas: betaBuf, vis: this.vis, W: model.W, c: model.c, x_out: x, hid },
        { rows: R, cols: H },
      );
      this.visible = plan.add(
        k.visible,
        { dims: vDims, counter, betas: betaBuf, hid, W: model.W, b: model.b, b_base: bBase, vis_prob: this.visProb, vis: this.vis },
        { rows: R, cols: V },
      );
      this.swap = [0, 1].map((parity) => {
        const pairs = swapPairs(M, parity);
        if (pairs === 0) return undefined;
        const dims = owner.uniform(
          `pt swap dims ${parity}`,
          k.swap.pack('dims', {
            chains: n, n_vis: V, n_hid: H, parity, pairs, seed,
            decide_phase: PT_PHASE.swapDecide, resample_phase: PT_PHASE.swapResample,
          }),
        );
        return plan.add(
          k.swap,
          { dims, counter, betas: betaBuf, b: model.b, x, vis: this.vis, hid, accepted: this.acceptedBuffer, b_base: bBase },
          { elements: pairs * n, workgroupSize: PT_SWAP_WORKGROUP_SIZE },
        );
      });
      this.advance = plan.add(k.advance, { counter }, { groups: [1] });
    } catch (e) {
      owner.dispose();
      throw e;
    }
  }

  static async create(model: ModelParams, o: TemperingOptions): Promise<TemperedChains> {
    model.assertLive();
    const unit = unitType(model.visibleType);
    if (!unit.tempering.supported) {
      const supported = UNIT_NAMES.filter((name) => UNITS[name].tempering.supported).map((name) => UNITS[name].label);
      throw new RangeError(`parallel tempering supports ${supported.join(', ')} visible units only: ${unit.tempering.reason}`);
    }
    checkSize('chains', o.chains);
    const swapEvery = o.swapEvery ?? 1;
    checkSize('swapEvery', swapEvery);
    const base = checkBase(o.base);
    const betas = Float32Array.from(resolveBetas(o));
    const M = betas.length;
    const V = model.visible;
    const n = o.chains;
    // Every size before any allocation or random number: M·n rows of V and H values.
    checkChainSizes(model, replicaRows(o, M), 'parallel tempering');
    const seed = (o.seed ?? (model.seed ^ PT_SEED_SALT)) >>> 0;
    // Both passes are GEMMs over all M·n rows.
    const tiles = await resolveTiles(model.device, o.tile ?? 'auto', { visible: V, hidden: model.hidden, batch: M * n });
    const [hidden, visible, swap, advance] = await Promise.all([
      getKernel(model.device, PT_KERNELS.hidden(tiles.hidden)),
      getKernel(model.device, PT_KERNELS.visible(tiles.visible, unit.wgsl)),
      getKernel(model.device, PT_KERNELS.swap()),
      getKernel(model.device, KERNELS.advance()),
    ]);
    let init: Float32Array;
    if (o.init === undefined || o.init === 'noise') {
      init = new Float32Array(M * n * V);
      for (let e = 0; e < init.length; e++) init[e] = uniform01(seed, 0, e, NOISE_PHASE) < 0.5 ? 1 : 0;
    } else {
      init = expandStates('init', o.init, M, n, V);
    }
    return new TemperedChains(model, n, betas, swapEvery, seed, base, init, { hidden, visible, swap, advance });
  }

  /** The ladder as the GPU uses it (float32 values); setBetas changes it. */
  get betas(): readonly number[] {
    return this.ladder;
  }

  /**
   * Replaces the ladder (same length, β_0 = 1, non-increasing, in [0, 1]);
   * sweeps encoded from now on use it. The states stay: they are a burn-in
   * start for the new temperatures.
   */
  setBetas(betas: ArrayLike<number>): void {
    this.assertLive();
    const checked = resolveBetas({ betas });
    if (checked.length !== this.replicas) throw new RangeError(`setBetas needs ${this.replicas} betas (the replicas), got ${checked.length}`);
    const f32 = Float32Array.from(checked);
    writeArray(this.model.device, this.betaBuffer, 0, f32);
    this.ladder = Array.from(f32);
  }

  /**
   * Adapts the ladder during `sweeps` burn-in sweeps: after each window the
   * window's swap counts (read back from the GPU) retune the βs toward the
   * target acceptance (retuneBetas). Deterministic: the counts are a function
   * of the seed. The swap counters are zeroed at the end.
   */
  async adapt(o: AdaptOptions = {}, stepsPerSubmit = 50): Promise<LadderAdaptation> {
    this.assertLive();
    const sweeps = o.sweeps ?? DEFAULT_ADAPT_SWEEPS;
    const windows = o.windows ?? DEFAULT_ADAPT_WINDOWS;
    checkSize('adapt.sweeps', sweeps);
    checkSize('adapt.windows', windows);
    const target = o.targetAcceptance ?? DEFAULT_TARGET_ACCEPTANCE;
    checkTargetAcceptance('targetAcceptance', target);
    const per = Math.floor(sweeps / windows);
    // Each window must try every pair: two swap rounds (an even and an odd one).
    if (per < 2 * this.swapEvery) {
      throw new RangeError(
        `adaptation windows of ${per} sweeps (sweeps ${sweeps} / windows ${windows}) hold fewer than 2 swap rounds of every ${this.swapEvery} sweeps; ` +
          `raise adapt sweeps to at least ${2 * this.swapEvery * windows} or lower windows`,
      );
    }
    const initialBetas = [...this.ladder];
    const log: LadderAdaptation['windows'] = [];
    this.resetSwapStats();
    let done = 0;
    for (let w = 0; w < windows; w++) {
      // The last window takes the remainder, so exactly `sweeps` sweeps run.
      const n = w === windows - 1 ? sweeps - done : per;
      await new SubmitRunner(this.model.device).run({
        total: n,
        chunk: () => stepsPerSubmit,
        label: 'ladder adaptation',
        encode: (encoder, _first, k) => this.encode(encoder, k),
      });
      done += n;
      const s = await this.swapStats();
      log.push({ betas: [...this.ladder], accepted: s.accepted, attempted: s.attempted, acceptance: s.acceptance });
      this.setBetas(retuneBetas(this.ladder, s.accepted, s.attempted, { ...o, targetAcceptance: target }));
      this.resetSwapStats();
    }
    return { initialBetas, windows: log, betas: [...this.ladder], targetAcceptance: target, sweeps };
  }

  /** Encodes `count` tempered sweeps (with their swap rounds) in one compute pass. */
  encode(encoder: GPUCommandEncoder, count: number): void {
    this.assertLive();
    const pass = encoder.beginComputePass({ label: 'tempered sweeps' });
    for (let s = 0; s < count; s++) {
      this.hidden.encode(pass);
      if ((this.steps + 1) % this.swapEvery === 0) {
        const parity = this.swapRounds % 2;
        const d = this.swap[parity];
        if (d) {
          d.encode(pass);
          for (let m = parity; m + 1 < this.replicas; m += 2) this.attempted[m] += this.chains;
        }
        this.swapRounds++;
      }
      this.visible.encode(pass);
      this.advance.encode(pass);
      this.steps++;
    }
    pass.end();
  }

  /** Runs `steps` sweeps, keeping the β = 1 states every `keepEvery` sweeps; one readback at the end. */
  async run(steps: number, keepEvery = steps, stepsPerSubmit = 50): Promise<TemperingResult> {
    this.assertLive();
    // Replica 0 (β = 1) is rows [0, chains): the first rows of the stacked buffers.
    const r = await runKeeping(this, steps, keepEvery, stepsPerSubmit, 'parallel tempering');
    const swaps = await this.swapStats();
    return { ...r, betas: [...this.betas], swapAcceptance: swaps.acceptance, swaps };
  }

  /** Accepted / attempted swaps per pair since creation or the last resetSwapStats() (one small readback). */
  async swapStats(): Promise<SwapStats> {
    this.assertLive();
    const M = this.replicas;
    // Attempts as encoded now, which is what the GPU counts will include when the copy runs.
    const attempted = [...this.attempted];
    const accepted = Array.from(new Uint32Array(await readBuffer(this.model.device, this.acceptedBuffer, (M - 1) * 4)));
    return { accepted, attempted, acceptance: accepted.map((a, m) => (attempted[m] > 0 ? a / attempted[m] : NaN)) };
  }

  /** Zeroes the swap counters (accepted counts are u32 on the GPU: reset before 2^32 attempts per pair). */
  resetSwapStats(): void {
    this.assertLive();
    writeArray(this.model.device, this.acceptedBuffer, 0, new Uint32Array(this.replicas - 1));
    this.attempted.fill(0);
  }

  /** Sets the states: [chains, V] binary rows for every replica, or [replicas · chains, V] replica by replica. */
  setStates(states: Float32Array): void {
    this.assertLive();
    const V = this.model.visible;
    const all = expandStates('states', states, this.replicas, this.chains, V);
    writeArray(this.model.device, this.vis, 0, all);
    writeArray(this.model.device, this.visProb, 0, all);
  }

  /**
   * Everything the chains carry from one sweep to the next, for a checkpoint:
   * every replica's states [replicas · chains, V], the sweeps run (the RNG
   * position) and the swap rounds run (which pairs the next round tries).
   * Read after every sweep submitted so far.
   */
  async readState(): Promise<TemperingState> {
    return { states: await this.readAll(), steps: this.steps, swapRounds: this.swapRounds };
  }

  /** Puts a readState() back: states, RNG position and swap parity continue where they were. */
  restoreState(state: TemperingState): void {
    this.assertLive();
    for (const key of ['steps', 'swapRounds'] as const) {
      const x = state?.[key];
      if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError(`tempering state ${key} must be an integer in [0, 2^32), got ${x}`);
    }
    const all = this.replicas * this.chains * this.model.visible;
    if (!(state.states instanceof Float32Array) || state.states.length !== all) {
      throw new RangeError(
        `tempering state states must be a Float32Array of replicas × chains × visible = ${this.replicas} × ${this.chains} × ${this.model.visible} = ${all} values, got ${state.states?.length}`,
      );
    }
    this.setStates(state.states);
    writeArray(this.model.device, this.counter, 0, new Uint32Array([state.steps]));
    this.steps = state.steps;
    this.swapRounds = state.swapRounds;
  }

  /** One replica's current binary states, [chains, V] (replica 0 is β = 1). */
  read(replica = 0): Promise<Float32Array> {
    this.assertLive();
    if (!Number.isInteger(replica) || replica < 0 || replica >= this.replicas) {
      throw new RangeError(`replica must be an integer in [0, ${this.replicas}), got ${replica}`);
    }
    const count = this.chains * this.model.visible;
    return readFloat32(this.model.device, this.vis, count, replica * count);
  }

  /** Every replica's states, [replicas, chains, V]. */
  readAll(): Promise<Float32Array> {
    this.assertLive();
    return readFloat32(this.model.device, this.vis, this.replicas * this.chains * this.model.visible);
  }

  private assertLive(): void {
    this.owner.assertLive();
    this.model.assertLive();
  }

  get isDisposed(): boolean {
    return this.owner.isDisposed;
  }

  dispose(): void {
    this.owner.dispose();
  }
}

/** TemperedChains.readState(): what a resumed run needs to continue the same chains. */
export interface TemperingState {
  /** [replicas · chains, V], replica by replica (β = 1 first). */
  states: Float32Array;
  /** Sweeps run: the RNG step. */
  steps: number;
  /** Swap rounds run. */
  swapRounds: number;
}

/** The factors of the M·n stacked rows, each named by the option that sets it. */
function replicaRows(o: TemperingOptions, M: number): SizeFactor[] {
  return [
    { value: o.chains, option: 'chains' },
    { value: M, option: o.betas !== undefined ? 'betas' : 'replicas' },
  ];
}

/** [n, V] broadcast to every replica, or [M·n, V] as is; binary either way. */
function expandStates(name: string, a: Float32Array, M: number, n: number, V: number): Float32Array {
  if (!(a instanceof Float32Array) || (a.length !== n * V && a.length !== M * n * V)) {
    throw new RangeError(
      `${name} must be a Float32Array of chains × visible = ${n} × ${V} = ${n * V} values ` +
        `or replicas × chains × visible = ${M * n * V}, got ${a?.length}`,
    );
  }
  checkBinary(name, a, V);
  if (a.length === M * n * V) return a;
  const out = new Float32Array(M * n * V);
  for (let m = 0; m < M; m++) out.set(a, m * n * V);
  return out;
}

/** The adaptation parallelTempering runs, or undefined; checked before anything is allocated. */
function resolveAdapt(o: TemperingSampleOptions): AdaptOptions | undefined {
  const a = o.adapt ?? (o.betas === undefined && o.betaMin === undefined && o.ladder === undefined);
  if (a === false) return undefined;
  if (a !== true && (a === null || typeof a !== 'object')) throw new RangeError(`adapt must be true, false or an options object, got ${String(a)}`);
  const opts: AdaptOptions = a === true ? {} : a;
  if (opts.sweeps !== undefined) checkSize('adapt.sweeps', opts.sweeps);
  if (opts.windows !== undefined) checkSize('adapt.windows', opts.windows);
  if (opts.targetAcceptance !== undefined) checkTargetAcceptance('adapt.targetAcceptance', opts.targetAcceptance);
  const floor = opts.betaFloor;
  if (floor !== undefined && !(typeof floor === 'number' && floor >= 0 && floor < 1)) throw new RangeError(`adapt.betaFloor must be a number in [0, 1), got ${floor}`);
  const betas = resolveBetas(o);
  for (let m = 1; m < betas.length; m++) {
    if (!(betas[m] < betas[m - 1])) throw new RangeError(`adapting the ladder needs strictly decreasing betas; betas[${m}] = ${betas[m]} after ${betas[m - 1]}`);
  }
  if (floor !== undefined && betas[betas.length - 1] < floor) {
    throw new RangeError(`the ladder's hottest β ${betas[betas.length - 1]} is below adapt.betaFloor ${floor}; raise betaMin or lower betaFloor`);
  }
  return opts;
}

/**
 * Samples `model` by parallel tempering: fresh chains at M temperatures,
 * `steps` sweeps with swap rounds, the β = 1 replica's states kept.
 */
export async function parallelTempering(model: ModelParams, o: TemperingSampleOptions): Promise<TemperingResult> {
  model.assertLive();
  checkSize('chains', o.chains);
  checkSize('steps', o.steps);
  if (o.keepEvery !== undefined) checkSize('keepEvery', o.keepEvery);
  // Every size up front, before the chains draw their noise.
  checkChainSizes(model, replicaRows(o, resolveBetas(o).length), 'parallel tempering');
  checkKeepingSizes(model, o.chains, o.steps, o.keepEvery ?? o.steps);
  const adapt = resolveAdapt(o);
  const chains = await TemperedChains.create(model, o);
  try {
    const adaptation = adapt ? await chains.adapt(adapt, o.stepsPerSubmit) : undefined;
    const r = await chains.run(o.steps, o.keepEvery ?? o.steps, o.stepsPerSubmit);
    return adaptation ? { ...r, adaptation } : r;
  } finally {
    chains.dispose();
  }
}
