// GpuContext: everything the engine keeps per GPUDevice, in one object. The
// device, its limits and features, the adapter's name when the engine acquired
// it, loss watching, error scopes, the per-device caches (compiled pipelines,
// tile choices) and the bytes allocated through BufferOwner.
//
// GpuContext.of(device) is the one place a device maps to its context, so a
// caller that brings its own GPUDevice gets the same context (and caches) as
// one from acquireDevice. Nothing else in the engine keeps state per device.

/** The device is gone: thrown by every wait on it and by every use after the loss. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  /** Parameters read back after the last completed epoch, when training kept snapshots. */
  snapshot?: { epoch: number; W: Float32Array; b: Float32Array; c: Float32Array };
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(
      `the GPU device was lost (${reason}${detail ? `: ${detail}` : ''}). Its buffers are gone: ` +
        'acquire a new device and recreate the model (from a saved file or the last snapshot).',
    );
  }
}

/** A GPU error caught by GpuContext.withErrorScope. */
export class GpuScopeError extends Error {
  override name = 'GpuScopeError';
  constructor(
    readonly filter: GPUErrorFilter,
    readonly what: string,
    readonly gpuMessage: string,
  ) {
    super(`${what} raised a GPU ${filter} error: ${gpuMessage}`);
  }
}

/**
 * The key of one per-device cache, typed by what it holds. The module that
 * fills a cache owns its key (kernels.ts: PIPELINE_CACHE, tune.ts: TILE_CACHE).
 */
export class CacheKey<V> {
  /** Type only: ties the key to its value type. */
  declare readonly valueType?: (v: V) => V;
  constructor(readonly name: string) {}
}

/** Promises by string key, made once; a rejected promise is dropped so a later call tries again. */
export class PromiseCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  /** The cached promise for `key`, or `make()`'s, remembered. */
  get(key: string, make: () => Promise<V>): Promise<V> {
    let p = this.entries.get(key);
    if (!p) {
      const made = make();
      p = made;
      this.entries.set(key, made);
      // A failure must not poison the cache for later calls.
      made.catch(() => {
        if (this.entries.get(key) === made) this.entries.delete(key);
      });
    }
    return p;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  clear(): void {
    this.entries.clear();
  }
}

/** A device or its context: what the engine's GPU functions accept. */
export type DeviceLike = GPUDevice | GpuContext;

/** What the engine knows of a device beyond the device itself. */
export interface ContextInfo {
  /** The adapter's vendor / architecture / device / description, when the engine requested the device. */
  adapterName?: string;
}

interface Loss {
  reason: string;
  message: string;
}

const contexts = new WeakMap<GPUDevice, GpuContext>();

export class GpuContext {
  /** The device's context: made on first use, the same object afterwards. `info` fills in what is not known yet. */
  static of(device: GPUDevice, info: ContextInfo = {}): GpuContext {
    let ctx = contexts.get(device);
    if (!ctx) {
      ctx = new GpuContext(device);
      contexts.set(device, ctx);
    }
    if (info.adapterName !== undefined && ctx.adapterName === undefined) ctx.adapterName = info.adapterName;
    return ctx;
  }

  /** The adapter's name when the engine acquired the device (acquireDevice); undefined for a device brought in. */
  adapterName: string | undefined;
  private loss: Loss | undefined;
  private readonly whenLostPromise: Promise<void>;
  private readonly caches = new Map<CacheKey<unknown>, PromiseCache<unknown>>();
  private bytes = 0;
  private buffers = 0;
  private peak = 0;

  private constructor(readonly device: GPUDevice) {
    // Loss watching starts with the context: device.lost settles once, whenever the loss happened.
    this.whenLostPromise = device.lost.then((info) => {
      this.loss = { reason: info.reason ?? 'unknown', message: info.message ?? '' };
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  get features(): GPUSupportedFeatures {
    return this.device.features;
  }

  // ---- Device loss ----

  /** Whether the device has been lost (known once device.lost has settled). */
  get isLost(): boolean {
    return this.loss !== undefined;
  }

  /**
   * A new DeviceLostError describing the loss, or undefined while the device is alive.
   * Each call makes its own error, so what one caller attaches (a training
   * snapshot) never reaches another.
   */
  lostError(): DeviceLostError | undefined {
    return this.loss ? new DeviceLostError(this.loss.reason, this.loss.message) : undefined;
  }

  /** Resolves with a new DeviceLostError when the device is lost (never, while it lives). */
  whenLost(): Promise<DeviceLostError> {
    return this.whenLostPromise.then(() => this.lostError() as DeviceLostError);
  }

  /** Throws a DeviceLostError if the device has been lost. */
  assertAlive(): void {
    const e = this.lostError();
    if (e) throw e;
  }

  /** `work`, unless the device is lost first: then a DeviceLostError of this call's own. */
  async raceLoss<T>(work: Promise<T>): Promise<T> {
    const already = this.lostError();
    if (already) {
      work.catch(() => undefined);
      throw already;
    }
    const lost = this.whenLostPromise.then(() => Promise.reject(this.lostError()));
    try {
      return await Promise.race([work, lost]);
    } catch (e) {
      // A map or queue wait aborted by the loss reports as the loss.
      if (this.loss) throw e instanceof DeviceLostError ? e : this.lostError();
      throw e;
    } finally {
      lost.catch(() => undefined);
    }
  }

  // ---- Error scopes ----

  /**
   * Runs `fn` inside a pushed error scope and returns what it returned with the
   * GPU error the scope caught (null if none). The scope is popped as soon as
   * `fn` returns, so it covers the GPU calls `fn` makes synchronously (not any
   * made after an await), and concurrent scopes on the device never interleave.
   * An error `fn` throws is rethrown after the pop.
   */
  async captureErrors<T>(filter: GPUErrorFilter, fn: () => T): Promise<{ value: T; error: GPUError | null }> {
    this.assertAlive();
    this.device.pushErrorScope(filter);
    let value: T;
    try {
      value = fn();
    } catch (e) {
      this.device.popErrorScope().catch(() => undefined);
      throw e;
    }
    const error = await this.raceLoss(this.device.popErrorScope());
    return { value, error };
  }

  /**
   * Runs `fn` inside a pushed error scope (see captureErrors) and throws a
   * GpuScopeError naming `what` if the scope caught an error; else `fn`'s result.
   */
  async withErrorScope<T>(filter: GPUErrorFilter, fn: () => T, what = 'a GPU operation'): Promise<T> {
    const { value, error } = await this.captureErrors(filter, fn);
    if (error) throw new GpuScopeError(filter, what, error.message);
    return value;
  }

  // ---- Caches ----

  /** This device's cache for `key` (made empty on first use). */
  cache<V>(key: CacheKey<V>): PromiseCache<V> {
    let c = this.caches.get(key as CacheKey<unknown>);
    if (!c) {
      c = new PromiseCache<unknown>();
      this.caches.set(key as CacheKey<unknown>, c);
    }
    return c as PromiseCache<V>;
  }

  // ---- Buffer accounting (BufferOwner reports here) ----

  /** Bytes of GPU buffers currently allocated through BufferOwner on this device. */
  get allocatedBytes(): number {
    return this.bytes;
  }

  /** GPU buffers currently allocated through BufferOwner on this device. */
  get allocatedBuffers(): number {
    return this.buffers;
  }

  /** The most bytes allocated through BufferOwner at any one time on this device. */
  get peakAllocatedBytes(): number {
    return this.peak;
  }

  /** Records a buffer created (BufferOwner calls this). */
  noteAllocated(bytes: number): void {
    this.bytes += bytes;
    this.buffers++;
    if (this.bytes > this.peak) this.peak = this.bytes;
  }

  /** Records a buffer destroyed (BufferOwner calls this). */
  noteFreed(bytes: number): void {
    this.bytes -= bytes;
    this.buffers--;
  }
}

/** The context of a device or context. */
export function contextOf(d: DeviceLike): GpuContext {
  return d instanceof GpuContext ? d : GpuContext.of(d);
}

/** The device of a device or context. */
export function deviceOf(d: DeviceLike): GPUDevice {
  return d instanceof GpuContext ? d.device : d;
}
