import { contextOf, deviceOf, type DeviceLike, type GpuContext } from './context';

// GPU buffers with an owner: every buffer a component makes is registered in
// its BufferOwner and released by one dispose(). Sizes are checked against the
// device's limits before WebGPU sees them, so the error names the limit. The
// bytes each owner holds are reported to its device's GpuContext.

export class DeviceLimitError extends RangeError {
  override name = 'DeviceLimitError';
  constructor(
    message: string,
    /** Set when the size is a product of counts the caller chose: what each is and which option sets it. */
    readonly size?: SizeLimit,
  ) {
    super(message);
  }
}

/** A host-side array that would exceed the host memory budget (see setHostMemoryBudget). */
export class HostMemoryError extends RangeError {
  override name = 'HostMemoryError';
  constructor(
    message: string,
    readonly size?: SizeLimit,
  ) {
    super(message);
  }
}

/** One factor of a derived size: a count, what it counts, and the option that sets it (if any). */
export interface SizeFactor {
  value: number;
  /** What one unit is ("visible units", "kept steps"), shown after the value; omit it for an option's own value. */
  what?: string;
  /** The caller's option that sets this count (library name: "chains", "keepEvery"). */
  option?: string;
  /** True when raising the option lowers the count (keepEvery → kept steps). */
  raise?: boolean;
  /** The option's value as given, when the count differs from it (K β steps are K + 1 values). */
  given?: number;
}

/** A size that failed a check, with what it is made of, so a caller can name its own flags. */
export interface SizeLimit {
  kind: 'gpu' | 'host';
  /** What the buffer or array holds. */
  label: string;
  bytes: number;
  limit: number;
  factors: SizeFactor[];
}

/** Bytes for messages: 627 MB, 1.07 GB, 512 bytes (decimal units, 3 significant digits). */
export function formatBytes(n: number): string {
  const units: Array<[number, string]> = [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']];
  for (const [u, name] of units) if (n >= u) return `${Number((n / u).toPrecision(3))} ${name}`;
  return `${n} bytes`;
}

/**
 * One line for a failed size check: "chains 20000 × replicas 10 × 784 visible units
 * needs 627 MB of GPU storage (…) but this device allows 134 MB per buffer; lower
 * chains or replicas". `name` maps an option to how the caller spells it (a CLI flag).
 */
export function describeSizeLimit(s: SizeLimit, name: (option: string) => string = (o) => o): string {
  // An option's own value reads "--chains 20000"; a count derived from options reads "50 kept steps".
  const parts = s.factors.map((f) => (f.option && f.what === undefined ? `${name(f.option)} ${f.given ?? f.value}` : `${f.value} ${f.what ?? ''}`.trim()));
  const options = (raise: boolean): string[] => [
    ...new Set(s.factors.filter((f) => f.option && !!f.raise === raise).map((f) => name(f.option as string))),
  ];
  const [raise, lower] = [options(true), options(false)];
  const fixes = [...(raise.length ? [`raise ${raise.join(' or ')}`] : []), ...(lower.length ? [`lower ${lower.join(' or ')}`] : [])];
  const where = s.kind === 'gpu' ? 'GPU storage' : 'host memory';
  const allowed = s.kind === 'gpu' ? `this device allows ${formatBytes(s.limit)} per buffer` : `the host memory budget is ${formatBytes(s.limit)}`;
  const fix = fixes.length > 0 ? fixes.join(' or ') : 'use a smaller model';
  return `${parts.join(' × ')} needs ${formatBytes(s.bytes)} of ${where} (${s.label}) but ${allowed}; ${fix}`;
}

/** The most bytes one storage buffer binding may hold on `device`, and the limit's name. */
export function storageLimit(device: GPUDevice): { bytes: number; name: string } {
  const binding = device.limits.maxStorageBufferBindingSize;
  const buffer = device.limits.maxBufferSize;
  return binding <= buffer ? { bytes: binding, name: 'maxStorageBufferBindingSize' } : { bytes: buffer, name: 'maxBufferSize' };
}

function productOf(factors: SizeFactor[], bytesPerElement: number): number {
  return factors.reduce((p, f) => p * f.value, bytesPerElement);
}

/**
 * Throws a DeviceLimitError (before anything is allocated) if one storage buffer
 * of factors × bytesPerElement bytes would not fit this device; the error names
 * the options to lower.
 */
export function checkStorageFactors(device: GPUDevice, label: string, factors: SizeFactor[], bytesPerElement = 4): void {
  const bytes = productOf(factors, bytesPerElement);
  const { bytes: limit, name } = storageLimit(device);
  if (bytes > limit) {
    const size: SizeLimit = { kind: 'gpu', label, bytes, limit, factors };
    throw new DeviceLimitError(`${describeSizeLimit(size)} (${name})`, size);
  }
}

let hostBudget = 2 ** 30;

/** The most bytes one call may allocate on the host for derived arrays (default 1 GiB). */
export function hostMemoryBudget(): number {
  return hostBudget;
}

/** Sets the host memory budget (e.g. a fraction of the machine's memory in a CLI). */
export function setHostMemoryBudget(bytes: number): void {
  if (!Number.isFinite(bytes) || bytes <= 0) throw new RangeError(`the host memory budget must be a positive number of bytes, got ${bytes}`);
  hostBudget = bytes;
}

/** Throws a HostMemoryError if factors × bytesPerElement bytes exceed the host memory budget. */
export function checkHostFactors(label: string, factors: SizeFactor[], bytesPerElement = 4): void {
  const bytes = productOf(factors, bytesPerElement);
  if (bytes > hostBudget) {
    const size: SizeLimit = { kind: 'host', label, bytes, limit: hostBudget, factors };
    throw new HostMemoryError(describeSizeLimit(size), size);
  }
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
  readonly device: GPUDevice;
  /** The device's context, which counts the bytes this owner holds. */
  readonly context: GpuContext;
  private readonly buffers = new Set<GPUBuffer>();
  private disposed = false;

  constructor(
    device: DeviceLike,
    readonly label: string,
  ) {
    this.device = deviceOf(device);
    this.context = contextOf(device);
  }

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
    this.context.assertAlive();
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
    this.context.noteAllocated(buffer.size);
  }

  /** Bytes of the buffers this owner holds. */
  get liveBytes(): number {
    let n = 0;
    for (const b of this.buffers) n += b.size;
    return n;
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
      this.context.noteFreed(buffer.size);
      buffer.destroy();
      BufferOwner.live--;
    }
  }

  dispose(): void {
    for (const b of this.buffers) {
      this.context.noteFreed(b.size);
      b.destroy();
    }
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
  gpu: DeviceLike,
  source: GPUBuffer,
  byteLength = source.size,
  offset = 0,
): Promise<ArrayBuffer> {
  const device = deviceOf(gpu);
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
    await contextOf(gpu).raceLoss(staging.mapAsync(GPUMapMode.READ));
    return staging.getMappedRange(0, byteLength).slice(0);
  } finally {
    staging.destroy();
  }
}

export async function readFloat32(device: DeviceLike, source: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
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
