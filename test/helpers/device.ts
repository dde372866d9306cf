// One device per test file, from whichever WebGPU the project's setup file installed.
import { acquireDevice, type AcquiredDevice } from '../../src/gpu/device';

export type TestRuntime = 'node' | 'browser';

let gpu: GPU | undefined;
let runtime: TestRuntime = 'node';
let acquired: Promise<AcquiredDevice> | undefined;
const gpuErrors: string[] = [];

export function setTestGPU(g: GPU | undefined, where: TestRuntime): void {
  gpu = g;
  runtime = where;
}

export function testRuntime(): TestRuntime {
  return runtime;
}

/** The shared test device; a missing adapter fails the test with the reason, never skips it. */
export function testDevice(): Promise<GPUDevice> {
  if (!acquired) {
    if (!gpu) {
      return Promise.reject(
        new Error(`No WebGPU in the ${runtime} test project: the setup file found no GPU object.`),
      );
    }
    acquired = acquireDevice({ gpu }).then((a) => {
      // Validation errors are otherwise silent: collect them so the test fails.
      a.device.addEventListener('uncapturederror', (e) => {
        gpuErrors.push((e as GPUUncapturedErrorEvent).error.message);
      });
      return a;
    });
  }
  return acquired.then((a) => a.device);
}

/** WebGPU errors raised since the last call, after the queue has drained. */
export async function takeGPUErrors(): Promise<string[]> {
  if (acquired) await (await acquired).device.queue.onSubmittedWorkDone();
  return gpuErrors.splice(0);
}

/** A device of its own, for tests that destroy it. */
export async function freshDevice(): Promise<GPUDevice> {
  if (!gpu) throw new Error(`No WebGPU in the ${runtime} test project.`);
  return (await acquireDevice({ gpu })).device;
}
