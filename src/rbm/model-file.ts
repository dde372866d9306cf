// The RBM model file: a safetensors file (./safetensors.ts) holding float32
// tensors W [V,H], b [V], c [H] and string metadata. This module is its schema:
// the metadata keys this project writes and reads, the unit type, a Gaussian
// model's data standardisation, the image shape, and the checks that make a
// contradictory file an error naming the key instead of a guess.
// Environment-neutral: no Node built-ins.
import { decodeSafetensors, encodeSafetensors, SafetensorsFormatError, type DecodedTensor, type Tensor } from './safetensors';

const fail = (msg: string): never => {
  throw new SafetensorsFormatError(msg);
};

export type VisibleType = 'bernoulli' | 'gaussian' | 'potts';

/** The value of metadata "format" in files this project writes. */
export const MODEL_FILE_FORMAT = 'webgpu-rbm';

/**
 * The metadata keys of the model file this project reads and checks (every
 * value a string, as safetensors requires). Writers add their own free-form
 * training keys next to these.
 */
export const MODEL_KEYS = {
  /** "webgpu-rbm" in files this project wrote: their recorded sizes are checked. */
  format: 'format',
  /** The visible unit type: "bernoulli" (the default when absent), "gaussian" or "potts". */
  visible: 'visible',
  /** A Potts model's states per site q (a decimal integer; required when "visible" is "potts", V = sites × q). */
  states: 'visible_states',
  /** V and H as decimal integers (checked against W when format is "webgpu-rbm"). */
  visibleUnits: 'visible_units',
  hiddenUnits: 'hidden_units',
  /** The image shape of the visible layer, width × height = V. */
  width: 'width',
  height: 'height',
  /** A Gaussian model's per-pixel standardisation: JSON arrays of V numbers. */
  mean: 'standardize_mean',
  std: 'standardize_std',
  /** The seed the model was trained with (a decimal integer). */
  seed: 'seed',
} as const;

/** The metadata keys a Gaussian model's data standardisation is stored under (JSON arrays of V numbers). */
export const STD_MEAN_KEY = MODEL_KEYS.mean;
export const STD_STD_KEY = MODEL_KEYS.std;

/** The per-pixel standardisation a Gaussian model's data went through: x ↦ (x − mean) / std. */
export interface ModelStandardisation {
  mean: Float32Array<ArrayBuffer>;
  std: Float32Array<ArrayBuffer>;
}

/** The image shape of a model's visible layer (width × height = visible units). */
export interface ImageShape {
  width: number;
  height: number;
}

export interface RbmParameters {
  visible: number;
  hidden: number;
  /** Row-major [visible, hidden]. */
  W: Float32Array;
  b: Float32Array;
  c: Float32Array;
  metadata?: Record<string, string>;
  /** Written as metadata "visible"; defaults to the metadata's value, else bernoulli. */
  visibleType?: VisibleType;
  /** A Potts model's states per site q, written as metadata "visible_states" (required for Potts models). */
  visibleStates?: number;
  /**
   * A Gaussian model's standardisation, written as metadata standardize_mean /
   * standardize_std (where `metadata` has them already, they must agree).
   */
  standardisation?: { mean: Float32Array; std: Float32Array };
}

export interface RbmFile {
  visible: number;
  hidden: number;
  /** Row-major [visible, hidden]. */
  W: Float32Array<ArrayBuffer>;
  b: Float32Array<ArrayBuffer>;
  c: Float32Array<ArrayBuffer>;
  metadata: Record<string, string>;
  visibleType: VisibleType;
  /** A Potts model's states per site q (metadata "visible_states"); absent for other unit types. */
  visibleStates?: number;
  /** A Gaussian model's stored standardisation (metadata standardize_mean / standardize_std), when present. */
  standardisation?: ModelStandardisation;
  /** The image shape (metadata width / height), when recorded and consistent with the visible units. */
  imageShape?: ImageShape;
}

function parseVisibleType(v: string | undefined): VisibleType {
  if (v === undefined || v === 'bernoulli') return 'bernoulli';
  if (v === 'gaussian') return 'gaussian';
  if (v === 'potts') return 'potts';
  const lower = v.trim().toLowerCase();
  const hint = lower === 'bernoulli' || lower === 'gaussian' || lower === 'potts' ? ` (write it in lower case, without spaces: "${lower}")` : '';
  return fail(`metadata "visible" is ${JSON.stringify(v)}; expected "bernoulli", "gaussian" or "potts"${hint}. The unit type is not guessed.`);
}

/** Most states per Potts site a model file may record (src/units/potts.ts MAX_POTTS_STATES). */
const MAX_FILE_STATES = 256;

/**
 * A Potts model's states per site from metadata "visible_states": required for
 * "visible": "potts" (an integer in [2, 256] dividing V), refused for other unit types.
 */
function parseVisibleStates(m: Record<string, string>, visibleType: VisibleType, V: number): number | undefined {
  const text = m[MODEL_KEYS.states];
  if (visibleType !== 'potts') {
    if (text !== undefined) fail(`metadata "${MODEL_KEYS.states}" is given, which only Potts models carry, but "visible" is "${visibleType}".`);
    return undefined;
  }
  if (text === undefined) fail(`metadata "visible" is "potts" but "${MODEL_KEYS.states}" (the states per site q) is missing; add it.`);
  const q = /^[1-9]\d{0,3}$/.test(text) ? Number(text) : NaN;
  if (!(q >= 2 && q <= MAX_FILE_STATES)) fail(`metadata "${MODEL_KEYS.states}" is ${JSON.stringify(text)}; expected an integer in [2, ${MAX_FILE_STATES}].`);
  if (V % q !== 0) fail(`metadata "${MODEL_KEYS.states}" is ${q} but W has ${V} visible units, not a multiple of ${q} (sites × states); the file is inconsistent.`);
  return q;
}

/**
 * Parses one standardisation key: a JSON array of `visible` finite numbers
 * (std: each > 0). Throws a SafetensorsFormatError naming the key and the problem.
 */
export function parseStandardisationKey(metadata: Record<string, string>, key: string, visible: number): Float32Array<ArrayBuffer> {
  const text = metadata[key];
  if (text === undefined) return fail(`metadata has no "${key}".`);
  let a: unknown;
  try {
    a = JSON.parse(text);
  } catch {
    return fail(`metadata "${key}" is not JSON; expected a JSON array of ${visible} numbers.`);
  }
  if (!Array.isArray(a)) return fail(`metadata "${key}" is ${describeJson(a)}, not a JSON array of ${visible} numbers.`);
  if (a.length !== visible) fail(`metadata "${key}" holds ${a.length} values but the model has ${visible} visible units.`);
  const bad = a.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
  if (bad >= 0) fail(`metadata "${key}" holds ${describeJson(a[bad])} at index ${bad}; every value must be a finite number.`);
  const out = Float32Array.from(a as number[]);
  if (key === STD_STD_KEY) {
    // Checked after rounding to float32: a std that underflows to 0 would divide by zero.
    const i = out.findIndex((x) => !(x > 0) || !Number.isFinite(x));
    if (i >= 0) fail(`metadata "${key}" holds ${(a as number[])[i]} at index ${i}; every standard deviation must be a positive float32.`);
  }
  return out;
}

function describeJson(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'number') return String(x); // JSON.parse makes 1e999 Infinity
  const t = JSON.stringify(x);
  return t.length > 40 ? `${typeof x} ${t.slice(0, 37)}…` : t;
}

/**
 * The standardisation stored in `metadata` for a model of `visible` units:
 * undefined when neither key is present, else both arrays, checked (a missing
 * half, the wrong length, a non-finite value or a std ≤ 0 is a
 * SafetensorsFormatError naming the key). The unit type is not checked here;
 * `rbmFromSafetensors` does that.
 */
export function readModelStandardisation(metadata: Record<string, string>, visible: number): ModelStandardisation | undefined {
  const keys = [STD_MEAN_KEY, STD_STD_KEY].filter((k) => Object.hasOwn(metadata, k));
  if (keys.length === 0) return undefined;
  if (keys.length === 1) {
    const missing = keys[0] === STD_MEAN_KEY ? STD_STD_KEY : STD_MEAN_KEY;
    fail(`metadata has "${keys[0]}" but no "${missing}"; a Gaussian model's standardisation needs both.`);
  }
  return { mean: parseStandardisationKey(metadata, STD_MEAN_KEY, visible), std: parseStandardisationKey(metadata, STD_STD_KEY, visible) };
}

/**
 * The two metadata entries that store a standardisation (in this order:
 * standardize_mean, standardize_std; JSON arrays of the float32 values, which
 * read back exactly). Checked as a reader would check them: equal lengths
 * (`visible` when given), finite values, every std > 0.
 */
export function standardisationMetadata(s: { mean: Float32Array; std: Float32Array }, visible?: number): Record<string, string> {
  const V = visible ?? s.mean.length;
  const entries: Record<string, string> = {
    [STD_MEAN_KEY]: JSON.stringify(Array.from(s.mean)),
    [STD_STD_KEY]: JSON.stringify(Array.from(s.std)),
  };
  // The same checks, and messages, as reading the file back.
  parseStandardisationKey(entries, STD_MEAN_KEY, V);
  parseStandardisationKey(entries, STD_STD_KEY, V);
  return entries;
}

/**
 * The image shape metadata width / height record, when both are positive
 * integers whose product is `visible`; else undefined (a caller picks its own
 * layout). Files this project wrote are checked on load: a recorded shape that
 * contradicts the model is an error there.
 */
export function readImageShape(metadata: Record<string, string>, visible: number): ImageShape | undefined {
  const width = Number(metadata[MODEL_KEYS.width]);
  const height = Number(metadata[MODEL_KEYS.height]);
  return Number.isInteger(width) && Number.isInteger(height) && width > 0 && width * height === visible ? { width, height } : undefined;
}

/** The metadata entries that record an image shape (width, height). */
export function imageShapeMetadata(shape: ImageShape): Record<string, string> {
  return { [MODEL_KEYS.width]: String(shape.width), [MODEL_KEYS.height]: String(shape.height) };
}

// The metadata this project writes, checked against the tensors: contradictions are errors, never guesses.
function checkModelMetadata(
  m: Record<string, string>, V: number, H: number,
): { visibleType: VisibleType; visibleStates?: number; standardisation?: ModelStandardisation } {
  const visibleType = parseVisibleType(m.visible);
  const visibleStates = parseVisibleStates(m, visibleType, V);
  const stdKeys = [STD_MEAN_KEY, STD_STD_KEY].filter((k) => Object.hasOwn(m, k));
  if (stdKeys.length > 0 && m.visible === undefined) {
    fail(
      `metadata has "${stdKeys[0]}" (a Gaussian model's standardisation) but no "visible" key; ` +
        'the unit type is not guessed: add "visible": "gaussian" (or remove the standardisation of a Bernoulli model).',
    );
  }
  if (stdKeys.length > 0 && visibleType !== 'gaussian') {
    fail(`metadata has "${stdKeys[0]}", which only Gaussian models carry, but "visible" is "${m.visible}".`);
  }
  const standardisation = readModelStandardisation(m, V);
  // Files this project wrote also record their sizes; other writers' keys are theirs.
  if (m.format === MODEL_FILE_FORMAT) {
    const count = (key: string): number | undefined => {
      if (!Object.hasOwn(m, key)) return undefined;
      const n = /^[1-9]\d{0,15}$/.test(m[key]) ? Number(m[key]) : NaN;
      if (!Number.isSafeInteger(n)) fail(`metadata "${key}" is ${JSON.stringify(m[key])}; expected a positive integer.`);
      return n;
    };
    for (const [key, want, what] of [[MODEL_KEYS.visibleUnits, V, 'W [V, H] has V'], [MODEL_KEYS.hiddenUnits, H, 'W [V, H] has H']] as const) {
      const n = count(key);
      if (n !== undefined && n !== want) fail(`metadata "${key}" is ${n} but ${what} = ${want}; the file is inconsistent.`);
    }
    const [width, height] = [count(MODEL_KEYS.width), count(MODEL_KEYS.height)];
    if (width !== undefined && height !== undefined && width * height !== V) {
      fail(`metadata "width" × "height" = ${width} × ${height} = ${width * height}, but the model has ${V} visible units; the file is inconsistent.`);
    }
  }
  return { visibleType, standardisation, ...(visibleStates !== undefined ? { visibleStates } : {}) };
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serializes an RBM as tensors W [V,H], b [V], c [H] with its metadata (and standardisation). */
export function rbmToSafetensors(p: RbmParameters): Uint8Array {
  const { visible: V, hidden: H } = p;
  if (!Number.isInteger(V) || V < 1 || !Number.isInteger(H) || H < 1) {
    fail(`visible and hidden must be positive integers, got ${V} and ${H}.`);
  }
  const metadata = { ...(p.metadata ?? {}) };
  const fromMeta = parseVisibleType(metadata.visible);
  if (p.visibleType !== undefined && metadata.visible !== undefined && p.visibleType !== fromMeta) {
    fail(`visibleType "${p.visibleType}" contradicts metadata visible "${metadata.visible}".`);
  }
  const visibleType = p.visibleType ?? fromMeta;
  if (visibleType !== 'bernoulli' || metadata.visible !== undefined) metadata.visible = visibleType;
  if (p.visibleStates !== undefined) {
    if (metadata[MODEL_KEYS.states] !== undefined && metadata[MODEL_KEYS.states] !== String(p.visibleStates)) {
      fail(`visibleStates ${p.visibleStates} contradicts metadata "${MODEL_KEYS.states}" "${metadata[MODEL_KEYS.states]}".`);
    }
    metadata[MODEL_KEYS.states] = String(p.visibleStates);
  }
  parseVisibleStates(metadata, visibleType, V);
  if (p.standardisation !== undefined) {
    if (visibleType !== 'gaussian') fail(`a standardisation is written for Gaussian models only; this model is ${visibleType}.`);
    for (const [key, value] of Object.entries(standardisationMetadata(p.standardisation, V))) {
      if (Object.hasOwn(metadata, key) && metadata[key] !== value) fail(`metadata "${key}" contradicts the standardisation given; pass one of them.`);
      metadata[key] = value;
    }
  }
  return encodeSafetensors(
    {
      W: checkLength('W', p.W, [V, H]),
      b: checkLength('b', p.b, [V]),
      c: checkLength('c', p.c, [H]),
    },
    metadata,
  );
}

function checkLength(name: string, data: Float32Array, shape: number[]): Tensor {
  if (data.length !== product(shape)) {
    fail(`${name} has ${data.length} values; shape [${shape.join(', ')}] needs ${product(shape)}.`);
  }
  return { shape, data };
}

/**
 * Loads an RBM, checking W [V,H], b [V], c [H] agree and hold finite values.
 * Metadata "visible" picks the visible type ("bernoulli" or "gaussian", exactly;
 * absent: Bernoulli, as files from other tools with just W, b, c are). The
 * project's own keys are checked against the tensors: a standardisation without
 * "visible", standardize_mean/std of the wrong length or non-positive std, or
 * sizes that disagree with W are errors naming the key.
 */
export function rbmFromSafetensors(bytes: Uint8Array): RbmFile {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const get = (name: string): DecodedTensor => {
    if (!Object.hasOwn(tensors, name)) {
      const have = Object.keys(tensors);
      return fail(`model file has no tensor "${name}" (found: ${have.length ? have.join(', ') : 'none'}); an RBM needs W [V,H], b [V], c [H].`);
    }
    return tensors[name];
  };
  const W = get('W');
  const b = get('b');
  const c = get('c');
  if (W.shape.length !== 2 || W.shape[0] < 1 || W.shape[1] < 1) {
    fail(`tensor "W" has shape [${W.shape.join(', ')}]; expected [V, H] with V, H >= 1.`);
  }
  const [V, H] = W.shape;
  const expect = (name: string, t: DecodedTensor, want: number): void => {
    if (t.shape.length !== 1 || t.shape[0] !== want) {
      fail(`tensor "${name}" has shape [${t.shape.join(', ')}]; expected [${want}] to match W [${V}, ${H}].`);
    }
  };
  expect('b', b, V);
  expect('c', c, H);
  for (const [name, t] of [['W', W], ['b', b], ['c', c]] as const) {
    const i = t.data.findIndex((x) => !Number.isFinite(x));
    if (i >= 0) {
      const at = name === 'W' ? `[${Math.floor(i / H)}, ${i % H}]` : `[${i}]`;
      fail(`tensor "${name}" holds ${t.data[i]} at ${at}; every parameter must be finite (the model diverged or the file is corrupt).`);
    }
  }
  const { visibleType, visibleStates, standardisation } = checkModelMetadata(metadata, V, H);
  const imageShape = readImageShape(metadata, V);
  return {
    visible: V, hidden: H, W: W.data, b: b.data, c: c.data, metadata, visibleType,
    ...(visibleStates !== undefined ? { visibleStates } : {}),
    ...(standardisation ? { standardisation } : {}),
    ...(imageShape ? { imageShape } : {}),
  };
}
