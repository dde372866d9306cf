// Device acquisition that works with any WebGPU implementation: the browser's
// navigator.gpu, Dawn's GPU object in Node (see ./node.ts), or a device the
// caller already owns (GpuContext.of(device) gives such a device its context).
import { GpuContext } from './context';

export class WebGPUUnavailableError extends Error {
  override name = 'WebGPUUnavailableError';
}

/** Limits we ask for above the WebGPU defaults when the adapter allows them. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;

export interface DeviceRequest {
  /** The GPU entry point; defaults to `navigator.gpu`. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapterName: string;
  /** The device's context (the same object GpuContext.of(device) returns), adapter name filled in. */
  context: GpuContext;
}

function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
  return parts.length > 0 ? parts.join(' / ') : 'unknown adapter';
}

/** Requests an adapter and a device with the limits this engine benefits from. */
export async function acquireDevice(request: DeviceRequest = {}): Promise<AcquiredDevice> {
  const gpu =
    request.gpu ?? (typeof navigator !== 'undefined' ? (navigator as Navigator).gpu : undefined);
  if (!gpu) {
    throw new WebGPUUnavailableError(
      'WebGPU is not available: navigator.gpu is undefined. Use a browser with WebGPU enabled ' +
        '(Chrome/Edge 113+, or start Chromium with --enable-unsafe-webgpu) served from https or ' +
        'localhost, or in Node pass the GPU from nodeGPU() (the "webgpu" package, Dawn).',
    );
  }
  const adapter = await gpu.requestAdapter(
    request.powerPreference ? { powerPreference: request.powerPreference } : undefined,
  );
  if (!adapter) {
    throw new WebGPUUnavailableError(
      'WebGPU is present but no adapter was found. In Node on Linux install a Vulkan driver Dawn ' +
        'accepts (Mesa >= 24 lavapipe, e.g. mesa-vulkan-drivers from bookworm-backports) and set ' +
        'VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json; in Chromium pass ' +
        '--enable-unsafe-webgpu (and --use-webgpu-adapter=swiftshader without a GPU).',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures: GPUFeatureName[] = [];
  // Both optional: timestamps for profiling, subgroups for the subgroup GEMM tiles.
  for (const f of ['timestamp-query', 'subgroups'] as const) {
    if (adapter.features.has(f)) requiredFeatures.push(f);
  }
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const adapterName = describeAdapter(adapter);
  return { device, adapterName, context: GpuContext.of(device, { adapterName }) };
}
