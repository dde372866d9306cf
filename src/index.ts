// The public API of webgpu-rbm. Everything else is internal.
export { acquireDevice, WebGPUUnavailableError } from './gpu/device';
export type { AcquiredDevice, DeviceRequest } from './gpu/device';
export { DeviceLimitError, DisposedError } from './gpu/buffers';
export type { TileShape } from './gpu/kernels';
export { RBM } from './rbm/model';
export type { RBMOptions, RBMParamsF32 } from './rbm/model';
export { CDTrainer } from './rbm/trainer';
export type { TrainerOptions, Hyperparameters } from './rbm/trainer';
