// The Node entry point: the public API plus Dawn's WebGPU (the "webgpu" package).
export * from './index';
export { nodeGPU } from './gpu/node';
export { loadBundledMnistNode, readAssetNode } from './data/assets-node';
