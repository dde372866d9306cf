// One kernel dispatch in its own compute pass and submit (pipelines come from the per-device cache).
import { getKernel, type KernelSpec } from '../../src/gpu/kernels';

export async function dispatchOnce(device: GPUDevice, spec: KernelSpec, buffers: GPUBuffer[], x: number, y = 1): Promise<void> {
  const kernel = await getKernel(device, spec);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  kernel.dispatch(pass, kernel.bind(buffers), x, y);
  pass.end();
  device.queue.submit([encoder.finish()]);
}
