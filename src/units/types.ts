// A visible layer's unit type, as a layer in RestrictedBoltzmannMachines.jl
// supplies its energy, conditional mean, sampler and free-energy term: one WGSL
// module (shaders/units/<name>.wgsl) that the visible kernels link, and this
// descriptor, which says the same in TS for the host (validation, the AIS base
// model, sampler noise) and for the tests (float64 definitions of the WGSL functions).
//
// A new unit type is one file of each plus its tests: shaders/units/<name>.wgsl,
// src/units/<name>.ts, its entry in UNITS (index.ts) and in test/units/. The
// kernels (visible, tempered_visible, free_energy, ais_weight) take its module;
// the engines ask its descriptor. What still knows the two names: see index.ts.
import type { UnitModule } from '../gpu/kernels';

/** The unit types there are (the model file's "visible" metadata values). */
export type UnitName = 'bernoulli' | 'gaussian' | 'potts';

/**
 * A layer whose units come in groups that one conditional couples (Potts: a
 * softmax over the q one-hot units of a site). The visible kernels store each
 * unit's field (unit_mean and unit_sample pass it through) and the engines
 * dispatch the group pass (shaders/potts_group.wgsl, src/gpu/potts-kernels.ts)
 * after every visible pass. Units e = site·states + state.
 */
export interface UnitGroup {
  /** q: units per group (states per site). */
  readonly states: number;
  /** The group pass in float64: probabilities of one site's q fields (a softmax). */
  probabilities(fields: ArrayLike<number>): Float64Array;
  /**
   * The group pass's draw in float64: the state the site takes given its
   * probabilities and the Philox uniform at (seed, step, first, phase), `first`
   * being the element index of the site's first unit.
   */
  draw(probabilities: ArrayLike<number>, seed: number, step: number, first: number, phase: number): number;
}

/**
 * One visible unit type. x below is a unit's field W_i·h + b_i; the WGSL
 * functions named are those of its module, the TS ones their float64 definitions.
 */
export interface UnitType<N extends UnitName = UnitName> {
  readonly name: N;
  /** For messages: 'Bernoulli', 'Gaussian'. */
  readonly label: string;
  /**
   * shaders/units/<name>.wgsl: unit_mean, unit_sample, unit_free_energy_term,
   * unit_add_bias_difference (contract in shaders/units/bernoulli.wgsl); pass it to
   * KERNELS.visible / temperedVisible / freeEnergy and EVAL_KERNELS.aisWeight.
   */
  readonly wgsl: UnitModule;

  /**
   * Present when the units come in groups (Potts): then mean and sample below
   * are the elementwise part only (the field, passed through) and the group
   * pass completes them. A unit type whose group size comes from the model
   * (unitType('potts') without its states) has `group` undefined and `grouped` true.
   */
  readonly group?: UnitGroup;
  /** Whether the layer needs a group pass: true for Potts units, with or without their states count (absent: false). */
  readonly grouped?: boolean;

  /** unit_mean: E[v | x]. */
  mean(x: number): number;
  /** unit_sample: a draw of v with mean `mean` from the Philox stream (seed, step, element, phase). */
  sample(mean: number, seed: number, step: number, element: number, phase: number): number;
  /** unit_free_energy_term: a unit's bias term of F(v) and of the energy (−b·v; (v − b)²/2). */
  freeEnergyTerm(v: number, b: number): number;
  /**
   * unit_add_bias_difference without the accumulator: the term at b_base minus
   * the term at b, a unit's share of ∂ log p*_β(v) / ∂β in AIS.
   */
  biasDifference(v: number, b: number, bBase: number): number;

  /** States are exactly 0 or 1: pseudo-likelihood can flip them; given states are checked binary. */
  readonly binary: boolean;
  /**
   * Training data may be binarized for this layer (binarize 'stochastic' or
   * 'threshold'); otherwise it trains on the values as given (binarize: 'none').
   */
  readonly binarizes: boolean;
  /** Visible states given by a caller ([rows, width] row-major): binary for Bernoulli units, finite for Gaussian ones. */
  checkStates(name: string, states: ArrayLike<number>, width: number): void;
  /** Per-unit means given for the initial biases (visibleMarginals), already checked finite: their range. */
  checkMeans(name: string, means: ArrayLike<number>): void;
  /** The bias whose unit has mean `mean` with W = 0 (the initial b from data means): the inverse of mean(). */
  biasFromMean(mean: number): number;
  /** A chain's start state with no model behind it (the sampler's default noise), element `element`. */
  noise(seed: number, element: number, phase: number): number;

  /** AIS's base model (W = 0, c = 0, visible biases b_A) from [n, V] data. */
  baseBiases(data: ArrayLike<number>, visible: number, smoothing: number): Float64Array;
  /** The base model's biases from per-unit means given directly (AISOptions.marginals). */
  baseBiasesFromMeans(means: ArrayLike<number>, visible: number): Float64Array;
  /** log Z of the base model with visible biases bA and `hidden` (uniform) hidden units. */
  baseLogZ(bA: ArrayLike<number>, hidden: number): number;

  /**
   * Whether parallel tempering runs this layer, or why not. PT runs tempered_visible
   * with no base model (b_base = 0, so the layer at β must be the unit type at field
   * β·x) and pt_swap.wgsl, which computes the Bernoulli energy −bᵀv itself, as
   * src/rbm/tempering.ts draws fair-coin noise and checks states binary: only Bernoulli units qualify today.
   */
  readonly tempering: { readonly supported: true } | { readonly supported: false; readonly reason: string };
  /** How exactLogZ (logz_chunk.wgsl, not yet linked with unit modules) treats this layer. */
  readonly exactLogZ: {
    /** Visible states can be enumerated (exactLogZ then enumerates the smaller layer; otherwise always the hidden one). */
    readonly enumerable: boolean;
    /**
     * logz_chunk's `mode` field: 0 sums softplus over Bernoulli units, 1 integrates
     * v out analytically as unit-variance Gaussians, 2 sums logsumexp over each
     * site's q Potts states (h enumerated in modes 1 and 2).
     */
    readonly chunkMode: 0 | 1 | 2;
    /** What the integral over v adds outside the kernel: 0, or (V/2)·log 2π for Gaussian units. */
    logConstant(visible: number): number;
  };
}
