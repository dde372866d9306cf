// Every random-number stream of the engine, in one place.
//
// All randomness is Philox4x32-10 (shaders/rng.wgsl, src/host/philox.ts) with
//   key     = (seed, step)
//   counter = (element, phase, word2, word3)
// A stream is a set of (key, counter) tuples; two streams "meet" when they can
// draw the same tuple, i.e. reuse the same random numbers. Streams are kept
// apart by their phase (counter word 1), and where phases coincide by their key:
//   - the step word (initialisation keys step 0xffffffff, which no training
//     run reaches: a run takes at most TRAINING_RNG_STEPS steps, 0 … 2³²−2);
//   - the seed: samplers and tempered chains key with the seed XOR a salt
//     (SAMPLER_SEED_SALT, PT_SEED_SALT), so by default they never share a key
//     with training, which keys with the model's (or the fit's) seed.
// Seeds a caller passes explicitly (fit seed, sample seed, AIS seed, PLL seed)
// are unsalted and may equal the model seed, so every stream keyed by an
// unsalted seed ("base" domain) must be phase- or step-disjoint from every
// other base stream for all allowed parameters: test/host/rng-streams.test.ts
// proves this for CD-k / PCD-k with 1 ≤ k ≤ MAX_CD_K.
//
// Fixed phase ids of the base domain live at or above FIXED_PHASE_FLOOR, past
// CD-k's family [0, 2·MAX_CD_K], except INIT_PHASE (historical value 0x1417 =
// 2·2572 − 1, the visible pass of Gibbs step 2,572), kept apart by its step key
// instead so that initialisations stay what they were. PLL_FLIP_PHASE was 0x911
// (CD-k's visible phase of step 1,161, with the same default seed 1 and step 0:
// a real meeting) and moved to 0x5911. The start-noise ids of the salted domains
// (0x401e, 0x401f) lie inside CD-k's range like the sweeps' own phases 0 … 3:
// they are kept apart from training by the seed salt, as the sweeps are.
//
// Add a stream here (constant + RNG_STREAMS entry), never as a literal at the site.

/** The largest k the CD-k / PCD-k family is proven disjoint for (the CLI's --k cap). */
export const MAX_CD_K = 10_000;

/** Fixed phase ids of the base domain other than INIT_PHASE lie at or above this, past 2·MAX_CD_K. */
export const FIXED_PHASE_FLOOR = 0x5000;

/**
 * counter[0], the update step keying the GPU's RNG, is a u32: a training run
 * may take at most this many steps (0 … 2³²−2); src/rbm/fit.ts MAX_RNG_STEPS.
 */
export const TRAINING_RNG_STEPS = 0xffffffff;

// ---- seed salts ------------------------------------------------------------

/** Gibbs samplers (src/rbm/sampler.ts) key with model seed XOR this by default. */
export const SAMPLER_SEED_SALT = 0x53414d50; // 'SAMP'
/** Tempered chains (sampling and PT training) key with seed XOR this by default. */
export const PT_SEED_SALT = 0x50545250; // 'PTRP'
/**
 * Trajectory AIS's adaptive pilot (src/rbm/trajectory.ts) keys its AIS-phase runs with
 * seed XOR this, so the step counts it picks do not depend on the random numbers of
 * the run they are used in. The pilot's draws only allocate steps: its estimate is discarded.
 */
export const TRAJECTORY_PILOT_SEED_SALT = 0x70696c74; // 'pilt'

// ---- families: phases that depend on parameters ------------------------------

/**
 * CD-k / PCD-k (src/rbm/schedule.ts): key (training seed, update step),
 * element = index into the stacked [2B, V] or [2B, H] buffers.
 * Phase 0 is the first hidden pass (PCD: data and chains together); Gibbs
 * step t (1 ≤ t ≤ k) draws its visible half with phase 2t − 1 and its hidden
 * half with phase 2t. The PCD probabilities-only pass draws nothing.
 */
export function cdHiddenPhase(t: number): number {
  return 2 * t;
}
export function cdVisiblePhase(t: number): number {
  return 2 * t - 1;
}
/** All phases one CD-k / PCD-k update draws with: 0 … 2k. */
export function cdPhases(k: number): number[] {
  return Array.from({ length: 2 * k + 1 }, (_, p) => p);
}

/** Gibbs chains (src/rbm/sampler.ts): key (sampler seed, sweep step), one sweep v → h → v. */
export const GIBBS_PHASE = { hidden: 0, visible: 1 } as const;

/**
 * One tempered sweep (src/gpu/pt-kernels.ts, src/rbm/tempering.ts): key
 * (chain seed, sweep step), element = index into [replicas · chains, ·].
 */
export const PT_PHASE = {
  hidden: 0,
  visible: 1,
  /** The swap decision of pair (m, m+1), element = the lower replica's row. */
  swapDecide: 2,
  /** Redrawing the hidden states of swapped rows, element = the h element. */
  swapResample: 3,
} as const;

// ---- fixed stream ids --------------------------------------------------------

/**
 * Initial weights (src/rbm/init.ts): key (model seed, INIT_STEP), counter
 * (pair index, INIT_PHASE, tensor stream, 0). Inside CD-k's phase range
 * (k ≥ 2,572) but keyed by a step no training run reaches.
 */
export const INIT_PHASE = 0x1417;
export const INIT_STEP = 0xffffffff;

/** Bernoulli(1/2) / N(0, 1) start states of Gibbs chains: key (sampler seed, 0), element = chain · V + i. */
export const SAMPLER_NOISE_PHASE = 0x401e;
/** Bernoulli(1/2) start states of tempered chains: key (chain seed, 0), element = index into [R · n, V]. */
export const PT_NOISE_PHASE = 0x401f;

/** The PLL's choice of flipped unit (src/rbm/monitors.ts): key (PLL seed, 0), element = row. */
export const PLL_FLIP_PHASE = 0x5911;

/** Train/test split (src/data/split.ts): key (seed, 0); each draw uses this phase and the next. */
export const SPLIT_PHASE = 0x5b10;
/** Epoch shuffles (src/data/split.ts): key (seed, epoch); each draw uses this phase and the next. */
export const SHUFFLE_PHASE = 0x5f10;
/**
 * Stochastic binarization (src/data/binarize.ts, shaders/gather.wgsl, the
 * first PCD batch in src/rbm/training-common.ts): key (seed, epoch), element = row · V + i.
 * gather.wgsl spells it as a WGSL constant; the registry test checks they agree.
 */
export const BINARIZE_PHASE = 0x5eed;

/** AIS (src/rbm/ais.ts, tempered_* kernels): key (AIS seed, β index k), element = run · H + j / run · V + i. */
export const AIS_HIDDEN_PHASE = 0xa150;
export const AIS_VISIBLE_PHASE = 0xa151;

// ---- the table the registry test checks --------------------------------------

/** Which seed keys a stream: 'base' (model, fit or caller seed, unsalted) or a salted one. */
export type SeedDomain = 'base' | 'sampler' | 'tempering';

export interface RngStream {
  name: string;
  domain: SeedDomain;
  /** Phases (counter word 1) the stream draws with, for CD-k's k where it matters. */
  phases: (k: number) => readonly number[];
  /** Inclusive range of the step word of the key. */
  steps: readonly [number, number];
  /** Values of counter word 2 (word 3 is always 0). */
  word2: readonly number[];
}

const ANY_STEP = [0, 0xffffffff] as const;
const TRAINING_STEPS = [0, TRAINING_RNG_STEPS - 1] as const;
const fixed = (...p: number[]) => () => p;

export const RNG_STREAMS: readonly RngStream[] = [
  { name: 'cd-k', domain: 'base', phases: cdPhases, steps: TRAINING_STEPS, word2: [0] },
  { name: 'init', domain: 'base', phases: fixed(INIT_PHASE), steps: [INIT_STEP, INIT_STEP], word2: [0] },
  { name: 'pll-flip', domain: 'base', phases: fixed(PLL_FLIP_PHASE), steps: [0, 0], word2: [0] },
  { name: 'split', domain: 'base', phases: fixed(SPLIT_PHASE, SPLIT_PHASE + 1), steps: [0, 0], word2: [0] },
  // epoch < epochs ≤ TRAINING_RNG_STEPS (each epoch takes at least one step)
  { name: 'shuffle', domain: 'base', phases: fixed(SHUFFLE_PHASE, SHUFFLE_PHASE + 1), steps: TRAINING_STEPS, word2: [0] },
  { name: 'binarize', domain: 'base', phases: fixed(BINARIZE_PHASE), steps: TRAINING_STEPS, word2: [0] },
  { name: 'ais', domain: 'base', phases: fixed(AIS_HIDDEN_PHASE, AIS_VISIBLE_PHASE), steps: ANY_STEP, word2: [0] },
  { name: 'gibbs', domain: 'sampler', phases: fixed(GIBBS_PHASE.hidden, GIBBS_PHASE.visible), steps: ANY_STEP, word2: [0] },
  { name: 'gibbs-noise', domain: 'sampler', phases: fixed(SAMPLER_NOISE_PHASE), steps: [0, 0], word2: [0] },
  { name: 'tempering', domain: 'tempering', phases: fixed(...Object.values(PT_PHASE)), steps: ANY_STEP, word2: [0] },
  { name: 'tempering-noise', domain: 'tempering', phases: fixed(PT_NOISE_PHASE), steps: [0, 0], word2: [0] },
];

/** The seed a salted stream keys with by default, from the base seed. */
export function domainSeed(domain: SeedDomain, seed: number): number {
  if (domain === 'sampler') return (seed ^ SAMPLER_SEED_SALT) >>> 0;
  if (domain === 'tempering') return (seed ^ PT_SEED_SALT) >>> 0;
  return seed >>> 0;
}
