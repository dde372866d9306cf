// Annealed importance sampling on the GPU (Salakhutdinov & Murray 2008): R
// runs in parallel, one row each. The math, schedule and estimate live in
// src/host/ais-math.ts; this file moves the chains on the GPU:
//   step 0:       tempered_visible at β_0 = 0 draws v ~ the base-rate model
//   step k ≥ 1:   tempered_hidden (x = vW + c, h ~ σ(β_k x)), ais_weight (log-weight
//                 increment from the same x), tempered_visible (v ~ p(v | h) at β_k)
//   every step:   advance (counter[0] = k, the β index and RNG step, on the GPU)
// Many steps go in one command buffer; only the R log-weights are read back.
// reverseAis runs the same kernels from given start states down a reversed schedule.
// The visible layer's unit type (src/units) supplies the base model (Bernoulli
// units: base rates σ(b_A); Gaussian ones: N(b_A, I); Potts ones: independent sites,
// softmax(b_A) each) and log Z_0, and its WGSL module is linked into the visible
// pass and the weight kernel. A Potts layer's group pass (softmax and one-hot draw
// per site at the step's β) follows every visible pass.
import { BufferOwner, checkHostFactors, checkStorageFactors, readFloat32, type SizeFactor } from '../gpu/buffers';
import { getKernel, KERNELS, VISIBLE_FLAGS, type TileShape } from '../gpu/kernels';
import { DispatchPlan } from '../gpu/plan';
import { SubmitRunner } from '../gpu/runner';
import type { TileChoice } from '../gpu/tune';
import { EVAL_KERNELS } from '../gpu/eval-kernels';
import { AIS_HIDDEN_PHASE, AIS_VISIBLE_PHASE } from '../host/rng-streams';
import {
  aisEstimate,
  aisSchedule,
  checkSchedule,
  DEFAULT_AIS_RUNS,
  DEFAULT_AIS_STEPS,
  reverseAISEstimate,
  type AISEstimate,
} from '../host/ais-math';
import { visibleUnit } from '../units';
import { addGroupPass, groupKernel } from './potts-pass';
import type { ModelParams } from './params';
import { resolveTiles } from './trainer';
import { checkSize } from './validate';

export interface AISOptions {
  /**
   * Training data [n, V], for the base-rate model: smoothed marginals of
   * values in [0, 1]; for Gaussian visible units, the column means (the base
   * model is then N(means, I)).
   */
  data?: Float32Array;
  /** Or the base-rate marginals directly (each strictly inside (0, 1)); for Gaussian units, the means. */
  marginals?: ArrayLike<number>;
  /** α in (count + α) / (n + 2α) (default 1). */
  smoothing?: number;
  /** The number of β steps K (default 14,500, spaced like S&M), or an explicit schedule 0 = β_0 ≤ … ≤ β_K = 1. */
  betas?: number | ArrayLike<number>;
  /** Parallel runs R (default 100). */
  runs?: number;
  /** Seeds the runs' random numbers (default 1). */
  seed?: number;
  /** β steps per submitted command buffer (default 250). */
  stepsPerSubmit?: number;
  /** Called after each submitted block of steps has run (reverse AIS counts its burn-in sweeps as steps). */
  onProgress?: (stepsDone: number, steps: number) => void;
  /** GEMM tiles of the hidden and visible passes: 'auto' (default) tunes once per device, as the trainer does. */
  tile?: 'auto' | TileShape | TileChoice;
}

export interface AISResult extends AISEstimate {
  /** Final log-weight of each run (float64 sums of the GPU's float32 parts). */
  logWeights: Float64Array;
  runs: number;
  /** The number of β steps K. */
  betas: number;
  /** Wall-clock time of the sampling, in seconds. */
  seconds: number;
}

/** Estimates log Z with R parallel AIS runs on the GPU; see AISOptions for the defaults. */
export async function ais(model: ModelParams, options: AISOptions): Promise<AISResult> {
  model.assertLive();
  const settings = common(options);
  checkAnnealSizes(model, settings.runs, scheduleFactors(options.betas), false);
  const bA = Float32Array.from(baseBiasesOf(options, model));
  const betas = scheduleOf(options.betas);
  const { logWeights, seconds } = await anneal(model, { ...settings, bA, betas });
  const K = betas.length - 1;
  const logZ0 = visibleUnit(model).baseLogZ(bA, model.hidden);
  return { ...aisEstimate(logWeights, logZ0), logWeights, runs: logWeights.length, betas: K, seconds };
}

export interface ReverseAISOptions extends AISOptions {
  /**
   * The runs' starting visible states: binary rows [n, V], cycled over the
   * runs (default: `data`). Ideally exact model samples; data rows plus
   * burn-in are the usual stand-in (Burda et al. 2015).
   */
  start?: Float32Array;
  /** Gibbs sweeps at β = 1 before annealing down (default 100). */
  burnIn?: number;
}

/**
 * Reverse AIS: the same chains run from the model (β = 1) to the base-rate
 * model (β = 0), giving log Z ≈ log Z_0 − logmeanexp(w). Started from exact
 * samples it over-estimates log Z on average, so together with forward AIS it
 * brackets log Z; from data rows it is a heuristic (conservative) check.
 * `betas` counts the annealing steps (the reversed forward schedule); the
 * burn-in sweeps come first.
 */
export async function reverseAis(model: ModelParams, options: ReverseAISOptions): Promise<AISResult> {
  model.assertLive();
  const V = model.visible;
  const unit = visibleUnit(model);
  const bA = Float32Array.from(baseBiasesOf(options, model));
  const startRows = options.start ?? options.data;
  if (startRows === undefined) {
    throw new RangeError('reverseAis: give the chains\' starting states (options.start, [n, V] rows) or options.data');
  }
  if (!(startRows instanceof Float32Array) || startRows.length === 0 || startRows.length % V !== 0) {
    throw new RangeError(`reverseAis: start states must be a Float32Array of rows × visible=${V} values, got ${startRows?.length}`);
  }
  unit.checkStates('reverseAis start states', startRows, V);
  const burnIn = options.burnIn ?? 100;
  if (!Number.isInteger(burnIn) || burnIn < 0) throw new RangeError(`burnIn must be a non-negative integer, got ${burnIn}`);
  const settings = common(options);
  checkAnnealSizes(model, settings.runs, [...scheduleFactors(options.betas), { value: burnIn, what: 'burn-in sweeps', option: 'burnIn' }], true);
  const forward = scheduleOf(options.betas);
  const K = forward.length - 1;
  // [1 × (burnIn + 1), β_{K−1}, …, β_0 = 0]: repeated βs add exactly 0 to the weights.
  const betas = new Float32Array(burnIn + K + 1);
  betas.fill(1, 0, burnIn + 1);
  for (let k = 1; k <= K; k++) betas[burnIn + k] = forward[K - k];
  const runs = settings.runs;
  const start = new Float32Array(runs * V);
  const n = startRows.length / V;
  for (let r = 0; r < runs; r++) start.set(startRows.subarray((r % n) * V, (r % n + 1) * V), r * V);
  const { logWeights, seconds } = await anneal(model, { ...settings, bA, betas, start });
  return { ...reverseAISEstimate(logWeights, unit.baseLogZ(bA, model.hidden)), logWeights, runs, betas: K, seconds };
}

interface Annealing {
  bA: Float32Array;
  /** β_0 … β_K as the GPU reads them. */
  betas: Float32Array;
  runs: number;
  seed: number;
  stepsPerSubmit: number;
  onProgress?: (stepsDone: number, steps: number) => void;
  tile: 'auto' | TileShape | TileChoice;
  /** First visible states [runs, V]; without them step 0 samples the base-rate model. */
  start?: Float32Array;
}

function common(o: AISOptions): Omit<Annealing, 'bA' | 'betas'> {
  const runs = o.runs ?? DEFAULT_AIS_RUNS;
  checkSize('runs', runs);
  const stepsPerSubmit = o.stepsPerSubmit ?? 250;
  checkSize('stepsPerSubmit', stepsPerSubmit);
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  }
  return { runs, seed, stepsPerSubmit, onProgress: o.onProgress, tile: o.tile ?? 'auto' };
}

/** Runs the chains through the schedule on the GPU; returns each run's log-weight. */
async function anneal(model: ModelParams, a: Annealing): Promise<{ logWeights: Float64Array; seconds: number }> {
  const { device, visible: V, hidden: H } = model;
  const { runs, seed, tile, betas, stepsPerSubmit } = a;
  const K = betas.length - 1;
  // The AIS passes have the shapes of the sampler's: runs play the batch.
  const tiles = await resolveTiles(device, tile, { visible: V, hidden: H, batch: runs });
  const unit = visibleUnit(model);
  const [hidden, visible, weight, advance, group] = await Promise.all([
    getKernel(device, EVAL_KERNELS.aisHidden(tiles.hidden)),
    getKernel(device, EVAL_KERNELS.aisVisible(tiles.visible, unit.wgsl)),
    getKernel(device, EVAL_KERNELS.aisWeight(unit.wgsl)),
    getKernel(device, KERNELS.advance()),
    groupKernel(device, unit),
  ]);
  const scratch = new BufferOwner(device, `AIS ${runs} runs × ${K} βs`);
  try {
    const betaBuf = scratch.storage('betas', betas);
    const bABuf = scratch.storage('base biases', a.bA);
    const vis = scratch.storage('vis', a.start ?? runs * V * 4);
    const hid = scratch.storage('hid', runs * H * 4);
    const x = scratch.storage('x', runs * H * 4);
    const logw = scratch.storage('log-weights', runs * 2 * 4);
    const counter = scratch.storage('counter', new Uint32Array(4));


    const hidDims = scratch.uniform(
      'hidden dims',
      hidden.pack('dims', { rows: runs, chains: 0, n_in: V, n_out: H, seed, phase: AIS_HIDDEN_PHASE }),
    );
    const visDims = scratch.uniform(
      'visible dims',
      visible.pack('dims', { rows: runs, chains: 0, n_in: H, n_out: V, seed, phase: AIS_VISIBLE_PHASE }),
    );
    const visProb = scratch.storage('vis_prob', runs * V * 4);
    const weightDims = scratch.uniform('weight dims', weight.pack('dims', { rows: runs, n_vis: V, n_hid: H }));
    // One β step k ≥ 1: hidden, weight, [visible], advance; step 0 only samples v (or not, from given states).
    const plan = new DispatchPlan(device, { hint: 'use fewer runs' });
    const hidStep = plan.add(
      hidden,
      { dims: hidDims, counter, betas: betaBuf, vis, W: model.W, c: model.c, x_out: x, hid },
      { rows: runs, cols: H },
    );
    const weightStep = plan.add(
      weight,
      { dims: weightDims, counter, betas: betaBuf, x, vis, b: model.b, b_base: bABuf, logw },
      { elements: runs, workgroupSize: 1 },
    );
    const visStep = plan.add(
      visible,
      { dims: visDims, counter, betas: betaBuf, hid, W: model.W, b: model.b, b_base: bABuf, vis_prob: visProb, vis },
      { rows: runs, cols: V },
    );
    const groupStep = addGroupPass(plan, group, unit, scratch, 'group dims', {
      rows: runs, rowOffset: 0, visible: V, phase: AIS_VISIBLE_PHASE, seed,
      flags: VISIBLE_FLAGS.WRITE_PROB | VISIBLE_FLAGS.WRITE_SAMPLE, counter, visProb, vis,
    });
    const advStep = plan.add(advance, { counter }, { groups: [1] });

    const start = performance.now();
    const runner = new SubmitRunner(device, {
      settled: ({ first, count }) => a.onProgress?.(first + count - 1, K),
    });
    await runner.run({
      total: K + 1,
      chunk: stepsPerSubmit,
      label: 'AIS',
      encode: (encoder, k0, count) => {
        model.assertLive();
        const pass = encoder.beginComputePass({ label: `AIS steps ${k0}…` });
        for (let k = k0; k < k0 + count; k++) {
          if (k > 0) {
            hidStep.encode(pass);
            weightStep.encode(pass);
          }
          // Step 0 samples the base-rate model (β_0 = 0) unless the runs were given their start.
          if (k < K && (k > 0 || !a.start)) {
            visStep.encode(pass);
            groupStep?.encode(pass);
          }
          advStep.encode(pass);
        }
        pass.end();
      },
    });
    const parts = await readFloat32(device, logw, runs * 2);
    const seconds = (performance.now() - start) / 1000;
    const logWeights = new Float64Array(runs);
    for (let r = 0; r < runs; r++) logWeights[r] = parts[2 * r] + parts[2 * r + 1];
    return { logWeights, seconds };
  } finally {
    scratch.dispose();
  }
}

/** The schedule's length as size factors: K + 1 βs (the default or a count), or the given array's length. */
function scheduleFactors(betas: AISOptions['betas']): SizeFactor[] {
  const given = betas === undefined ? DEFAULT_AIS_STEPS : typeof betas === 'number' ? betas : betas.length;
  const count = typeof betas === 'object' ? given : given + 1;
  // A count that is not a positive integer is reported by the schedule's own check.
  return Number.isSafeInteger(count) && count > 0 ? [{ value: count, option: 'betas', given }] : [];
}

/**
 * Every buffer and array annealing allocates, checked before any is: runs × V
 * and runs × H values per GPU buffer, the β schedule on the GPU and (float64)
 * on the host, and the start states of reverse AIS.
 */
function checkAnnealSizes(model: ModelParams, runs: number, schedule: SizeFactor[], reverse: boolean): void {
  const { device, visible: V, hidden: H } = model;
  const r: SizeFactor = { value: runs, option: 'runs' };
  checkStorageFactors(device, 'AIS visible states', [r, { value: V, what: 'visible units' }]);
  checkStorageFactors(device, 'AIS hidden states', [r, { value: H, what: 'hidden units' }]);
  checkHostFactors('AIS log-weights', [r, { value: 2, what: 'values' }], 8);
  if (reverse) checkHostFactors('reverse AIS start states', [r, { value: V, what: 'visible units' }]);
  if (schedule.length > 0) {
    const steps = schedule.reduce((sum, f) => sum + f.value, 0);
    const named: SizeFactor = schedule.length === 1 ? schedule[0] : { value: steps, what: 'βs and burn-in sweeps', option: 'betas' };
    checkStorageFactors(device, 'AIS schedule', [named]);
    checkHostFactors('AIS schedule', [named], 8);
  }
}

/** The base-rate model's visible biases (Gaussian: means) from `data` or `marginals` (exactly one), as the unit type makes them. */
function baseBiasesOf(o: AISOptions, model: ModelParams): Float64Array {
  const V = model.visible;
  const unit = visibleUnit(model);
  if (o.data !== undefined && o.marginals !== undefined) {
    throw new RangeError('ais: give either data or marginals for the base-rate model, not both');
  }
  if (o.data !== undefined) return unit.baseBiases(o.data, V, o.smoothing ?? 1);
  if (o.marginals !== undefined) return unit.baseBiasesFromMeans(o.marginals, V);
  throw new RangeError(
    'ais: the base-rate model needs the training data (options.data) or its visible marginals (options.marginals)',
  );
}

/** The schedule as the float32 values the GPU uses, validated after rounding. */
function scheduleOf(betas: number | ArrayLike<number> | undefined): Float32Array {
  if (betas === undefined || typeof betas === 'number') {
    return Float32Array.from(aisSchedule(betas ?? DEFAULT_AIS_STEPS));
  }
  checkSchedule(betas);
  const f32 = Float32Array.from(betas);
  checkSchedule(f32);
  return f32;
}
