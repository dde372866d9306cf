import { describe, expect, it } from 'vitest';
import { acquireDevice, WebGPUUnavailableError } from '../../src/gpu/device';
import { testDevice, testRuntime } from '../helpers/device';

describe('device acquisition', () => {
  it('finds a real WebGPU adapter in this test project (fails, never skips, without one)', async () => {
    const device = await testDevice();
    expect(device.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(['node', 'browser']).toContain(testRuntime());
  });

  it('says what is missing when there is no GPU object', async () => {
    if (testRuntime() === 'node') {
      // Node 20 has no navigator.gpu: the error must say how to get WebGPU.
      await expect(acquireDevice()).rejects.toThrow(WebGPUUnavailableError);
      await expect(acquireDevice()).rejects.toThrow(/navigator\.gpu is undefined/);
    }
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireDevice({ gpu: noAdapter })).rejects.toThrow(/no adapter was found.*VK_ICD_FILENAMES/s);
  });
});
