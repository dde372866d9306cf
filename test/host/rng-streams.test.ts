// The RNG stream registry: no two streams can draw the same Philox
// (key, counter) tuple for any allowed parameter, and every site takes its
// stream id from the registry.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BINARIZE_PHASE,
  cdHiddenPhase,
  cdPhases,
  cdVisiblePhase,
  domainSeed,
  FIXED_PHASE_FLOOR,
  GIBBS_PHASE,
  INIT_PHASE,
  INIT_STEP,
  MAX_CD_K,
  PT_PHASE,
  PT_SEED_SALT,
  RNG_STREAMS,
  SAMPLER_SEED_SALT,
  TRAINING_RNG_STEPS,
  type RngStream,
} from '../../src/host/rng-streams';
import { updateSchedule } from '../../src/rbm/schedule';
import { MAX_RNG_STEPS } from '../../src/rbm/fit';
import { PT_PHASE as KERNEL_PT_PHASE } from '../../src/gpu/pt-kernels';

const byName = (n: string): RngStream => RNG_STREAMS.find((s) => s.name === n)!;
const cd = byName('cd-k');
const fixedStreams = RNG_STREAMS.filter((s) => s !== cd);

const overlaps = (a: readonly number[], b: readonly number[]): boolean => a.some((x) => b.includes(x));
const stepsMeet = (a: RngStream, b: RngStream): boolean => a.steps[0] <= b.steps[1] && b.steps[0] <= a.steps[1];
/** Whether two streams keyed by the same seed can draw the same (step, element, phase, word2) at CD's k. */
function canMeet(a: RngStream, b: RngStream, k: number): boolean {
  return overlaps(a.phases(k), b.phases(k)) && stepsMeet(a, b) && overlaps(a.word2, b.word2);
}

describe('RNG stream registry', () => {
  it('CD-k / PCD-k draw exactly the phases of the family, 2t − 1 and 2t for Gibbs step t', () => {
    for (const k of [1, 2, 3, 7, 1161, 2572, MAX_CD_K]) {
      for (const persistent of [false, true]) {
        const used = new Set(updateSchedule(5, k, persistent).filter((p) => p.kind === 'hidden' || p.writeSample).map((p) => p.phase));
        expect([...used].sort((x, y) => x - y)).toEqual(cdPhases(k));
      }
    }
    expect(updateSchedule(5, 0, true).map((p) => p.phase)).toEqual([0, 0]); // PT training: external chains
    expect([cdHiddenPhase(0), cdVisiblePhase(1), cdHiddenPhase(1)]).toEqual([0, 1, 2]);
  });

  it('the tempering kernels and the registry agree', () => {
    expect(KERNEL_PT_PHASE).toBe(PT_PHASE);
  });

  it('fixed stream ids are pairwise distinct, in every domain', () => {
    const ids = fixedStreams.filter((s) => s.name !== 'gibbs' && s.name !== 'tempering').flatMap((s) => s.phases(0));
    expect(new Set(ids).size).toBe(ids.length);
    // and none is a phase of the Gibbs or tempered sweeps
    expect(overlaps(ids, [...Object.values(GIBBS_PHASE), ...Object.values(PT_PHASE)])).toBe(false);
  });

  it('fixed ids of the base domain lie past CD-k’s range for every k ≤ MAX_CD_K, except INIT_PHASE', () => {
    for (const s of fixedStreams) {
      if (s.domain !== 'base' || s.name === 'init') continue;
      for (const p of s.phases(0)) expect(p, s.name).toBeGreaterThanOrEqual(FIXED_PHASE_FLOOR);
    }
    expect(FIXED_PHASE_FLOOR).toBeGreaterThan(2 * MAX_CD_K);
  });

  it('no two streams keyed by the same (unsalted or same-salted) seed can meet, for k = 1 … MAX_CD_K', () => {
    // cdPhases(k) = [0, 2k] grows with k, so a stream that meets CD-k for some
    // k ≤ MAX_CD_K meets it at MAX_CD_K; check every k anyway, by interval.
    const fixedBase = fixedStreams.filter((s) => s.domain === 'base');
    for (let k = 1; k <= MAX_CD_K; k++) {
      for (const s of fixedBase) {
        const phaseMeets = s.phases(k).some((p) => p <= 2 * k);
        if (phaseMeets) {
          // The one phase collision, kept apart by the key's step word (see below).
          expect(s.name).toBe('init');
          expect(k).toBeGreaterThanOrEqual((INIT_PHASE + 1) / 2);
          expect(stepsMeet(s, cd)).toBe(false);
        }
      }
    }
    for (const a of RNG_STREAMS) {
      for (const b of RNG_STREAMS) {
        if (a !== b && a.domain === b.domain) expect(canMeet(a, b, MAX_CD_K), `${a.name} vs ${b.name}`).toBe(false);
      }
    }
  });

  it('INIT_PHASE = CD-k’s visible phase of Gibbs step 2,572, but no training step keys INIT_STEP', () => {
    expect(cdVisiblePhase(2572)).toBe(INIT_PHASE);
    expect(cdPhases(MAX_CD_K)).toContain(INIT_PHASE);
    // A training run takes at most TRAINING_RNG_STEPS = MAX_RNG_STEPS updates
    // (fit rejects more), numbered 0 … 2³² − 2; initialisation keys 2³² − 1.
    expect(TRAINING_RNG_STEPS).toBe(MAX_RNG_STEPS);
    expect(cd.steps[1]).toBe(TRAINING_RNG_STEPS - 1);
    expect(INIT_STEP).toBeGreaterThan(cd.steps[1]);
    expect(byName('init').steps).toEqual([INIT_STEP, INIT_STEP]);
  });

  it('salted domains never share a default key with training', () => {
    expect(SAMPLER_SEED_SALT).not.toBe(0);
    expect(PT_SEED_SALT).not.toBe(0);
    expect(SAMPLER_SEED_SALT).not.toBe(PT_SEED_SALT);
    // seed ↦ seed ⊕ salt is a bijection, so two domains share a key only when the salts are equal.
    for (const s of [0, 1, 7, 0x53414d50, 0x50545250, 0xffffffff]) {
      const keys = (['base', 'sampler', 'tempering'] as const).map((d) => domainSeed(d, s));
      expect(new Set(keys).size).toBe(3);
    }
    // Across domains only the sweep families and the start noise overlap CD-k's
    // phases: the cases where a caller passes the training seed as the sampler's
    // seed by hand. Any other cross-domain overlap would be new.
    const cross = RNG_STREAMS.filter((s) => s.domain !== 'base' && canMeet(s, cd, MAX_CD_K)).map((s) => s.name);
    expect(cross.sort()).toEqual(['gibbs', 'gibbs-noise', 'tempering', 'tempering-noise']);
  });

  it('the registry is the only place a phase id is written', () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk('src');
    const offenders = files
      .filter((f) => !f.endsWith(join('host', 'rng-streams.ts')))
      .filter((f) => /(PHASE|SALT)\w*\s*(:\s*\w+\s*)?=\s*(0x[0-9a-f]+|\d+)/i.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
    // gather.wgsl spells the binarization phase as a WGSL constant.
    const m = /const BINARIZE_PHASE: u32 = (0x[0-9A-Fa-f]+)u;/.exec(readFileSync('shaders/gather.wgsl', 'utf8'));
    expect(Number(m?.[1])).toBe(BINARIZE_PHASE);
  });
});
