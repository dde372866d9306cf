// The CLI's GPU: Dawn through the npm "webgpu" package. Dawn rejects the old
// Vulkan drivers some distributions ship, so on a machine with no GPU device
// node we point the Vulkan loader at Mesa's lavapipe (CPU) when it is
// installed and the user has not chosen a driver themselves.
import { existsSync, readdirSync } from 'node:fs';
import { acquireDevice, nodeGPU, WebGPUUnavailableError } from '../node';
import type { AcquiredDevice } from '../node';
import { CliError } from './errors';
import { writeStderr } from './output';

const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

function hasGpuDeviceNode(): boolean {
  if (existsSync('/dev/nvidiactl')) return true;
  try {
    return readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  } catch {
    return false;
  }
}

/** Must run before Dawn's GPU object is created: the Vulkan loader reads it once. */
export function chooseVulkanDriver(): void {
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return;
  if (existsSync(LAVAPIPE_ICD) && !hasGpuDeviceNode()) process.env.VK_ICD_FILENAMES = LAVAPIPE_ICD;
}

export interface CliDevice {
  device: GPUDevice;
  adapterName: string;
  /** Destroys the device; safe to call twice. */
  close(): void;
}

/** A WebGPU device, or a CliError explaining how to get one. */
export async function openDevice(): Promise<CliDevice> {
  chooseVulkanDriver();
  let acquired: AcquiredDevice;
  try {
    acquired = await acquireDevice({ gpu: nodeGPU() });
  } catch (e) {
    if (e instanceof WebGPUUnavailableError) throw new CliError(e.message);
    throw e;
  }
  const { device, adapterName } = acquired;
  // Validation errors are otherwise silent; a CLI run should say so.
  device.addEventListener('uncapturederror', (e) => {
    writeStderr(`webgpu-rbm: WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}\n`);
  });
  let closed = false;
  return {
    device,
    adapterName,
    close: () => {
      if (closed) return;
      closed = true;
      device.destroy();
    },
  };
}
