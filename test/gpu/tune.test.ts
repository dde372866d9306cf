import { describe, expect, it } from 'vitest';
import { chooseFamily, chooseTiles, TILE_CANDIDATES, tileFamily, tileFits, tuneTiles } from '../../src/gpu/tune';
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

  it('picks the fastest tile family once per device and tunes shapes within it', async () => {
    const device = await testDevice();
    const families = await chooseFamily(device);
    expect(await chooseFamily(device)).toBe(families);
    const times = Object.values(families.timings);
    expect(times.length).toBe(device.features.has('subgroups') ? 3 : 2);
    expect(families.timings[families.family]).toBe(Math.min(...times));
    const choice = await chooseTiles(device, { visible: 50, hidden: 40, batch: 30 });
    for (const tile of Object.values(choice)) expect(tileFamily(tile)).toBe(families.family);
  });

  it('tunes once per device and caches the choice', async () => {
    const device = await testDevice();
    const a = chooseTiles(device);
    const b = chooseTiles(device);
    expect(await a).toBe(await b);
  });
});
