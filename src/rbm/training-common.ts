// What every training loop shares: schedules, the first PCD batch, and the
// pause / resume / cancel control around a running loop.
import { BINARIZE_PHASE } from '../host/rng-streams';
import { uniform01 } from '../host/philox';
import type { BinarizeMode } from './dataset';
import { sourceRows, type DataSource } from '../data/source';
import { checkFiniteNumber, showValue } from './validate';

export type Schedule = number | ((epoch: number) => number);

/**
 * A learning-rate schedule by name: unlike a function, a checkpoint can record
 * it, so a resumed run continues it bit-identically.
 *   constant: `rate` every epoch;
 *   linear:   rate · (1 − epoch / epochs), decaying to 0 at the end of the run
 *             (`epochs` defaults to the run's own; 0 from there on).
 */
export interface LearningRateSchedule {
  schedule: 'constant' | 'linear';
  rate: number;
  epochs?: number;
}

export const LEARNING_RATE_SCHEDULES = ['constant', 'linear'] as const;

/** What a checkpoint records of a decaying learning rate besides its initial rate. */
export interface LearningRateDecay {
  schedule: 'linear';
  /** The epoch where the rate reaches 0. */
  epochs: number;
}

/** True for the named form of a learning-rate option (not a number or a function). */
export function isNamedSchedule(s: unknown): s is LearningRateSchedule {
  return s !== null && typeof s === 'object';
}

/**
 * A learning-rate option as the loop uses it: the rate per epoch, the rate a
 * checkpoint records (null for a function) and the decay it records (absent for
 * a constant rate). `runEpochs` is the run's total epochs (linear's default horizon).
 */
export function resolveLearningRate(
  lr: Schedule | LearningRateSchedule, runEpochs: number,
): { at: Schedule; rate: number | null; decay?: LearningRateDecay } {
  if (!isNamedSchedule(lr)) return { at: lr, rate: typeof lr === 'function' ? null : lr };
  if (lr.schedule === 'constant') return { at: lr.rate, rate: lr.rate };
  const horizon = lr.epochs ?? runEpochs;
  const rate = lr.rate;
  // In float64, then rounded once to float32 by packHyper: the same value in every run and resume.
  return { at: (epoch: number) => (epoch < horizon ? rate * (1 - epoch / horizon) : 0), rate, decay: { schedule: 'linear', epochs: horizon } };
}

/** Checks a named learning-rate schedule: its name, a rate ≥ 0 and (linear) a positive whole number of epochs. */
export function checkNamedSchedule(s: LearningRateSchedule, name = 'learningRate'): void {
  if (!(LEARNING_RATE_SCHEDULES as readonly unknown[]).includes(s.schedule)) {
    throw new RangeError(`${name}.schedule must be one of ${LEARNING_RATE_SCHEDULES.map((x) => `'${x}'`).join(', ')}, got ${showValue(s.schedule)}`);
  }
  checkFiniteNumber(`${name}.rate`, s.rate, 0);
  if (s.epochs !== undefined && !(Number.isSafeInteger(s.epochs) && s.epochs >= 1)) {
    throw new RangeError(`${name}.epochs must be a positive integer (the epoch where the rate reaches 0), got ${showValue(s.epochs)}`);
  }
  if (s.schedule === 'constant' && s.epochs !== undefined) {
    throw new RangeError(`${name}.epochs only applies to schedule: 'linear'; leave it out`);
  }
}

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function scheduleAt(s: Schedule, epoch: number, name: string): number {
  const x = typeof s === 'function' ? s(epoch) : s;
  checkFiniteNumber(`${name} at epoch ${epoch}`, x, 0);
  return x;
}

/** 'hinton': 0.5 for the first 5 epochs, then 0.9 (the practical guide's schedule). */
export function momentumAt(m: Schedule | 'hinton', epoch: number): number {
  if (m === 'hinton') return epoch < 5 ? 0.5 : 0.9;
  const x = scheduleAt(m, epoch, 'momentum');
  if (x >= 1) throw new RangeError(`momentum at epoch ${epoch} must be below 1, got ${x}`);
  return x;
}

/**
 * Epochs whose function schedules are evaluated before the first update.
 * Constants are checked once; a function is called for epochs
 * [0, min(epochs, PRECHECKED_EPOCHS)) up front, so a bad schedule there
 * changes nothing, and for each later epoch at that epoch's start: a bad value
 * there stops the run with a RangeError, the model keeping the updates of the
 * epochs already completed. (Checking every epoch up front made
 * epochs = 2^31 − 1 spend a minute before the first update.)
 */
export const PRECHECKED_EPOCHS = 1000;

/** Checks a learning-rate or momentum option before training: its type, constants once, functions over the first epochs. */
export function checkScheduleOption(name: 'learningRate' | 'momentum', s: unknown, epochs: number): void {
  const momentum = name === 'momentum';
  if (momentum && s === 'hinton') return;
  if (typeof s === 'number') {
    if (momentum) momentumAt(s, 0);
    else scheduleAt(s, 0, name);
    return;
  }
  if (typeof s !== 'function') {
    throw new RangeError(
      `${name} must be a number${momentum ? ' in [0, 1)' : ' ≥ 0'}, a function of the epoch` +
        `${momentum ? " or 'hinton'" : ''}, got ${showValue(s)}`,
    );
  }
  const f = s as (epoch: number) => number;
  for (let e = 0; e < Math.min(epochs, PRECHECKED_EPOCHS); e++) {
    if (momentum) momentumAt(f, e);
    else scheduleAt(f, e, name);
  }
}

/**
 * The first `rows` rows of epoch 0's permutation, binarized exactly as
 * gather.wgsl will: where persistent chains start (with as many chains as the
 * batch has rows, the first batch). More rows than the data set has wrap
 * around the permutation.
 */
export function firstBatch(
  data: DataSource, V: number, rows: number, perm: Uint32Array,
  mode: BinarizeMode, threshold: number, seed: number,
): Float32Array {
  const out = new Float32Array(rows * V);
  // The rows as float32 (byte data: exactly as the gather reads them).
  const picked = Uint32Array.from({ length: rows }, (_, r) => perm[r % perm.length]);
  const values = sourceRows(data, V, picked);
  for (let r = 0; r < rows; r++) {
    const src = picked[r];
    for (let i = 0; i < V; i++) {
      const x = values[r * V + i];
      out[r * V + i] =
        mode === 'none' ? x
        : mode === 'threshold' ? (x > Math.fround(threshold) ? 1 : 0) // the float32 threshold the gather compares with
        : uniform01(seed, 0, src * V + i, BINARIZE_PHASE) < x ? 1 : 0;
    }
  }
  return out;
}

export interface RunControl<R> {
  readonly result: Promise<R>;
  pause(): void;
  resume(): void;
  /** Stops after the update in flight; the model keeps every completed update. */
  cancel(): void;
  readonly paused: boolean;
}

/**
 * Runs a training loop with pause/resume/cancel: the loop awaits `gate()`
 * between chunks and stops when `isCancelled()`.
 */
export function controlledRun<R>(
  signal: AbortSignal | undefined,
  loop: (gate: () => Promise<void>, isCancelled: () => boolean) => Promise<R>,
): RunControl<R> {
  if (signal !== undefined && (signal === null || typeof (signal as AbortSignal).addEventListener !== 'function')) {
    const result = Promise.reject(new RangeError(`signal must be an AbortSignal, got ${showValue(signal)}`));
    return { result, pause: () => undefined, resume: () => undefined, cancel: () => undefined, paused: false };
  }
  let paused = false;
  let cancelled = false;
  let wake: (() => void) | undefined;
  const gate = (): Promise<void> =>
    paused && !cancelled ? new Promise((resolve) => (wake = resolve)) : Promise.resolve();
  const release = (): void => {
    wake?.();
    wake = undefined;
  };
  signal?.addEventListener('abort', () => {
    cancelled = true;
    release();
  });
  const result = loop(gate, () => cancelled || signal?.aborted === true);
  return {
    result,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      release();
    },
    cancel: () => {
      cancelled = true;
      release();
    },
    get paused() {
      return paused;
    },
  };
}
