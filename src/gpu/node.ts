// Node entry point to WebGPU through Dawn (the npm "webgpu" package).
import { create, globals } from 'webgpu';

// Dawn's GPU object must outlive every adapter and device made from it:
// if it is garbage-collected the process later dies in native code.
let dawnGPU: GPU | undefined;

/** Dawn's GPU object (created once per process), with the WebGPU globals installed. */
export function nodeGPU(flags: string[] = []): GPU {
  if (!dawnGPU) {
    Object.assign(globalThis, globals);
    dawnGPU = create(flags);
  }
  return dawnGPU;
}
