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
export type UnitName = 'bernoulli' | 'gaussian';

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
    /** logz_chunk's `gaussian` field: 1 integrates v out analytically as unit-variance Gaussians when h is enumerated. */
    readonly chunkMode: 0 | 1;
    /** What the integral over v adds outside the kernel: 0, or (V/2)·log 2π for Gaussian units. */
    logConstant(visible: number): number;
  };
}
