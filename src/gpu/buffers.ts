import { assertDeviceAlive, raceLoss } from './lost';

// GPU buffers with an owner: every buffer a component makes is registered in
// its BufferOwner and released by one dispose(). Sizes are checked against the
// device's limits before WebGPU sees them, so the error names the limit.

export class DeviceLimitError extends RangeError {
  override name = 'DeviceLimitError';
}

export class DisposedError extends Error {
  override name = 'DisposedError';
}

const STORAGE = GPUBufferUsageFlags();

function GPUBufferUsageFlags(): { storage: number; uniform: number } {
  // Resolved lazily: in Node the GPUBufferUsage global exists only after nodeGPU().
  return {
    get storage() {
      return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    },
    get uniform() {
      return GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    },
  };
}

/** Throws a DeviceLimitError if a storage binding of `bytes` would not fit this device. */
export function checkStorageSize(device: GPUDevice, label: string, bytes: number): void {
  const binding = device.limits.maxStorageBufferBindingSize;
  const buffer = device.limits.maxBufferSize;
  const limit = Math.min(binding, buffer);
  if (bytes > limit) {
    const which = binding <= buffer ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
    throw new DeviceLimitError(
      `${label} needs ${bytes} bytes but this device's ${which} is ${limit} bytes; ` +
        'use a smaller model or batch size, or a device with larger limits.',
    );
  }
}

export class BufferOwner {
  /** GPU buffers alive in all owners of this process (leak checks, soak tests). */
  static live = 0;
  private readonly buffers = new Set<GPUBuffer>();
  private disposed = false;

  constructor(
    readonly device: GPUDevice,
    readonly label: string,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  get liveBuffers(): number {
    return this.buffers.size;
  }

  assertLive(): void {
    if (this.disposed) {
      throw new DisposedError(`${this.label} has been disposed; create a new one.`);
    }
    assertDeviceAlive(this.device);
  }

  /** A storage buffer (copyable both ways), zero-filled or holding `data`. */
  storage(label: string, sizeOrData: number | Float32Array | Uint32Array): GPUBuffer {
    this.assertLive();
    const bytes = typeof sizeOrData === 'number' ? sizeOrData : sizeOrData.byteLength;
    checkStorageSize(this.device, `${this.label}/${label}`, bytes);
    const buffer = this.device.createBuffer({
      label: `${this.label}/${label}`,
      size: Math.max(16, align4(bytes)),
      usage: STORAGE.storage,
      mappedAtCreation: typeof sizeOrData !== 'number',
    });
    if (typeof sizeOrData !== 'number') {
      const Ctor = sizeOrData instanceof Float32Array ? Float32Array : Uint32Array;
      new Ctor(buffer.getMappedRange(0, bytes)).set(sizeOrData);
      buffer.unmap();
    }
    this.track(buffer);
    return buffer;
  }

  private track(buffer: GPUBuffer): void {
    this.buffers.add(buffer);
    BufferOwner.live++;
  }

  /** A uniform buffer initialised from `data` (rounded up to 16 bytes). */
  uniform(label: string, data: ArrayBuffer): GPUBuffer {
    this.assertLive();
    const buffer = this.device.createBuffer({
      label: `${this.label}/${label}`,
      size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
      usage: STORAGE.uniform,
      mappedAtCreation: true,
    });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data));
    buffer.unmap();
    this.track(buffer);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (this.buffers.delete(buffer)) {
      buffer.destroy();
      BufferOwner.live--;
    }
  }

  dispose(): void {
    for (const b of this.buffers) b.destroy();
    BufferOwner.live -= this.buffers.size;
    this.buffers.clear();
    this.disposed = true;
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** Packs a uniform struct of 32-bit fields: integers as u32, tagged floats as f32. */
export function packUniform(fields: ReadonlyArray<number | { f32: number }>): ArrayBuffer {
  const data = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(data);
  fields.forEach((field, i) => {
    if (typeof field === 'number') view.setUint32(i * 4, field >>> 0, true);
    else view.setFloat32(i * 4, field.f32, true);
  });
  return data;
}

/** Copies `byteLength` bytes of a GPU buffer back to the CPU (the only readback path). */
export async function readBuffer(
  device: GPUDevice,
  source: GPUBuffer,
  byteLength = source.size,
  offset = 0,
): Promise<ArrayBuffer> {
  const size = align4(byteLength);
  const staging = device.createBuffer({
    label: 'readback',
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(source, offset, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    await raceLoss(device, staging.mapAsync(GPUMapMode.READ));
    return staging.getMappedRange(0, byteLength).slice(0);
  } finally {
    staging.destroy();
  }
}

export async function readFloat32(device: GPUDevice, source: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, source, count * 4, offset * 4));
}

/** queue.writeBuffer for any typed array (SharedArrayBuffer-backed ones included). */
export function writeArray(
  device: GPUDevice,
  target: GPUBuffer,
  byteOffset: number,
  data: Float32Array | Uint32Array,
): void {
  device.queue.writeBuffer(target, byteOffset, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
}
