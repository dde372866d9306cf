// Training checkpoints: everything a bit-identical resume needs (DESIGN.md
// "Saving, state and evaluation"), as a library object (TrainingState, what
// fit / trainPT hand to `onCheckpoint` and take back as `resume`) and as one
// safetensors file.
//
// The file is a model file (./model-file.ts: tensors W, b, c and the metadata
// keys format, visible, visible_units, hidden_units, seed), so `eval` and
// `sample` read a checkpoint as the model it holds, plus:
//
//   tensors (float32)
//     W_velocity [V, H], b_velocity [V], c_velocity [H]   the momentum buffers
//     hidden_mean [H]                                      sparsity estimates q
//     chains [N, V]                                        PCD: the persistent chains
//     tempering_states [M, N, V]                           PT: every replica's states
//     visible_offset [V], hidden_offset [H]                centered runs: the offsets μ, λ
//   metadata (strings)
//     checkpoint             "1", the schema version
//     checkpoint_epoch       epochs completed (decimal)
//     checkpoint_updates     updates run in all: the step keying the RNG (decimal)
//     checkpoint_settings    JSON TrainingSettings (what a resumed run must agree with)
//     checkpoint_tempering   PT: JSON { steps, swap_rounds, swaps_accepted, swaps_attempted }
//
// The shuffle and binarization of each epoch are functions of (seed, epoch),
// both recorded, so no generator state beyond the counters is needed.
// Integers are decimal strings (float32 tensors cannot hold a u32 exactly).
// Environment-neutral: no Node built-ins.
import type { BinarizeMode } from './dataset';
import { MODEL_FILE_FORMAT, MODEL_KEYS, type VisibleType } from './model-file';
import type { RBMParamsF32 } from './params';
import type { LearningRateDecay } from './training-common';
import { decodeSafetensors, encodeSafetensors, SafetensorsFormatError, type DecodedTensor, type Tensor } from './safetensors';

/** The negative phase a run samples with. */
export type TrainingMethod = 'cd' | 'pcd' | 'pt';

/** The value of metadata "checkpoint" in checkpoints this version writes. */
export const CHECKPOINT_VERSION = '1';

/** The metadata keys a checkpoint adds to the model file's. */
export const CHECKPOINT_KEYS = {
  version: 'checkpoint',
  epoch: 'checkpoint_epoch',
  updates: 'checkpoint_updates',
  settings: 'checkpoint_settings',
  tempering: 'checkpoint_tempering',
} as const;

/** The tensors a checkpoint adds to W, b, c. */
export const CHECKPOINT_TENSORS = {
  wVelocity: 'W_velocity',
  bVelocity: 'b_velocity',
  cVelocity: 'c_velocity',
  hiddenMean: 'hidden_mean',
  chains: 'chains',
  tempering: 'tempering_states',
  visibleOffset: 'visible_offset',
  hiddenOffset: 'hidden_offset',
} as const;

/**
 * The settings a run was trained with, as the GPU used them: a resumed run
 * must give the same (fit / trainPT check every field and name the first that
 * differs). Schedules that are functions of the epoch are recorded as null
 * and must be functions again (their values cannot be compared).
 */
export interface TrainingSettings {
  method: TrainingMethod;
  batchSize: number;
  /** Negative-phase chains N (batchSize for CD). */
  chains: number;
  /** Gibbs steps per update (0 for parallel tempering). */
  k: number;
  /** The training seed: shuffling and binarization. */
  seed: number;
  binarize: BinarizeMode;
  threshold: number;
  /** The (initial) learning rate; null for a function of the epoch. */
  learningRate: number | null;
  /** A named decaying schedule (absent: constant, or a function). */
  learningRateDecay?: LearningRateDecay;
  momentum: number | 'hinton' | null;
  /** Centered gradients: the offsets' sliding rate ν (absent: the plain update). */
  centered?: number;
  weightDecay: number;
  /** The sparsity penalty as the GPU applies it (cost 0: off). */
  sparsityTarget: number;
  sparsityCost: number;
  sparsityDecay: number;
  /** Rows of the training data. */
  dataRows: number;
  /** Parallel tempering: the ladder as the GPU uses it (float32 values), sweeps per update, swap period, chain seed. */
  betas?: number[];
  sweepsPerUpdate?: number;
  swapEvery?: number;
  chainSeed?: number;
}

/** Parallel tempering's part of a checkpoint. */
export interface TemperingCheckpoint {
  /** Every replica's states [replicas · chains, V], β = 1 first. */
  states: Float32Array;
  /** Tempered sweeps run: the tempered chains' RNG step. */
  steps: number;
  /** Swap rounds run (the next round's parity). */
  swapRounds: number;
  /** Swaps accepted and attempted per pair (m, m+1) over the whole run so far. */
  swapsAccepted: number[];
  swapsAttempted: number[];
}

/**
 * A training run's state after a whole epoch: what `onCheckpoint` receives
 * and `resume` takes back. Its arrays are the run's own copies.
 */
export interface TrainingState {
  visible: number;
  hidden: number;
  visibleType: VisibleType;
  /** The model's seed (keys its Gibbs passes): the model a run resumes on must have it. */
  modelSeed: number;
  /** Epochs completed. */
  epoch: number;
  /** Updates run in all: the step keying the trainer's RNG. */
  updates: number;
  params: RBMParamsF32;
  /** The momentum buffers of W, b, c. */
  velocities: RBMParamsF32;
  /** q [H]: the decaying mean of the data-driven hidden probabilities (sparsity). */
  hiddenMean: Float32Array;
  /** PCD: the persistent chains [chains, V]. */
  chains?: Float32Array;
  /** Parallel tempering: the tempered chains. */
  tempering?: TemperingCheckpoint;
  /** Centered runs: the offsets μ [V] and λ [H]. */
  offsets?: { visible: Float32Array; hidden: Float32Array };
  settings: TrainingSettings;
}

/** A checkpoint read back: its state and every metadata entry (the writer's own keys included). */
export interface LoadedCheckpoint {
  state: TrainingState;
  metadata: Record<string, string>;
}

const failFormat = (msg: string): never => {
  throw new SafetensorsFormatError(msg);
};
const fail = failFormat;

const METHODS: readonly TrainingMethod[] = ['cd', 'pcd', 'pt'];
const BINARIZE: readonly BinarizeMode[] = ['stochastic', 'threshold', 'none'];

/** True when the metadata marks a checkpoint (any version). */
export function isCheckpoint(metadata: Record<string, string>): boolean {
  return Object.hasOwn(metadata, CHECKPOINT_KEYS.version);
}

/**
 * Serializes a training state as one safetensors file. `metadata` adds the
 * writer's own keys (e.g. the CLI's settings and history); it may repeat a
 * key the checkpoint writes only with the same value.
 */
export function checkpointToSafetensors(state: TrainingState, metadata: Record<string, string> = {}): Uint8Array {
  checkState(state);
  const { visible: V, hidden: H } = state;
  const own: Record<string, string> = {
    [MODEL_KEYS.format]: MODEL_FILE_FORMAT,
    [MODEL_KEYS.visible]: state.visibleType,
    [MODEL_KEYS.visibleUnits]: String(V),
    [MODEL_KEYS.hiddenUnits]: String(H),
    [MODEL_KEYS.seed]: String(state.modelSeed),
    [CHECKPOINT_KEYS.version]: CHECKPOINT_VERSION,
    [CHECKPOINT_KEYS.epoch]: String(state.epoch),
    [CHECKPOINT_KEYS.updates]: String(state.updates),
    [CHECKPOINT_KEYS.settings]: JSON.stringify(state.settings),
  };
  const t = state.tempering;
  if (t) {
    own[CHECKPOINT_KEYS.tempering] = JSON.stringify({
      steps: t.steps, swap_rounds: t.swapRounds, swaps_accepted: t.swapsAccepted, swaps_attempted: t.swapsAttempted,
    });
  }
  const merged: Record<string, string> = { ...metadata };
  for (const [k, v] of Object.entries(own)) {
    if (Object.hasOwn(merged, k) && merged[k] !== v) {
      fail(`metadata "${k}" is ${JSON.stringify(merged[k])} but the checkpoint writes ${JSON.stringify(v)}; leave the key out.`);
    }
    merged[k] = v;
  }
  const tensors: Record<string, Tensor> = {
    W: { shape: [V, H], data: state.params.W },
    b: { shape: [V], data: state.params.b },
    c: { shape: [H], data: state.params.c },
    [CHECKPOINT_TENSORS.wVelocity]: { shape: [V, H], data: state.velocities.W },
    [CHECKPOINT_TENSORS.bVelocity]: { shape: [V], data: state.velocities.b },
    [CHECKPOINT_TENSORS.cVelocity]: { shape: [H], data: state.velocities.c },
    [CHECKPOINT_TENSORS.hiddenMean]: { shape: [H], data: state.hiddenMean },
  };
  if (state.chains) tensors[CHECKPOINT_TENSORS.chains] = { shape: [state.settings.chains, V], data: state.chains };
  if (t) tensors[CHECKPOINT_TENSORS.tempering] = { shape: [state.settings.betas!.length, state.settings.chains, V], data: t.states };
  if (state.offsets) {
    tensors[CHECKPOINT_TENSORS.visibleOffset] = { shape: [V], data: state.offsets.visible };
    tensors[CHECKPOINT_TENSORS.hiddenOffset] = { shape: [H], data: state.offsets.hidden };
  }
  return encodeSafetensors(tensors, merged);
}

/**
 * Reads a checkpoint, checking every tensor's shape against the recorded
 * sizes and settings, every value finite and every counter an integer. A
 * model file that is not a checkpoint, a newer version, or any inconsistency
 * is a SafetensorsFormatError naming the key or tensor.
 */
export function checkpointFromSafetensors(bytes: Uint8Array): LoadedCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (!isCheckpoint(metadata)) {
    fail('this safetensors file is not a training checkpoint (no "checkpoint" metadata); write one with train --checkpoint.');
  }
  if (metadata[CHECKPOINT_KEYS.version] !== CHECKPOINT_VERSION) {
    fail(`checkpoint version ${JSON.stringify(metadata[CHECKPOINT_KEYS.version])} is not supported (this version reads "${CHECKPOINT_VERSION}").`);
  }
  if (metadata[MODEL_KEYS.format] !== MODEL_FILE_FORMAT) fail(`checkpoint metadata "format" must be "${MODEL_FILE_FORMAT}".`);
  const visibleType = metadata[MODEL_KEYS.visible] as VisibleType;
  if (visibleType !== 'bernoulli' && visibleType !== 'gaussian') {
    fail(`checkpoint metadata "visible" is ${JSON.stringify(visibleType)}; expected "bernoulli" or "gaussian".`);
  }
  const V = count(metadata, MODEL_KEYS.visibleUnits, 1);
  const H = count(metadata, MODEL_KEYS.hiddenUnits, 1);
  const modelSeed = count(metadata, MODEL_KEYS.seed, 0, 0xffffffff);
  const epoch = count(metadata, CHECKPOINT_KEYS.epoch, 0);
  const updates = count(metadata, CHECKPOINT_KEYS.updates, 0, 0xffffffff);
  const settings = parseSettings(json(metadata, CHECKPOINT_KEYS.settings));
  const N = settings.chains;
  const tensor = (name: string, shape: number[]): Float32Array => {
    if (!Object.hasOwn(tensors, name)) fail(`checkpoint has no tensor "${name}" [${shape.join(', ')}].`);
    const t: DecodedTensor = tensors[name];
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      fail(`checkpoint tensor "${name}" has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}] for a ${V}-${H} model with ${N} chains.`);
    }
    const bad = t.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) fail(`checkpoint tensor "${name}" holds ${t.data[bad]} at flat index ${bad}; every value must be finite.`);
    return t.data;
  };
  const state: TrainingState = {
    visible: V,
    hidden: H,
    visibleType,
    modelSeed,
    epoch,
    updates,
    params: { W: tensor('W', [V, H]), b: tensor('b', [V]), c: tensor('c', [H]) },
    velocities: {
      W: tensor(CHECKPOINT_TENSORS.wVelocity, [V, H]),
      b: tensor(CHECKPOINT_TENSORS.bVelocity, [V]),
      c: tensor(CHECKPOINT_TENSORS.cVelocity, [H]),
    },
    hiddenMean: tensor(CHECKPOINT_TENSORS.hiddenMean, [H]),
    settings,
  };
  if (settings.method === 'pcd') state.chains = tensor(CHECKPOINT_TENSORS.chains, [N, V]);
  if (settings.centered !== undefined) {
    state.offsets = { visible: tensor(CHECKPOINT_TENSORS.visibleOffset, [V]), hidden: tensor(CHECKPOINT_TENSORS.hiddenOffset, [H]) };
  }
  if (settings.method === 'pt') {
    const t = json(metadata, CHECKPOINT_KEYS.tempering) as Record<string, unknown>;
    const M = settings.betas!.length;
    const key = CHECKPOINT_KEYS.tempering;
    const pairs = (name: string): number[] => {
      const a = t?.[name];
      if (!Array.isArray(a) || a.length !== M - 1 || !a.every((x) => Number.isSafeInteger(x) && x >= 0)) {
        fail(`checkpoint metadata "${key}" field ${name} must be ${M - 1} non-negative integers (one per pair of the ${M} replicas).`);
      }
      return a as number[];
    };
    state.tempering = {
      states: tensor(CHECKPOINT_TENSORS.tempering, [M, N, V]),
      steps: integer(t?.steps, `"${key}" field steps`, 0, 0xffffffff),
      swapRounds: integer(t?.swap_rounds, `"${key}" field swap_rounds`, 0, 0xffffffff),
      swapsAccepted: pairs('swaps_accepted'),
      swapsAttempted: pairs('swaps_attempted'),
    };
  }
  checkState(state);
  return { state, metadata };
}

function count(m: Record<string, string>, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Object.hasOwn(m, key)) fail(`checkpoint metadata has no "${key}".`);
  const n = /^\d{1,16}$/.test(m[key]) ? Number(m[key]) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`checkpoint metadata "${key}" is ${JSON.stringify(m[key])}; expected an integer in [${min}, ${max}].`);
  return n;
}

function integer(x: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max) {
    fail(`checkpoint ${what} is ${JSON.stringify(x)}; expected an integer in [${min}, ${max}].`);
  }
  return x as number;
}

function json(m: Record<string, string>, key: string): unknown {
  if (!Object.hasOwn(m, key)) fail(`checkpoint metadata has no "${key}".`);
  try {
    return JSON.parse(m[key]);
  } catch {
    return fail(`checkpoint metadata "${key}" is not JSON.`);
  }
}

function parseSettings(x: unknown): TrainingSettings {
  const key = CHECKPOINT_KEYS.settings;
  if (x === null || typeof x !== 'object' || Array.isArray(x)) fail(`checkpoint metadata "${key}" must be a JSON object.`);
  const o = x as Record<string, unknown>;
  const field = (name: string): string => `"${key}" field ${name}`;
  const num = (name: string, min = 0): number => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(`checkpoint ${field(name)} is ${JSON.stringify(v)}; expected a finite number ≥ ${min}.`);
    return v as number;
  };
  const method = o.method as TrainingMethod;
  if (!METHODS.includes(method)) fail(`checkpoint ${field('method')} is ${JSON.stringify(o.method)}; expected "cd", "pcd" or "pt".`);
  const binarize = o.binarize as BinarizeMode;
  if (!BINARIZE.includes(binarize)) fail(`checkpoint ${field('binarize')} is ${JSON.stringify(o.binarize)}.`);
  const lr = o.learningRate;
  if (lr !== null && (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)) fail(`checkpoint ${field('learningRate')} is ${JSON.stringify(lr)}.`);
  const mom = o.momentum;
  if (mom !== null && mom !== 'hinton' && (typeof mom !== 'number' || !(mom >= 0 && mom < 1))) {
    fail(`checkpoint ${field('momentum')} is ${JSON.stringify(mom)}.`);
  }
  const s: TrainingSettings = {
    method,
    batchSize: integer(o.batchSize, field('batchSize'), 1),
    chains: integer(o.chains, field('chains'), 1),
    k: integer(o.k, field('k'), 0),
    seed: integer(o.seed, field('seed'), 0, 0xffffffff),
    binarize,
    threshold: num('threshold', -Infinity),
    learningRate: lr as number | null,
    momentum: mom as number | 'hinton' | null,
    weightDecay: num('weightDecay'),
    sparsityTarget: num('sparsityTarget'),
    sparsityCost: num('sparsityCost'),
    sparsityDecay: num('sparsityDecay'),
    dataRows: integer(o.dataRows, field('dataRows'), 1),
  };
  if (o.learningRateDecay !== undefined) {
    const d = o.learningRateDecay as Record<string, unknown> | null;
    if (d === null || typeof d !== 'object' || d.schedule !== 'linear') {
      fail(`checkpoint ${field('learningRateDecay')} is ${JSON.stringify(d)}; expected { "schedule": "linear", "epochs": N }.`);
    }
    s.learningRateDecay = { schedule: 'linear', epochs: integer(d!.epochs, field('learningRateDecay.epochs'), 1) };
  }
  if (o.centered !== undefined) {
    const c = o.centered;
    if (typeof c !== 'number' || !(c >= 0 && c <= 1)) fail(`checkpoint ${field('centered')} is ${JSON.stringify(c)}; expected a rate in [0, 1].`);
    s.centered = c as number;
  }
  if (method === 'pt') {
    const betas = o.betas;
    if (!Array.isArray(betas) || betas.length < 2 || !betas.every((b) => typeof b === 'number' && b >= 0 && b <= 1)) {
      fail(`checkpoint ${field('betas')} must be an array of at least 2 inverse temperatures in [0, 1].`);
    }
    s.betas = betas as number[];
    s.sweepsPerUpdate = integer(o.sweepsPerUpdate, field('sweepsPerUpdate'), 1);
    s.swapEvery = integer(o.swapEvery, field('swapEvery'), 1);
    s.chainSeed = integer(o.chainSeed, field('chainSeed'), 0, 0xffffffff);
  }
  return s;
}

/**
 * Checks that a TrainingState's parts agree with each other (sizes, method
 * and its parts, finite values): a RangeError starting with `name` otherwise.
 */
export function checkTrainingState(state: TrainingState, name = 'training state'): void {
  checkState(state, (msg) => {
    throw new RangeError(`${name}: ${msg}`);
  });
  for (const [part, a] of [
    ['params.W', state.params.W], ['params.b', state.params.b], ['params.c', state.params.c],
    ['velocities.W', state.velocities.W], ['velocities.b', state.velocities.b], ['velocities.c', state.velocities.c],
    ['hiddenMean', state.hiddenMean],
    ...(state.offsets ? [['offsets.visible', state.offsets.visible], ['offsets.hidden', state.offsets.hidden]] as const : []),
  ] as const) {
    const i = a.findIndex((x) => !Number.isFinite(x));
    if (i >= 0) throw new RangeError(`${name}: ${part} holds ${a[i]} at index ${i}; every value must be finite`);
  }
}

/** The state's parts agree with each other (sizes, method and its parts); `fail` gets a message without a subject. */
function checkState(s: TrainingState, fail: (msg: string) => never = (msg) => failFormat(`checkpoint ${msg}.`)): void {
  if (s === null || typeof s !== 'object') fail('must be an object');
  const { visible: V, hidden: H, settings } = s;
  if (!Number.isInteger(V) || V < 1 || !Number.isInteger(H) || H < 1) fail(`sizes must be positive integers, got ${V} and ${H}`);
  if (settings === null || typeof settings !== 'object') fail('has no settings');
  const N = settings.chains;
  const expect = (name: string, a: Float32Array | undefined, n: number): void => {
    if (!(a instanceof Float32Array) || a.length !== n) fail(`${name} must be a Float32Array of ${n} values, got ${a?.length}`);
  };
  expect('params.W', s.params?.W, V * H);
  expect('params.b', s.params?.b, V);
  expect('params.c', s.params?.c, H);
  expect('velocities.W', s.velocities?.W, V * H);
  expect('velocities.b', s.velocities?.b, V);
  expect('velocities.c', s.velocities?.c, H);
  expect('hiddenMean', s.hiddenMean, H);
  if (settings.centered !== undefined) {
    expect('offsets.visible', s.offsets?.visible, V);
    expect('offsets.hidden', s.offsets?.hidden, H);
  } else if (s.offsets !== undefined) {
    fail('has centering offsets, but its settings are not centered');
  }
  if (settings.method === 'pcd') expect('chains', s.chains, N * V);
  else if (s.chains !== undefined) fail(`has chains, which only PCD keeps, but its method is ${settings.method}`);
  if (settings.method === 'cd' && N !== settings.batchSize) fail(`is CD with ${N} chains but batch size ${settings.batchSize}; CD's chains are the batch`);
  if (settings.method === 'pt') {
    if (!s.tempering || !settings.betas) fail('is parallel tempering without its tempering state or betas');
    expect('tempering.states', s.tempering!.states, settings.betas!.length * N * V);
  } else if (s.tempering !== undefined) {
    fail(`has a tempering state but its method is ${settings.method}`);
  }
}
