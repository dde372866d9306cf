// The frame of every command that reads a saved model and runs it on the GPU
// (eval, sample, transform, classify, inpaint): device, signal guard, model,
// and their release in reverse order however the command ends.
import type { LoadedModel } from '../index';
import { loadModel } from './files';
import { openDevice } from './gpu-node';
import type { CliDevice } from './gpu-node';
import type { Reporter } from './output';
import { SignalGuard } from './signals';

/**
 * Opens the device, loads `bytes` (read from `path` before any GPU work) onto
 * it and runs `body`. These commands write nothing half-done (their outputs
 * are atomic), so a signal quits at once.
 */
export async function withModelOnGpu<T>(
  path: string,
  bytes: Uint8Array,
  out: Reporter,
  body: (gpu: CliDevice, loaded: LoadedModel) => Promise<T>,
): Promise<T> {
  const gpu = await openDevice();
  const guard = new SignalGuard('now', (line) => out.warn(line), () => gpu.close());
  try {
    const loaded = loadModel(gpu.device, path, bytes);
    try {
      return await body(gpu, loaded);
    } finally {
      loaded.model.dispose();
    }
  } finally {
    guard.dispose();
    gpu.close();
  }
}
