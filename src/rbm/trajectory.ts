// Trajectory annealing (Béreux, Decelle, Furtlehner, Rosset & Seoane 2024,
// "Fast training and sampling of Restricted Boltzmann Machines"): AIS along
// the model's own training trajectory instead of a temperature path.
//
// The path is θ_0, θ_1, …, θ_T: θ_0 the base-rate model (W = 0, c = 0, b = b_A,
// log Z_0 exact, samples exact), θ_1 … θ_T the parameter snapshots saved
// during training (the first usually the initialisation, the last the model
// evaluated). Each segment θ_t → θ_{t+1} is cut into S linear steps,
// θ(s) = θ_t + s·(θ_{t+1} − θ_t), s = 1/S, …, 1. Every run starts from an
// exact base sample; at each step k
//   log w += F_{k−1}(v) − F_k(v)   (free energies with h summed out)
// then one Gibbs sweep under θ_k. E[e^w] = Z_T / Z_0, so
// log Z_T ≈ log Z_0 + logmeanexp(w), with the same band and ESS as
// temperature AIS (src/host/ais-math.ts). Why it works better on trained
// models: training moves the parameters slowly through the transitions where
// the distribution splits into modes, so neighbouring points stay close in
// distribution, while a temperature path from the base rate crosses them abruptly.
// reverseTrajectoryAis runs the reversed path from given (model) states:
// log Z_T ≈ log Z_0 − logmeanexp(w), an upper side when the starts are exact.
//
// On the GPU (no readback until the end): per step, trajectory_lerp writes the
// step's W, b, c from two snapshot slots into one of two parameter sets (the
// other holds the previous step's), tempered_hidden at β = 1 gives
// x = vW + c under both sets (and h under the new one), trajectory_weight adds
// the increment, and the visible pass samples v under the new set. Only the two
// snapshots of the current segment are on the GPU; the next is written between
// command buffers, which never span a segment boundary.
import { BufferOwner, checkHostFactors, checkStorageFactors, readFloat32, writeArray, type SizeFactor } from '../gpu/buffers';
import { getKernel, KERNELS, VISIBLE_FLAGS } from '../gpu/kernels';
import { DispatchPlan } from '../gpu/plan';
import { SubmitRunner } from '../gpu/runner';
import { TRAJECTORY_KERNELS, TRAJECTORY_LERP_WORKGROUP_SIZE } from '../gpu/trajectory-kernels';
import { chooseTiles } from '../gpu/tune';
import { aisEstimate, DEFAULT_AIS_RUNS, reverseAISEstimate, type AISEstimate } from '../host/ais-math';
import { AIS_HIDDEN_PHASE, AIS_VISIBLE_PHASE, TRAJECTORY_PILOT_SEED_SALT } from '../host/rng-streams';
import { unitType, type UnitType } from '../units';
import type { VisibleType } from './model-file';
import type { RBMParamsF32 } from './params';
import { checkEnum, checkFiniteArray, checkSeed, checkSize, showValue } from './validate';

/** Linear steps per segment between two snapshots (default of `stepsBetween`). */
export const DEFAULT_TRAJECTORY_STEPS_BETWEEN = 20;
/** A recorder's slot whose read has not finished. */
const EMPTY: RBMParamsF32 = { W: new Float32Array(0), b: new Float32Array(0), c: new Float32Array(0) };
/** The RNG step counter is a u32 (word 0 of the counter buffer). */
const MAX_TRAJECTORY_STEPS = 0xfffffffe;

/** A training trajectory to anneal along: the base-rate model's biases and the snapshots, in training order. */
export interface Trajectory {
  readonly visible: number;
  readonly hidden: number;
  /** 'bernoulli' (default) or 'gaussian'. */
  readonly visibleType?: VisibleType;
  /** b_A of the base-rate model θ_0 (W = 0, c = 0): Bernoulli logit marginals, Gaussian means. */
  readonly baseBiases: Float32Array;
  /** θ_1 … θ_T: the initial model first (ideally), the model to evaluate last. */
  readonly snapshots: readonly RBMParamsF32[];
}

/** The base-rate model of a trajectory: from training data or its visible marginals (one of them). */
export interface TrajectoryBase {
  /** Training data [n, V] (Bernoulli: values in [0, 1], smoothed marginals; Gaussian: column means). */
  data?: Float32Array;
  /** Or the marginals (Bernoulli: each inside (0, 1)) / means (Gaussian) directly. */
  marginals?: ArrayLike<number>;
  /** α in (count + α) / (n + 2α) (default 1). */
  smoothing?: number;
}

/** What a recorder needs of a model: its shape and its parameters (an RBM has these). */
export interface RecordableModel {
  readonly visible: number;
  readonly hidden: number;
  readonly visibleType: VisibleType;
  readonly visibleStates?: number;
  readParams(): Promise<RBMParamsF32>;
}

/**
 * Collects a training trajectory: call `record(model)` once before training
 * (the initialisation) and then as training goes, e.g.
 *   const rec = new TrajectoryRecorder(model, { data });
 *   await rec.record(model);
 *   await model.fit(data, { …, onEpoch: () => rec.record(model) });
 *   const est = await trajectoryAis(device, await rec.settled());
 * Finer is better: the path is only as smooth as its snapshots, and an epoch
 * of updates (with momentum) can move a model far. fit's onProgress (every
 * `updatesPerSubmit` updates) gives a snapshot per command buffer:
 *   onProgress: () => void rec.record(model)
 * Each record() takes its place in the list when called (the read is queued on
 * the GPU behind the updates already submitted), so snapshots stay in training
 * order even when their reads are not awaited; settled() awaits them all.
 * Snapshots live on the host (V·H + V + H floats each): thin them for big models.
 */
export class TrajectoryRecorder {
  readonly visible: number;
  readonly hidden: number;
  readonly visibleType: VisibleType;
  readonly baseBiases: Float32Array;
  private readonly list: RBMParamsF32[] = [];
  private readonly pending: Promise<unknown>[] = [];

  constructor(model: Pick<RecordableModel, 'visible' | 'hidden' | 'visibleType' | 'visibleStates'>, base: TrajectoryBase) {
    if (model === null || typeof model !== 'object') throw new RangeError(`TrajectoryRecorder needs a model (or { visible, hidden }), got ${showValue(model)}`);
    checkSize('visible', model.visible);
    checkSize('hidden', model.hidden);
    this.visible = model.visible;
    this.hidden = model.hidden;
    this.visibleType = model.visibleType ?? 'bernoulli';
    const unit = trajectoryUnit(this.visibleType);
    this.baseBiases = baseBiasesOf(base, this.visible, unit);
  }

  /** Reads the model's parameters now and appends them (await it before the next update; onEpoch does). */
  async record(model: RecordableModel): Promise<void> {
    if (model.visible !== this.visible || model.hidden !== this.hidden) {
      throw new RangeError(
        `TrajectoryRecorder: this recorder is for ${this.visible}x${this.hidden} models, the model is ${model.visible}x${model.hidden}; use one recorder per model`,
      );
    }
    // The slot is taken now, so a later call's snapshot never lands before this one.
    const index = this.list.length;
    this.list.push(EMPTY);
    const read = model.readParams().then((p) => {
      this.list[index] = checkSnapshot(p, index, this.visible, this.hidden);
    });
    this.pending.push(read.catch(() => undefined));
    await read;
  }

  /** The trajectory once every record() so far has its snapshot (a failed read rejects here too). */
  async settled(): Promise<Trajectory> {
    await Promise.all(this.pending);
    return this.trajectory;
  }

  /** Appends a copy of `params` (e.g. read from a checkpoint file). */
  add(params: RBMParamsF32): void {
    const p = checkSnapshot(params, this.list.length, this.visible, this.hidden);
    this.list.push({ W: p.W.slice(), b: p.b.slice(), c: p.c.slice() });
  }

  get length(): number {
    return this.list.length;
  }

  /**
   * The trajectory so far (the snapshots array is a copy of the list; the
   * snapshots themselves are shared). Throws while a record() is still reading
   * or after one failed: await settled() instead.
   */
  get trajectory(): Trajectory {
    const missing = this.list.indexOf(EMPTY);
    if (missing >= 0) {
      throw new RangeError(`TrajectoryRecorder: snapshot ${missing} has not been read (yet): await recorder.settled() for the trajectory`);
    }
    return {
      visible: this.visible, hidden: this.hidden, visibleType: this.visibleType,
      baseBiases: this.baseBiases, snapshots: this.list.slice(),
    };
  }
}

export interface TrajectoryAISOptions {
  /** Parallel runs R (default 100). */
  runs?: number;
  /**
   * S: linear steps between two neighbouring snapshots, base model → first
   * snapshot included (default 20): one count for every segment, or one per
   * segment (T counts for T snapshots). With `allocate: 'adaptive'` the same
   * total is shared out by a pilot run instead.
   */
  stepsBetween?: number | readonly number[];
  /**
   * 'even' (default): the steps as given. 'adaptive': a pilot run (pilotRuns
   * runs, a quarter of the steps) measures how far apart neighbouring snapshots
   * are — the spread over runs of each segment's log-weight increment — and the
   * total T·S steps go to the segments in proportion to it (at least one each):
   * training moves fast in some epochs and hardly at all in others.
   */
  allocate?: 'even' | 'adaptive';
  /** Runs of the adaptive pilot (default min(runs, 64)). */
  pilotRuns?: number;
  /** Seeds the runs' random numbers (default 1). */
  seed?: number;
  /** Steps per submitted command buffer at most (default 250; buffers also end at every snapshot). */
  stepsPerSubmit?: number;
  /** Called after each submitted block of steps has run (burn-in sweeps count as steps). */
  onProgress?: (stepsDone: number, steps: number) => void;
}

export interface ReverseTrajectoryAISOptions extends TrajectoryAISOptions {
  /**
   * The runs' starting visible states [n, V], cycled over the runs: ideally
   * exact samples of the last snapshot; data rows (or persistent chains) plus
   * burn-in are the usual stand-in.
   */
  start: Float32Array;
  /** Gibbs sweeps under the last snapshot before annealing down (default 100). */
  burnIn?: number;
}

export interface TrajectoryAISResult extends AISEstimate {
  /** The steps each segment got (base → snapshot 1 first): the given ones, or the adaptive allocation. */
  stepsPerSegment: number[];
  /** Final log-weight of each run (float64 sums of the GPU's float32 parts). */
  logWeights: Float64Array;
  runs: number;
  /** Annealing steps K = T·S (T snapshots, S steps between neighbours). */
  steps: number;
  /** Snapshots on the path (T, the base model not counted). */
  snapshots: number;
  /** Gibbs sweeps each run made (K − 1 forward; burn-in + K − 1 reverse): the cost next to temperature AIS's. */
  sweeps: number;
  /** Wall-clock time of the annealing, in seconds. */
  seconds: number;
}

export interface ForwardTrajectoryAISResult extends TrajectoryAISResult {
  /**
   * The estimate at every snapshot on the way (entry t − 1 for snapshot t; the
   * last is the result itself): each prefix of the path is an AIS path of its
   * own, so one run gives log Z along the whole training run.
   */
  perSnapshot: AISEstimate[];
  /** Seconds of the adaptive pilot run (0 without one), not in `seconds`. */
  pilotSeconds: number;
}

/**
 * log Z of the trajectory's last snapshot by forward AIS along the
 * trajectory (a stochastic lower bound: E[estimate] ≤ log Z by Jensen), with
 * the ±3 s.e. band and effective sample size of temperature AIS, and the
 * estimate at every snapshot on the way.
 */
export async function trajectoryAis(
  device: GPUDevice, trajectory: Trajectory, options: TrajectoryAISOptions = {},
): Promise<ForwardTrajectoryAISResult> {
  const t = checkTrajectory(trajectory);
  const s = settingsOf(options, t.snapshots.length);
  let counts = s.stepsBetween;
  let pilotSeconds = 0;
  if (s.allocate === 'adaptive') {
    const pilot = await adaptiveCounts(device, t, s);
    counts = pilot.counts;
    pilotSeconds = pilot.seconds;
  }
  const points = pathPoints(counts, false);
  const { logWeights, history, seconds } = await anneal(device, t, { ...s, points, burnIn: 0 });
  const perSnapshot = history.slice(1).map((w) => aisEstimate(w, t.logZ0));
  return {
    ...aisEstimate(logWeights, t.logZ0), logWeights, runs: s.runs, stepsPerSegment: counts, perSnapshot, pilotSeconds,
    steps: points.length - 1, snapshots: t.snapshots.length, sweeps: points.length - 2, seconds,
  };
}

/**
 * The adaptive allocation: a pilot with a quarter of the steps (at least 2 per
 * segment) on pilotRuns runs; segment t's length L_t = std over runs of its
 * log-weight increment × √(its pilot steps) (for small steps the increment's
 * variance is L_t² / S_t, so the total variance Σ L_t² / S_t is least with
 * S_t ∝ L_t); the total is shared out in proportion, at least 1 step each.
 */
async function adaptiveCounts(device: GPUDevice, t: CheckedTrajectory, s: Settings): Promise<{ counts: number[]; seconds: number }> {
  const T = t.snapshots.length;
  const total = s.stepsBetween.reduce((a, b) => a + b, 0);
  const pilotSteps = s.stepsBetween.map((n) => Math.max(2, Math.round(n / 4)));
  const runs = s.pilotRuns;
  const pilot = await anneal(device, t, { ...s, runs, seed: (s.seed ^ TRAJECTORY_PILOT_SEED_SALT) >>> 0, points: pathPoints(pilotSteps, false), burnIn: 0, onProgress: undefined });
  const lengths = new Float64Array(T);
  for (let seg = 0; seg < T; seg++) {
    const a = pilot.history[seg];
    const b = pilot.history[seg + 1];
    let mean = 0;
    for (let r = 0; r < runs; r++) mean += (b[r] - a[r]) / runs;
    let v = 0;
    for (let r = 0; r < runs; r++) v += (b[r] - a[r] - mean) ** 2;
    // A floor keeps a segment the pilot saw as flat from getting no weight at all.
    lengths[seg] = Math.sqrt(Math.max(v / Math.max(1, runs - 1), 1e-12) * pilotSteps[seg]);
  }
  const sum = lengths.reduce((x, y) => x + y, 0);
  const counts = Array.from(lengths, (L) => Math.max(1, Math.round((total * L) / sum)));
  return { counts, seconds: pilot.seconds };
}

/**
 * log Z of the trajectory's last snapshot by AIS down the reversed trajectory
 * from `start` states (after `burnIn` sweeps): log Z_0 − logmeanexp(w). From
 * exact samples a stochastic upper bound; together with trajectoryAis a bracket.
 */
export async function reverseTrajectoryAis(
  device: GPUDevice, trajectory: Trajectory, options: ReverseTrajectoryAISOptions,
): Promise<TrajectoryAISResult> {
  const t = checkTrajectory(trajectory);
  if (options === null || typeof options !== 'object') throw new RangeError(`reverseTrajectoryAis options must be an object, got ${showValue(options)}`);
  const s = settingsOf(options, t.snapshots.length);
  if (s.allocate === 'adaptive') {
    throw new RangeError("reverseTrajectoryAis takes the steps as given (allocate: 'even'); pass the forward run's stepsPerSegment as stepsBetween");
  }
  const V = t.visible;
  const rows = options.start;
  if (!(rows instanceof Float32Array) || rows.length === 0 || rows.length % V !== 0) {
    throw new RangeError(
      `reverseTrajectoryAis: start must be a Float32Array of rows × visible=${V} values (model samples or data rows), got ${rows instanceof Float32Array ? rows.length + ' values' : showValue(rows)}`,
    );
  }
  t.unit.checkStates('reverseTrajectoryAis start states', rows, V);
  const burnIn = options.burnIn ?? 100;
  if (!Number.isInteger(burnIn) || burnIn < 0) throw new RangeError(`burnIn must be a non-negative integer, got ${showValue(burnIn)}`);
  checkHostFactors('reverse trajectory AIS start states', [{ value: s.runs, option: 'runs' }, { value: V, what: 'visible units' }]);
  const start = new Float32Array(s.runs * V);
  const n = rows.length / V;
  for (let r = 0; r < s.runs; r++) start.set(rows.subarray((r % n) * V, (r % n + 1) * V), r * V);
  const points = pathPoints(s.stepsBetween, true);
  const { logWeights, seconds } = await anneal(device, t, { ...s, points, burnIn, start });
  return {
    ...reverseAISEstimate(logWeights, t.logZ0), logWeights, runs: s.runs, stepsPerSegment: s.stepsBetween,
    steps: points.length - 1, snapshots: t.snapshots.length, sweeps: burnIn + points.length - 2, seconds,
  };
}

/** log Z_0 of a trajectory's base-rate model (W = 0, c = 0, b = baseBiases): the start of every forward run. */
export function trajectoryBaseLogZ(trajectory: Trajectory): number {
  return checkTrajectory(trajectory).logZ0;
}

// ---- the path -------------------------------------------------------------

/** A point of the path: θ = θ_seg + s·(θ_{seg+1} − θ_seg), θ_0 the base model. */
interface PathPoint {
  seg: number;
  s: number;
}

/** p_0 … p_K, K = Σ S_t: forward from θ_0 (seg 0, s 0) to θ_T (seg T − 1, s 1); reverse the other way. */
function pathPoints(counts: readonly number[], reverse: boolean): PathPoint[] {
  const out: PathPoint[] = [{ seg: 0, s: 0 }];
  counts.forEach((S, t) => {
    for (let i = 1; i <= S; i++) out.push({ seg: t, s: Math.fround(i / S) });
  });
  // Reversed, each point keeps its segment: (t, 1) = θ_{t+1} is followed by (t, (S − 1)/S), … in the same segment.
  return reverse ? out.reverse() : out;
}

interface CheckedTrajectory {
  visible: number;
  hidden: number;
  unit: UnitType;
  baseBiases: Float32Array;
  snapshots: readonly RBMParamsF32[];
  logZ0: number;
}

function trajectoryUnit(visibleType: VisibleType): UnitType {
  if (visibleType !== 'bernoulli' && visibleType !== 'gaussian') {
    throw new RangeError(
      `trajectory annealing takes Bernoulli or Gaussian visible units, not ${showValue(visibleType)} (Potts layers need a group pass it does not run); use ais / reverseAis for this model`,
    );
  }
  return unitType(visibleType);
}

function checkSnapshot(p: RBMParamsF32, index: number, V: number, H: number): RBMParamsF32 {
  if (p === null || typeof p !== 'object') throw new RangeError(`trajectory snapshot ${index} must be { W, b, c } (Float32Arrays), got ${showValue(p)}`);
  const expect = (name: 'W' | 'b' | 'c', n: number, shape: string): void => {
    const a = p[name];
    if (!(a instanceof Float32Array) || a.length !== n) {
      throw new RangeError(
        `trajectory snapshot ${index}: ${name} must be a Float32Array of ${shape} = ${n} values, got ${a instanceof Float32Array ? a.length : showValue(a)}; every snapshot must come from the same ${V}x${H} model`,
      );
    }
    checkFiniteArray(`trajectory snapshot ${index} ${name} (a diverged epoch? drop it or stop the path before it)`, a);
  };
  expect('W', V * H, `visible × hidden = ${V} × ${H}`);
  expect('b', V, 'visible');
  expect('c', H, 'hidden');
  return p;
}

function checkTrajectory(t: Trajectory): CheckedTrajectory {
  if (t === null || typeof t !== 'object') throw new RangeError(`a trajectory must be { visible, hidden, baseBiases, snapshots }, got ${showValue(t)}`);
  checkSize('trajectory visible', t.visible);
  checkSize('trajectory hidden', t.hidden);
  const V = t.visible;
  const H = t.hidden;
  const unit = trajectoryUnit(t.visibleType ?? 'bernoulli');
  if (!(t.baseBiases instanceof Float32Array) || t.baseBiases.length !== V) {
    throw new RangeError(
      `trajectory baseBiases must be a Float32Array of visible=${V} values (TrajectoryRecorder makes them from the data), got ${t.baseBiases instanceof Float32Array ? t.baseBiases.length + ' values' : showValue(t.baseBiases)}`,
    );
  }
  checkFiniteArray('trajectory baseBiases', t.baseBiases);
  if (!Array.isArray(t.snapshots) || t.snapshots.length === 0) {
    throw new RangeError(
      'the trajectory has no snapshots: record at least the model to evaluate (recorder.record(model)), ideally its initialisation and every epoch too',
    );
  }
  t.snapshots.forEach((p, i) => checkSnapshot(p, i, V, H));
  return { visible: V, hidden: H, unit, baseBiases: t.baseBiases, snapshots: t.snapshots, logZ0: unit.baseLogZ(t.baseBiases, H) };
}

function baseBiasesOf(o: TrajectoryBase, V: number, unit: UnitType): Float32Array {
  if (o === null || typeof o !== 'object') throw new RangeError(`the base model needs { data } or { marginals }, got ${showValue(o)}`);
  if (o.data !== undefined && o.marginals !== undefined) throw new RangeError('give either data or marginals for the base-rate model, not both');
  if (o.data !== undefined) return Float32Array.from(unit.baseBiases(o.data, V, o.smoothing ?? 1));
  if (o.marginals !== undefined) return Float32Array.from(unit.baseBiasesFromMeans(o.marginals, V));
  throw new RangeError('the base-rate model needs the training data (data) or its visible marginals (marginals)');
}

interface Settings {
  runs: number;
  /** Steps per segment, one count per snapshot. */
  stepsBetween: number[];
  allocate: 'even' | 'adaptive';
  pilotRuns: number;
  seed: number;
  stepsPerSubmit: number;
  onProgress?: (stepsDone: number, steps: number) => void;
}

function settingsOf(o: TrajectoryAISOptions, T: number): Settings {
  if (o === null || typeof o !== 'object') throw new RangeError(`trajectory AIS options must be an object, got ${showValue(o)}`);
  const runs = o.runs ?? DEFAULT_AIS_RUNS;
  checkSize('runs', runs);
  const given = o.stepsBetween ?? DEFAULT_TRAJECTORY_STEPS_BETWEEN;
  let stepsBetween: number[];
  if (typeof given === 'number') {
    checkSize('stepsBetween', given);
    stepsBetween = new Array<number>(T).fill(given);
  } else {
    if (!Array.isArray(given) || given.length !== T) {
      throw new RangeError(
        `stepsBetween must be one count or one per segment (${T} for ${T} snapshots, base → snapshot 1 first), got ${Array.isArray(given) ? given.length + ' counts' : showValue(given)}`,
      );
    }
    given.forEach((n, i) => checkSize(`stepsBetween[${i}]`, n));
    stepsBetween = [...given];
  }
  const allocate = o.allocate ?? 'even';
  checkEnum('allocate', allocate, ['even', 'adaptive'] as const);
  const pilotRuns = o.pilotRuns ?? Math.min(runs, 64);
  checkSize('pilotRuns', pilotRuns);
  if (allocate === 'adaptive' && pilotRuns < 2) throw new RangeError(`pilotRuns must be at least 2 (the pilot measures a spread over runs), got ${pilotRuns}`);
  const stepsPerSubmit = o.stepsPerSubmit ?? 250;
  checkSize('stepsPerSubmit', stepsPerSubmit);
  const seed = o.seed ?? 1;
  checkSeed('seed', seed);
  return { runs, stepsBetween, allocate, pilotRuns, seed, stepsPerSubmit, onProgress: o.onProgress };
}

// ---- the GPU chains ---------------------------------------------------------

interface Annealing extends Settings {
  points: PathPoint[];
  burnIn: number;
  /** The runs' first states [runs, V]; without them step 0 samples the base model exactly. */
  start?: Float32Array;
}

/** A parameter set on the GPU. */
interface ParamBuffers {
  W: GPUBuffer;
  b: GPUBuffer;
  c: GPUBuffer;
}

/**
 * Runs the chains along `points` on the GPU; returns each run's log-weight.
 * Global step g (the RNG step, counter[0]): g = 0 sets p_0 (and samples the
 * base model unless `start`), 1 … burnIn are Gibbs sweeps at p_0, and
 * g = burnIn + k anneals p_{k−1} → p_k.
 */
async function anneal(
  device: GPUDevice, t: CheckedTrajectory, a: Annealing,
): Promise<{ logWeights: Float64Array; history: Float64Array[]; seconds: number }> {
  const { visible: V, hidden: H, unit } = t;
  const { runs: R, seed, points, burnIn } = a;
  const K = points.length - 1;
  const total = burnIn + K + 1;
  checkSizes(device, t, R, total);
  const thetas = (i: number): RBMParamsF32 =>
    i === 0 ? { W: new Float32Array(V * H), b: t.baseBiases, c: new Float32Array(H) } : t.snapshots[i - 1];

  const tiles = await chooseTiles(device, { visible: V, hidden: H, batch: R });
  const [hidden, visible, lerp, weight, advance] = await Promise.all([
    getKernel(device, KERNELS.temperedHidden(tiles.hidden)),
    getKernel(device, KERNELS.visible(tiles.visible, unit.wgsl)),
    getKernel(device, TRAJECTORY_KERNELS.lerp()),
    getKernel(device, TRAJECTORY_KERNELS.weight(unit.wgsl)),
    getKernel(device, KERNELS.advance()),
  ]);
  const o = new BufferOwner(device, `trajectory AIS ${R} runs × ${K} steps`);
  try {
    const paramSet = (label: string): ParamBuffers => ({
      W: o.storage(`${label} W`, V * H * 4), b: o.storage(`${label} b`, V * 4), c: o.storage(`${label} c`, H * 4),
    });
    // slots[i % 2] holds θ_i while segments i − 1 and i run; params[k % 2] holds path point k.
    const slots = [paramSet('snapshot slot 0'), paramSet('snapshot slot 1')];
    const params = [paramSet('point params 0'), paramSet('point params 1')];
    const sValues = new Float32Array(total);
    const segOf = new Int32Array(total).fill(-1);
    sValues[0] = points[0].s;
    segOf[0] = points[0].seg;
    for (let k = 1; k <= K; k++) {
      sValues[burnIn + k] = points[k].s;
      segOf[burnIn + k] = points[k].seg;
    }
    const sBuf = o.storage('s values', sValues);
    const counter = o.storage('counter', new Uint32Array(4));
    const betaOne = o.storage('β = 1', Float32Array.of(1));
    const vis = o.storage('vis', a.start ?? R * V * 4);
    const visProb = o.storage('vis_prob', R * V * 4);
    const hid = o.storage('hid', R * H * 4);
    const hidUnused = o.storage('hid (unused)', R * H * 4);
    const xA = o.storage('x previous', R * H * 4);
    const xB = o.storage('x', R * H * 4);
    const logw = o.storage('log-weights', R * 2 * 4);
    // Forward: the log-weights as each snapshot is reached (copied at the end of its segment), slot 0 the zero start.
    const T = t.snapshots.length;
    const record = !a.start;
    const historyBuf = o.storage('log-weight history', record ? (T + 1) * R * 2 * 4 : 16);
    const snapshotAt = new Int32Array(total).fill(-1);
    if (record) for (let k = 1; k <= K; k++) if (points[k].s === 1) snapshotAt[burnIn + k] = points[k].seg + 1;

    const lerpDims = {
      W: o.uniform('lerp W dims', lerp.pack('dims', { count: V * H })),
      b: o.uniform('lerp b dims', lerp.pack('dims', { count: V })),
      c: o.uniform('lerp c dims', lerp.pack('dims', { count: H })),
    };
    // chains = R: every row reads betas[0] = 1, the plain hidden pass that also stores x.
    const hDims = o.uniform('hidden dims', hidden.pack('dims', { rows: R, chains: R, n_in: V, n_out: H, seed, phase: AIS_HIDDEN_PHASE }));
    const vDims = o.uniform(
      'visible dims',
      visible.pack('dims', { rows: R, in_offset: 0, out_offset: 0, n_in: H, n_out: V, phase: AIS_VISIBLE_PHASE, seed, flags: VISIBLE_FLAGS.WRITE_SAMPLE }),
    );
    const wDims = o.uniform('weight dims', weight.pack('dims', { rows: R, n_vis: V, n_hid: H }));

    const plan = (): DispatchPlan => new DispatchPlan(device, { hint: 'use fewer runs' });
    // lerpPlans[seg % 2][k % 2]: the point's W, b, c from slots θ_seg, θ_seg+1 into params[k % 2].
    const lerpPlans = [0, 1].map((sp) => [0, 1].map((pp) => {
      const p = plan();
      for (const n of ['W', 'b', 'c'] as const) {
        const count = n === 'W' ? V * H : n === 'b' ? V : H;
        p.add(lerp, { dims: lerpDims[n], counter, s_values: sBuf, a: slots[sp][n], b: slots[1 - sp][n], out: params[pp][n] }, {
          elements: count, workgroupSize: TRAJECTORY_LERP_WORKGROUP_SIZE,
        });
      }
      return p;
    }));
    const hiddenPass = (p: ParamBuffers, x: GPUBuffer, h: GPUBuffer, pl: DispatchPlan): void => {
      pl.add(hidden, { dims: hDims, counter, betas: betaOne, vis, W: p.W, c: p.c, x_out: x, hid: h }, { rows: R, cols: H });
    };
    const visiblePass = (p: ParamBuffers, pl: DispatchPlan): void => {
      pl.add(visible, { dims: vDims, counter, hid_sample: hid, W: p.W, b: p.b, vis_prob: visProb, vis }, { rows: R, cols: V });
    };
    // Step 0 without start states: v ~ the base model exactly (W = 0, so h, still zero, plays no part).
    const baseSample = plan();
    visiblePass(params[0], baseSample);
    const sweep = plan();
    hiddenPass(params[0], xB, hid, sweep);
    visiblePass(params[0], sweep);
    // stepPlans[k % 2][last]: weight of params[(k − 1) % 2] → params[k % 2], then a sweep under the latter (not after the last step).
    const stepPlans = [0, 1].map((pp) => [false, true].map((last) => {
      const p = plan();
      const prev = params[1 - pp];
      const cur = params[pp];
      hiddenPass(prev, xA, hidUnused, p);
      hiddenPass(cur, xB, hid, p);
      p.add(weight, { dims: wDims, counter, x_a: xA, x_b: xB, vis, b_a: prev.b, b_b: cur.b, logw }, { elements: R, workgroupSize: 1 });
      if (!last) visiblePass(cur, p);
      return p;
    }));
    const adv = plan();
    adv.add(advance, { counter }, { groups: [1] });

    const resident = [-1, -1];
    const ensureSegment = (seg: number): void => {
      for (const i of [seg, seg + 1]) {
        if (resident[i % 2] !== i) {
          const th = thetas(i);
          writeArray(device, slots[i % 2].W, 0, th.W);
          writeArray(device, slots[i % 2].b, 0, th.b);
          writeArray(device, slots[i % 2].c, 0, th.c);
          resident[i % 2] = i;
        }
      }
    };
    // A command buffer never spans two segments: their snapshots are written between buffers.
    const chunk = (done: number): number => {
      let seg = -1;
      let n = 0;
      while (n < a.stepsPerSubmit && done + n < total) {
        const s = segOf[done + n];
        if (s >= 0) {
          if (seg >= 0 && s !== seg) break;
          seg = s;
        }
        n++;
      }
      return n;
    };

    const started = performance.now();
    const runner = new SubmitRunner(device, { settled: ({ first, count }) => a.onProgress?.(first + count, total) });
    await runner.run({
      total,
      chunk,
      label: 'trajectory AIS',
      encode: (encoder, g0, count) => {
        o.assertLive();
        for (let g = g0; g < g0 + count; g++) {
          if (segOf[g] >= 0) {
            ensureSegment(segOf[g]);
            break;
          }
        }
        const pass = encoder.beginComputePass({ label: `trajectory AIS steps ${g0}…` });
        for (let g = g0; g < g0 + count; g++) {
          if (g === 0) {
            lerpPlans[segOf[0] % 2][0].encode(pass);
            if (!a.start) baseSample.encode(pass);
          } else if (g <= burnIn) {
            sweep.encode(pass);
          } else {
            const k = g - burnIn;
            lerpPlans[segOf[g] % 2][k % 2].encode(pass);
            stepPlans[k % 2][k === K ? 1 : 0].encode(pass);
          }
          adv.encode(pass);
        }
        pass.end();
        // A snapshot's last step always ends its command buffer (the next step is in another segment).
        const at = snapshotAt[g0 + count - 1];
        if (at >= 0) encoder.copyBufferToBuffer(logw, 0, historyBuf, at * R * 2 * 4, R * 2 * 4);
      },
    });
    const parts = await readFloat32(device, logw, R * 2);
    const past = record ? await readFloat32(device, historyBuf, (T + 1) * R * 2) : new Float32Array(0);
    const seconds = (performance.now() - started) / 1000;
    const sum = (f: Float32Array, at: number): Float64Array => Float64Array.from({ length: R }, (_, r) => f[at + 2 * r] + f[at + 2 * r + 1]);
    const logWeights = sum(parts, 0);
    const history = record ? Array.from({ length: T + 1 }, (_, i) => sum(past, i * R * 2)) : [];
    return { logWeights, history, seconds };
  } finally {
    o.dispose();
  }
}

/** Every GPU buffer and host array annealing allocates, checked before any is. */
function checkSizes(device: GPUDevice, t: CheckedTrajectory, runs: number, total: number): void {
  const r: SizeFactor = { value: runs, option: 'runs' };
  const steps: SizeFactor = { value: total, what: 'steps (Σ stepsBetween + burn-in)', option: 'stepsBetween' };
  if (total > MAX_TRAJECTORY_STEPS) {
    throw new RangeError(`trajectory AIS would take ${total} steps, past the RNG counter's ${MAX_TRAJECTORY_STEPS}; lower stepsBetween or use fewer snapshots`);
  }
  checkStorageFactors(device, 'trajectory AIS visible states', [r, { value: t.visible, what: 'visible units' }]);
  checkStorageFactors(device, 'trajectory AIS hidden states', [r, { value: t.hidden, what: 'hidden units' }]);
  checkStorageFactors(device, 'trajectory AIS weights W', [{ value: t.visible, what: 'visible units' }, { value: t.hidden, what: 'hidden units' }]);
  checkStorageFactors(device, 'trajectory AIS path positions', [steps]);
  checkHostFactors('trajectory AIS path positions', [steps], 8);
  checkStorageFactors(device, 'trajectory AIS log-weight history', [r, { value: 2 * (t.snapshots.length + 1), what: 'values per run (2 per snapshot)' }]);
}
