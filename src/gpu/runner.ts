// The one runner for long GPU work: steps (updates, sweeps, β steps, chunks
// of states) encoded in chunks, one command buffer per chunk, with a bounded
// number of chunks queued on the GPU. Each chunk's completion is awaited
// racing device loss (a lost device is a DeviceLostError, never a hang);
// progress and checks run as each chunk settles; pause (a gate) and
// cancellation (a callback or an AbortSignal) are honoured between chunks.
//
//   const runner = new SubmitRunner(device, { depth: 2, settled: (c) => report(c) });
//   await runner.run({ total: K, chunk: 250, label: 'AIS', encode: (enc, first, n) => { … } });
//
// `steps` submits without waiting for the tail (a caller that reads results
// back first, then `drain`s); `run` is `steps` then `drain`.
import { assertDeviceAlive, raceLoss } from './lost';

/** A submitted chunk: steps [first, first + count) of a `steps` call, and what its encode returned. */
export interface SubmittedChunk<T> {
  first: number;
  count: number;
  /** Steps submitted by this runner so far, this chunk included (over all `steps` calls). */
  submitted: number;
  /** What `encode` returned for this chunk (e.g. a probe to read). */
  value: T;
}

export interface RunnerOptions<T> {
  /**
   * Chunks that may be queued on the GPU at once (default 2): after a submit,
   * the oldest chunks are awaited until fewer than `depth` remain, so with 2
   * the next chunk is always queued behind the one being waited for.
   */
  depth?: number;
  /**
   * Called in submission order once a chunk has run on the GPU (progress,
   * checks); an error it throws stops the run and rejects `steps` / `drain`.
   */
  settled?: (chunk: SubmittedChunk<T>) => void | Promise<void>;
}

export interface StepsOptions<T> {
  /** Steps to run. */
  total: number;
  /** Steps per command buffer, or a function of the steps done in this call (e.g. to stop on a boundary). */
  chunk: number | ((done: number) => number);
  /** Command encoder label, or a function of the chunk's steps. */
  label?: string | ((first: number, count: number) => string);
  /** Encodes steps [first, first + count) of this call into `encoder`; what it returns goes with the chunk. */
  encode: (encoder: GPUCommandEncoder, first: number, count: number) => T;
  /** Called right after the chunk's submit (e.g. to start mapping a readback the chunk wrote). */
  submitted?: (value: T) => void;
  /** Awaited before each chunk (pause). */
  gate?: () => Promise<void>;
  /** Checked before each chunk (after the gate): true stops the run. */
  cancelled?: () => boolean;
  /** Aborted: stops the run before the next chunk. */
  signal?: AbortSignal;
}

export interface StepsResult {
  /** Steps submitted by this call. */
  submitted: number;
  /** Whether the call stopped early on cancellation. */
  cancelled: boolean;
}

interface InFlight<T> {
  finished: Promise<void>;
  chunk: SubmittedChunk<T>;
}

export class SubmitRunner<T = void> {
  private readonly depth: number;
  private readonly queue: InFlight<T>[] = [];
  private total = 0;

  constructor(
    readonly device: GPUDevice,
    private readonly options: RunnerOptions<T> = {},
  ) {
    const depth = options.depth ?? 2;
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`runner depth must be a positive integer, got ${depth}`);
    this.depth = depth;
  }

  /** Chunks submitted and not yet settled. */
  get inFlight(): number {
    return this.queue.length;
  }

  /** Steps submitted in all. */
  get submitted(): number {
    return this.total;
  }

  /** Submits `total` steps in chunks, keeping at most `depth` chunks queued; does not wait for the last ones (see drain). */
  async steps(o: StepsOptions<T>): Promise<StepsResult> {
    let done = 0;
    while (done < o.total) {
      if (o.gate) await o.gate();
      if (o.cancelled?.() || o.signal?.aborted) return { submitted: done, cancelled: true };
      const wanted = typeof o.chunk === 'number' ? o.chunk : o.chunk(done);
      if (!Number.isInteger(wanted) || wanted < 1) throw new RangeError(`runner chunk must be a positive integer, got ${wanted}`);
      const count = Math.min(wanted, o.total - done);
      assertDeviceAlive(this.device);
      const label = typeof o.label === 'function' ? o.label(done, count) : o.label;
      const encoder = this.device.createCommandEncoder(label !== undefined ? { label } : undefined);
      const value = o.encode(encoder, done, count);
      this.device.queue.submit([encoder.finish()]);
      o.submitted?.(value);
      done += count;
      this.total += count;
      const finished = this.device.queue.onSubmittedWorkDone();
      finished.catch(() => undefined); // awaited when it settles, unless the run stops first
      this.queue.push({ finished, chunk: { first: done - count, count, submitted: this.total, value } });
      while (this.queue.length >= this.depth) await this.settleOne();
    }
    return { submitted: done, cancelled: false };
  }

  /** Waits for every submitted chunk, settling each in order. */
  async drain(): Promise<void> {
    while (this.queue.length > 0) await this.settleOne();
  }

  /** `steps` then `drain`. */
  async run(o: StepsOptions<T>): Promise<StepsResult> {
    const r = await this.steps(o);
    await this.drain();
    return r;
  }

  /**
   * After an error: waits for the chunks still queued to finish (or the
   * device to be lost) without settling them, so the caller may touch the
   * buffers they use. Never throws.
   */
  async abandon(): Promise<void> {
    for (const f of this.queue.splice(0)) await raceLoss(this.device, f.finished).catch(() => undefined);
  }

  private async settleOne(): Promise<void> {
    const f = this.queue.shift()!;
    await raceLoss(this.device, f.finished);
    await this.options.settled?.(f.chunk);
  }
}
