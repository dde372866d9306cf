// One kernel dispatch in its own compute pass and submit (pipelines come from the per-device cache).
import { getKernel, type Bindings, type BoundBuffers, type KernelSpec, type Uniforms } from '../../src/gpu/kernels';

export async function dispatchOnce<B extends Bindings, U extends Uniforms>(
  device: GPUDevice,
  spec: KernelSpec<B, U>,
  buffers: BoundBuffers<B>,
  x: number,
  y = 1,
): Promise<void> {
  const kernel = await getKernel(device, spec);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  kernel.dispatch(pass, kernel.bind(buffers), x, y);
  pass.end();
  device.queue.submit([encoder.finish()]);
}
