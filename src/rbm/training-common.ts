// What every training loop shares: schedules, the first PCD batch, and the
// pause / resume / cancel control around a running loop.
import { BINARIZE_PHASE } from '../data/binarize';
import { uniform01 } from '../cpu/philox';
import type { BinarizeMode } from './dataset';
import { checkFiniteNumber } from './validate';

export type Schedule = number | ((epoch: number) => number);

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function scheduleAt(s: Schedule, epoch: number, name: string): number {
  const x = typeof s === 'function' ? s(epoch) : s;
  checkFiniteNumber(`${name} at epoch ${epoch}`, x, 0);
  return x;
}

/** 'hinton': 0.5 for the first 5 epochs, then 0.9 (the practical guide's schedule). */
export function momentumAt(m: Schedule | 'hinton', epoch: number): number {
  return m === 'hinton' ? (epoch < 5 ? 0.5 : 0.9) : scheduleAt(m, epoch, 'momentum');
}

/** The first batch of epoch 0, binarized exactly as gather.wgsl will: where persistent chains start. */
export function firstBatch(
  data: Float32Array, V: number, B: number, perm: Uint32Array,
  mode: BinarizeMode, threshold: number, seed: number,
): Float32Array {
  const out = new Float32Array(B * V);
  for (let r = 0; r < B; r++) {
    const src = perm[r];
    for (let i = 0; i < V; i++) {
      const x = data[src * V + i];
      out[r * V + i] =
        mode === 'none' ? x
        : mode === 'threshold' ? (x > threshold ? 1 : 0)
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
