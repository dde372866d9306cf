// Device loss surfaced as an error, never a hang: every device the engine
// touches is watched, and waits on the GPU race against its loss.

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

interface LossState {
  lost?: DeviceLostError;
  promise: Promise<DeviceLostError>;
}

const states = new WeakMap<GPUDevice, LossState>();

function state(device: GPUDevice): LossState {
  let s = states.get(device);
  if (!s) {
    const fresh: LossState = {
      promise: device.lost.then((info) => {
        fresh.lost = new DeviceLostError(info.reason ?? 'unknown', info.message ?? '');
        return fresh.lost;
      }),
    };
    states.set(device, fresh);
    s = fresh;
  }
  return s;
}

/** Starts watching `device` (idempotent). */
export function watchDevice(device: GPUDevice): void {
  state(device);
}

/** Throws DeviceLostError if `device` has been lost. */
export function assertDeviceAlive(device: GPUDevice): void {
  const lost = state(device).lost;
  if (lost) throw lost;
}

/** `work`, unless the device is lost first: then a DeviceLostError. */
export async function raceLoss<T>(device: GPUDevice, work: Promise<T>): Promise<T> {
  const s = state(device);
  if (s.lost) {
    work.catch(() => undefined);
    throw s.lost;
  }
  const lost = s.promise.then((e) => Promise.reject(e));
  try {
    return await Promise.race([work, lost]);
  } catch (e) {
    // A map or queue wait aborted by the loss reports as the loss.
    if (s.lost) throw s.lost;
    throw e;
  } finally {
    lost.catch(() => undefined);
  }
}
