import { describe, expect, it } from 'vitest';
import { chooseTiles, TILE_CACHE, TILE_CANDIDATES, tileFamily, tileFits, tuneReport, tuneTiles } from '../../src/gpu/tune';
import { GpuContext } from '../../src/gpu/context';
import { tileName } from '../../src/gpu/kernels';
import { testDevice } from '../helpers/device';

describe('tile tuning', () => {
  it('times every candidate on each GEMM kernel and keeps the fastest', async () => {
    const device = await testDevice();
    const report = await tuneTiles(device, { visible: 37, hidden: 29, batch: 11 });
    for (const kernel of ['hidden', 'visible', 'update'] as const) {
      const times = report.timings[kernel];
      expect(Object.keys(times).length).toBe(TILE_CANDIDATES.filter((t) => tileFits(device, t)).length);
      // Subgroup tiles are among them where the device has the feature (both test adapters do).
      expect(Object.keys(times).some((name) => name.startsWith('subgroup'))).toBe(device.features.has('subgroups'));
      const best = Math.min(...Object.values(times));
      expect(times[tileName(report.choice[kernel])]).toBe(best);
    }
  });

  it('picks the fastest tile family, then tunes only within it', async () => {
    const device = await testDevice();
    const problem = { visible: 50, hidden: 40, batch: 30 };
    const report = await tuneReport(device, problem);
    const families = report.family!;
    const times = Object.values(families.timings);
    expect(times.length).toBe(device.features.has('subgroups') ? 3 : 2);
    expect(families.timings[families.family]).toBe(Math.min(...times));
    const members = TILE_CANDIDATES.filter((t) => tileFamily(t) === families.family);
    for (const kernel of ['hidden', 'visible', 'update'] as const) {
      expect(Object.keys(report.timings[kernel]).sort()).toEqual(members.map(tileName).sort());
      expect(tileFamily(report.choice[kernel])).toBe(families.family);
    }
    expect(await tuneReport(device, problem)).toBe(report);
    // The report lives in the device's context, keyed by the (capped) shape.
    const tiles = GpuContext.of(device).cache(TILE_CACHE);
    expect(tiles.keys()).toContain('50x40x30');
    expect(await tiles.get('50x40x30', () => Promise.reject(new Error('not cached')))).toBe(report);
  });

  it('tunes once per device and caches the choice', async () => {
    const device = await testDevice();
    const a = chooseTiles(device);
    const b = chooseTiles(device);
    expect(await a).toBe(await b);
  });
});
