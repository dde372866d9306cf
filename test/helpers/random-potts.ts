// Random Potts RBMs for the Potts tests (test/units/potts, potts-train): the odd
// sizes both check the GPU on, parameters, a model holding them, and site codes.
import { RBM } from '../../src/rbm/model';
import type { PottsParams } from '../reference/potts';
import { randomNormal } from './random';

/** Odd sizes: L = 5 sites of q = 7 states (V = 35), H = 9 hidden units, B = 3 rows. */
export const POTTS_ODD = { sites: 5, states: 7, hidden: 9, rows: 3 } as const;

export type RandomPottsParams = PottsParams & { W: Float32Array; b: Float32Array; c: Float32Array };

/** W [L·q, H], b [L·q] and c [H], drawn in that order from N(0, scale²). */
export function randomPottsParams(L: number, q: number, H: number, scale: number, rand: () => number): RandomPottsParams {
  return { sites: L, states: q, hidden: H, W: randomNormal(L * q * H, scale, rand), b: randomNormal(L * q, scale, rand), c: randomNormal(H, scale, rand) };
}

/** A Potts RBM with exactly these parameters; the caller disposes it. */
export function pottsModel(device: GPUDevice, p: RandomPottsParams, seed = 1): RBM {
  return RBM.create(device, {
    visible: p.sites * p.states, hidden: p.hidden, seed, visibleType: 'potts', visibleStates: p.states, params: { W: p.W, b: p.b, c: p.c },
  });
}

/** rows × L uniform site codes in 0..q−1, row-major (oneHotFromCodes turns them into data). */
export function randomCodes(rows: number, L: number, q: number, rand: () => number): number[] {
  return Array.from({ length: rows * L }, () => Math.floor(rand() * q));
}
