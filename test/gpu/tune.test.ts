import { describe, expect, it } from 'vitest';
import { chooseTiles, TILE_CANDIDATES, tileFits, tuneTiles } from '../../src/gpu/tune';
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

  it('tunes once per device and caches the choice', async () => {
    const device = await testDevice();
    const a = chooseTiles(device);
    const b = chooseTiles(device);
    expect(await a).toBe(await b);
  });
});
