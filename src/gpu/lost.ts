// Device loss surfaced as an error, never a hang: every device the engine
// touches is watched (by its GpuContext), and waits on the GPU race against
// its loss. These functions are the device-taking forms of GpuContext's
// assertAlive / raceLoss; each throws a DeviceLostError of its own.
import { contextOf, type DeviceLike } from './context';

export { DeviceLostError } from './context';

/** Starts watching `device` (idempotent: its GpuContext watches from creation). */
export function watchDevice(device: DeviceLike): void {
  contextOf(device);
}

/** Throws a (new) DeviceLostError if `device` has been lost. */
export function assertDeviceAlive(device: DeviceLike): void {
  contextOf(device).assertAlive();
}

/** `work`, unless the device is lost first: then a DeviceLostError of this call's own. */
export function raceLoss<T>(device: DeviceLike, work: Promise<T>): Promise<T> {
  return contextOf(device).raceLoss(work);
}
