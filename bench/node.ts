// The benchmark host in Node: WebGPU through Dawn (lavapipe without a GPU).
// Loaded by run.mjs through Vite's ssrLoadModule, since src/ imports WGSL with ?raw.
import { nodeGPU } from '../src/gpu/node';
import { createHost, type BenchHost } from './core';

export function createNodeHost(): BenchHost {
  const gpu = nodeGPU();
  // tfjs-backend-webgpu looks for navigator.gpu; Node 20's own navigator is read-only.
  const userAgent = typeof navigator === 'undefined' ? 'node' : navigator.userAgent;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent }, configurable: true });
  return createHost(gpu, (line) => console.log(line));
}
