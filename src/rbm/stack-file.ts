// The stacked-RBM (deep belief net) file: one safetensors file holding every
// layer's float32 tensors under a layer prefix, bottom first:
//   layer0.W [n0, n1], layer0.b [n0], layer0.c [n1], layer1.W [n1, n2], …
// and metadata
//   format        "webgpu-rbm-stack"
//   stack_version "1"  (STACK_FILE_VERSION; a newer file is refused by name)
//   layers        the unit counts bottom to top, "n0,n1,…,nL" (L ≥ 1 RBMs)
//   visible       the bottom layer's unit type ("bernoulli", default, or "gaussian");
//                 every layer above is binary (it sees the one below's P(h|v))
//   layer_metadata (optional) a JSON array of L objects of strings: each layer's
//                 own training record
// plus, as in a single-RBM file (model-file.ts), width/height, seed and a
// Gaussian bottom layer's standardize_mean / standardize_std. Every other key is
// free-form. A single-RBM file (tensors W, b, c) is a different schema and
// keeps its meaning; `stackFromSafetensors` reads it as a one-layer stack.
// Environment-neutral: no Node built-ins.
import { decodeSafetensors, encodeSafetensors, safetensorsShapes, SafetensorsFormatError, type Tensor } from './safetensors';
import {
  MODEL_KEYS, rbmFromSafetensors, readImageShape, readModelStandardisation, standardisationMetadata,
  type ImageShape, type ModelStandardisation,
} from './model-file';

const fail = (msg: string): never => {
  throw new SafetensorsFormatError(msg);
};

/** The value of metadata "format" in a stack file. */
export const STACK_FILE_FORMAT = 'webgpu-rbm-stack';
/** The stack file version this code writes and the newest it reads. */
export const STACK_FILE_VERSION = 1;

/** The metadata keys of a stack file (besides the single-RBM keys it shares: visible, width, height, seed, standardize_*). */
export const STACK_KEYS = {
  format: 'format',
  version: 'stack_version',
  layers: 'layers',
  layerMetadata: 'layer_metadata',
} as const;

/** The unit types a stack's bottom layer may have (every layer above is Bernoulli). */
export type StackVisibleType = 'bernoulli' | 'gaussian';

/** One layer's parameters: W [visible, hidden] row-major, b [visible], c [hidden]. */
export interface StackLayerParams {
  W: Float32Array;
  b: Float32Array;
  c: Float32Array;
}

export interface StackParameters {
  /** Unit counts bottom to top: sizes[l] × sizes[l + 1] is layer l's W. At least two entries. */
  sizes: number[];
  layers: StackLayerParams[];
  visibleType?: StackVisibleType;
  /** File-level metadata (free-form, plus the shared keys). The schema's own keys are set from the other fields. */
  metadata?: Record<string, string>;
  /** Each layer's own record (written as layer_metadata); one object per layer when given. */
  layerMetadata?: Record<string, string>[];
  /** A Gaussian bottom layer's standardisation. */
  standardisation?: { mean: Float32Array; std: Float32Array };
}

export interface StackFile {
  sizes: number[];
  layers: { W: Float32Array<ArrayBuffer>; b: Float32Array<ArrayBuffer>; c: Float32Array<ArrayBuffer> }[];
  visibleType: StackVisibleType;
  metadata: Record<string, string>;
  /** One object per layer (empty objects when the file has no layer_metadata). */
  layerMetadata: Record<string, string>[];
  standardisation?: ModelStandardisation;
  imageShape?: ImageShape;
  /** True when the file was a single-RBM file (tensors W, b, c) read as a one-layer stack. */
  singleRbm: boolean;
}

const tensorName = (layer: number, t: 'W' | 'b' | 'c'): string => `layer${layer}.${t}`;

/**
 * Whether `bytes` look like a stack file: the header (read alone, nothing
 * decoded) names a tensor "layer0.W". Malformed files return false here and
 * are reported by whichever reader is used.
 */
export function isStackSafetensors(bytes: Uint8Array): boolean {
  return Object.hasOwn(safetensorsShapes(bytes), tensorName(0, 'W'));
}

/** The unit counts "784,256,256" of metadata "layers", checked. */
export function parseLayerSizes(text: string | undefined): number[] {
  if (text === undefined) return fail(`metadata has no "${STACK_KEYS.layers}"; a stack file lists its unit counts bottom to top, e.g. "784,256,256".`);
  const parts = text.split(',');
  const sizes = parts.map((p) => (/^\s*[1-9]\d{0,9}\s*$/.test(p) ? Number(p) : NaN));
  const bad = sizes.findIndex((n) => !Number.isSafeInteger(n));
  if (bad >= 0) fail(`metadata "${STACK_KEYS.layers}" is ${JSON.stringify(text)}: entry ${bad} (${JSON.stringify(parts[bad])}) is not a positive integer.`);
  if (sizes.length < 2) fail(`metadata "${STACK_KEYS.layers}" is ${JSON.stringify(text)}: a stack needs at least two unit counts (visible and one hidden layer).`);
  return sizes;
}

function checkSizes(sizes: unknown): asserts sizes is number[] {
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((n) => Number.isSafeInteger(n) && (n as number) >= 1)) {
    fail(`sizes must be at least two positive integers (visible, then each hidden layer), got ${JSON.stringify(sizes)}.`);
  }
}

/** Serializes a stack: layer-prefixed tensors and the schema's metadata (see the top of this file). */
export function stackToSafetensors(p: StackParameters): Uint8Array {
  checkSizes(p.sizes);
  const L = p.sizes.length - 1;
  if (!Array.isArray(p.layers) || p.layers.length !== L) {
    fail(`sizes ${p.sizes.join(',')} describe ${L} layer(s) but ${Array.isArray(p.layers) ? p.layers.length : 'no'} layer parameters were given.`);
  }
  const visibleType = p.visibleType ?? 'bernoulli';
  if (visibleType !== 'bernoulli' && visibleType !== 'gaussian') fail(`visibleType must be "bernoulli" or "gaussian", got ${JSON.stringify(visibleType)}.`);
  if (p.standardisation !== undefined && visibleType !== 'gaussian') fail('a standardisation is written for a Gaussian bottom layer only.');
  if (p.layerMetadata !== undefined && p.layerMetadata.length !== L) {
    fail(`layerMetadata has ${p.layerMetadata.length} entries for ${L} layer(s); give one object per layer.`);
  }
  const tensors: Record<string, Tensor> = {};
  p.layers.forEach((layer, l) => {
    const [V, H] = [p.sizes[l], p.sizes[l + 1]];
    const put = (t: 'W' | 'b' | 'c', data: Float32Array, shape: number[]): void => {
      const n = shape.reduce((a, b) => a * b, 1);
      if (!(data instanceof Float32Array) || data.length !== n) {
        fail(`layer ${l} ${t} has ${data?.length} values; shape [${shape.join(', ')}] needs ${n}.`);
      }
      tensors[tensorName(l, t)] = { shape, data };
    };
    put('W', layer.W, [V, H]);
    put('b', layer.b, [V]);
    put('c', layer.c, [H]);
  });
  const metadata: Record<string, string> = {
    [STACK_KEYS.format]: STACK_FILE_FORMAT,
    [STACK_KEYS.version]: String(STACK_FILE_VERSION),
    [STACK_KEYS.layers]: p.sizes.join(','),
    [MODEL_KEYS.visible]: visibleType,
  };
  for (const [k, v] of Object.entries(p.metadata ?? {})) {
    if (Object.hasOwn(metadata, k) && metadata[k] !== v) fail(`metadata "${k}" is set by the stack schema (${JSON.stringify(metadata[k])}); leave it out.`);
    metadata[k] = v;
  }
  if (p.standardisation) Object.assign(metadata, standardisationMetadata(p.standardisation, p.sizes[0]));
  if (p.layerMetadata !== undefined) metadata[STACK_KEYS.layerMetadata] = JSON.stringify(p.layerMetadata);
  return encodeSafetensors(tensors, metadata);
}

function parseLayerMetadata(text: string | undefined, L: number): Record<string, string>[] {
  if (text === undefined) return Array.from({ length: L }, () => ({}));
  let a: unknown;
  try {
    a = JSON.parse(text);
  } catch {
    return fail(`metadata "${STACK_KEYS.layerMetadata}" is not JSON; expected an array of ${L} objects of strings.`);
  }
  if (!Array.isArray(a) || a.length !== L) {
    fail(`metadata "${STACK_KEYS.layerMetadata}" must be a JSON array of ${L} objects (one per layer), got ${Array.isArray(a) ? `${a.length} entries` : typeof a}.`);
  }
  return (a as unknown[]).map((o, l) => {
    if (o === null || typeof o !== 'object' || Array.isArray(o) || !Object.values(o).every((v) => typeof v === 'string')) {
      return fail(`metadata "${STACK_KEYS.layerMetadata}" entry ${l} must be an object of strings.`);
    }
    return { ...(o as Record<string, string>) };
  });
}

/**
 * Reads a stack file, checking it whole: format and version, the layer sizes
 * against every tensor's shape, no tensor missing or left over, finite values,
 * the bottom unit type and its standardisation. Every problem is a
 * SafetensorsFormatError naming the key or tensor. A single-RBM file (W, b, c)
 * is read as a one-layer stack (`singleRbm: true`).
 */
export function stackFromSafetensors(bytes: Uint8Array): StackFile {
  if (!isStackSafetensors(bytes)) {
    const shapes = safetensorsShapes(bytes);
    if (Object.hasOwn(shapes, 'W')) {
      const f = rbmFromSafetensors(bytes);
      const unit = f.visibleType;
      if (unit !== 'bernoulli' && unit !== 'gaussian') {
        return fail(`a stack's bottom layer must have bernoulli or gaussian visible units; this model's are ${unit}.`);
      }
      return {
        sizes: [f.visible, f.hidden], layers: [{ W: f.W, b: f.b, c: f.c }], visibleType: unit, metadata: f.metadata,
        layerMetadata: [{ ...f.metadata }], singleRbm: true,
        ...(f.standardisation ? { standardisation: f.standardisation } : {}),
        ...(f.imageShape ? { imageShape: f.imageShape } : {}),
      };
    }
    const have = Object.keys(decodeSafetensors(bytes).tensors); // a malformed file fails here with its own message
    fail(
      `the file has neither tensor "W" (a single RBM) nor "layer0.W" (a stack of RBMs); found: ${have.length ? have.slice(0, 6).join(', ') : 'none'}. ` +
        'Pass a model written by "webgpu-rbm train" (with or without --stack).',
    );
  }
  const { tensors, metadata: m } = decodeSafetensors(bytes);
  if (m[STACK_KEYS.format] !== STACK_FILE_FORMAT) {
    fail(
      `metadata "format" is ${m.format === undefined ? 'missing' : JSON.stringify(m.format)}; a stack file (tensors layer0.W, …) says "${STACK_FILE_FORMAT}". ` +
        'Write stacks with RBMStack.toSafetensors or "webgpu-rbm train --stack".',
    );
  }
  const versionText = m[STACK_KEYS.version];
  const version = versionText !== undefined && /^[1-9]\d{0,6}$/.test(versionText) ? Number(versionText) : NaN;
  if (!Number.isInteger(version)) {
    fail(`metadata "${STACK_KEYS.version}" is ${versionText === undefined ? 'missing' : JSON.stringify(versionText)}; expected a positive integer (this reader knows version ${STACK_FILE_VERSION}).`);
  }
  if (version > STACK_FILE_VERSION) {
    fail(`the file is stack version ${version}, newer than this reader (version ${STACK_FILE_VERSION}); update webgpu-rbm to read it.`);
  }
  const sizes = parseLayerSizes(m[STACK_KEYS.layers]);
  const L = sizes.length - 1;
  const visibleText = m[MODEL_KEYS.visible] ?? 'bernoulli';
  if (visibleText !== 'bernoulli' && visibleText !== 'gaussian') {
    fail(`metadata "visible" is ${JSON.stringify(visibleText)}; a stack's bottom layer is "bernoulli" or "gaussian" (the layers above are always binary).`);
  }
  const visible: StackVisibleType = visibleText === 'gaussian' ? 'gaussian' : 'bernoulli';
  const expected = new Set<string>();
  const layers: StackFile['layers'] = [];
  for (let l = 0; l < L; l++) {
    const [V, H] = [sizes[l], sizes[l + 1]];
    const get = (t: 'W' | 'b' | 'c', shape: number[]): Float32Array<ArrayBuffer> => {
      const name = tensorName(l, t);
      expected.add(name);
      if (!Object.hasOwn(tensors, name)) {
        return fail(`the stack file has no tensor "${name}"; metadata "layers" ${sizes.join(',')} declares ${L} layer(s), each with W, b, c.`);
      }
      const x = tensors[name];
      if (x.shape.length !== shape.length || x.shape.some((d, i) => d !== shape[i])) {
        fail(`tensor "${name}" has shape [${x.shape.join(', ')}]; metadata "layers" ${sizes.join(',')} needs [${shape.join(', ')}].`);
      }
      const i = x.data.findIndex((v) => !Number.isFinite(v));
      if (i >= 0) fail(`tensor "${name}" holds ${x.data[i]} at index ${i}; every parameter must be finite (the model diverged or the file is corrupt).`);
      return x.data;
    };
    layers.push({ W: get('W', [V, H]), b: get('b', [V]), c: get('c', [H]) });
  }
  const extra = Object.keys(tensors).filter((k) => !expected.has(k));
  if (extra.length > 0) {
    fail(`the stack file has tensor(s) ${extra.slice(0, 4).map((k) => `"${k}"`).join(', ')} that metadata "layers" ${sizes.join(',')} does not declare; the file is inconsistent.`);
  }
  const standardisation = readModelStandardisation(m, sizes[0]);
  if (standardisation && visible !== 'gaussian') fail('metadata has a standardisation (standardize_mean/std), which only a Gaussian bottom layer carries, but "visible" is not "gaussian".');
  const imageShape = readImageShape(m, sizes[0]);
  const layerMetadata = parseLayerMetadata(m[STACK_KEYS.layerMetadata], L);
  return {
    sizes, layers, visibleType: visible, metadata: m, layerMetadata, singleRbm: false,
    ...(standardisation ? { standardisation } : {}),
    ...(imageShape ? { imageShape } : {}),
  };
}
