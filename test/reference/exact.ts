// Exact (enumeration-based) math of a binary-binary RBM in float64.
// The ground truth that samplers, AIS and the GPU kernels are tested against.
// Conventions: W row-major [V,H] (W[i*H+j]), b length V, c length H,
// data row-major [n,V]; a state index's bit i is unit i.

export interface RBMParams {
  visible: number;
  hidden: number;
  W: ArrayLike<number>;
  b: ArrayLike<number>;
  c: ArrayLike<number>;
}

export interface RBMGradient {
  dW: Float64Array;
  db: Float64Array;
  dc: Float64Array;
}

/** Most units any function here will enumerate (2^30 states is already minutes). */
export const MAX_ENUMERATED_UNITS = 30;
/** Most visible units exactMarginals will return a table for (2^20 doubles = 8 MiB). */
export const MAX_MARGINAL_UNITS = 20;

// ---------------------------------------------------------------- scalars

/** log(1 + e^x) without overflow for large x or loss of precision for small. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** 1 / (1 + e^-x), never evaluating exp of a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log Σ exp(x_k), shifted by the maximum; −Infinity for an empty list. */
export function logSumExp(xs: ArrayLike<number>): number {
  const acc = new LogSumExp();
  for (let k = 0; k < xs.length; k++) acc.add(xs[k]);
  return acc.value();
}

/** Streaming log-sum-exp, so enumerations of 2^30 terms need no array. */
class LogSumExp {
  private max = -Infinity;
  private sum = 0; // Σ exp(x − max)

  add(x: number): void {
    if (x === -Infinity) return;
    if (x > this.max) {
      this.sum = this.sum * Math.exp(this.max - x) + 1;
      this.max = x;
    } else {
      this.sum += Math.exp(x - this.max);
    }
  }

  value(): number {
    return this.max === -Infinity ? -Infinity : this.max + Math.log(this.sum);
  }
}

// ---------------------------------------------------------------- checks

function checkParams(p: RBMParams): void {
  const { visible: V, hidden: H } = p;
  if (!Number.isInteger(V) || V < 1 || !Number.isInteger(H) || H < 1) {
    throw new Error(`RBM sizes must be positive integers, got visible=${V}, hidden=${H}`);
  }
  if (p.W.length !== V * H) throw new Error(`W has ${p.W.length} entries, expected ${V}*${H}=${V * H}`);
  if (p.b.length !== V) throw new Error(`b has ${p.b.length} entries, expected ${V}`);
  if (p.c.length !== H) throw new Error(`c has ${p.c.length} entries, expected ${H}`);
}

function checkData(p: RBMParams, data: ArrayLike<number>, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`data row count must be a positive integer, got ${n}`);
  if (data.length < n * p.visible) {
    throw new Error(`data has ${data.length} entries, expected at least ${n}*${p.visible}=${n * p.visible}`);
  }
}

function checkEnumerable(what: string, units: number, limit = MAX_ENUMERATED_UNITS): void {
  if (units > limit) {
    throw new Error(`${what}: cannot enumerate 2^${units} states (${units} units > limit of ${limit})`);
  }
}

/** Bits of a state index as a 0/1 vector. */
function unpack(index: number, units: number, out: Float64Array): Float64Array {
  for (let k = 0; k < units; k++) out[k] = Math.floor(index / 2 ** k) % 2;
  return out;
}

// ---------------------------------------------------------------- energies

/** E(v,h) = −vᵀWh − bᵀv − cᵀh. */
export function energy(p: RBMParams, v: ArrayLike<number>, h: ArrayLike<number>): number {
  const { visible: V, hidden: H, W, b, c } = p;
  let e = 0;
  for (let i = 0; i < V; i++) {
    if (v[i] === 0) continue;
    let wh = 0;
    for (let j = 0; j < H; j++) wh += W[i * H + j] * h[j];
    e -= v[i] * (wh + b[i]);
  }
  for (let j = 0; j < H; j++) e -= c[j] * h[j];
  return e;
}

/** Hidden pre-activations vᵀw_j + c_j of row `offset` of `v`. */
function hiddenInput(p: RBMParams, v: ArrayLike<number>, offset: number, out: Float64Array): Float64Array {
  const { visible: V, hidden: H, W, c } = p;
  for (let j = 0; j < H; j++) out[j] = c[j];
  for (let i = 0; i < V; i++) {
    const vi = v[offset + i];
    if (vi === 0) continue;
    for (let j = 0; j < H; j++) out[j] += vi * W[i * H + j];
  }
  return out;
}

/** Visible pre-activations W_i·h + b_i. */
function visibleInput(p: RBMParams, h: ArrayLike<number>, out: Float64Array): Float64Array {
  const { visible: V, hidden: H, W, b } = p;
  for (let i = 0; i < V; i++) {
    let s = b[i];
    for (let j = 0; j < H; j++) s += W[i * H + j] * h[j];
    out[i] = s;
  }
  return out;
}

/** F(v) of row `offset`, given scratch for the hidden inputs. */
function freeEnergyAt(p: RBMParams, v: ArrayLike<number>, offset: number, x: Float64Array): number {
  hiddenInput(p, v, offset, x);
  let f = 0;
  for (let i = 0; i < p.visible; i++) f -= p.b[i] * v[offset + i];
  for (let j = 0; j < p.hidden; j++) f -= softplus(x[j]);
  return f;
}

/** −log of the unnormalised marginal of h: −cᵀh − Σ_i softplus(b_i + W_i·h). */
function hiddenFreeEnergy(p: RBMParams, h: ArrayLike<number>, y: Float64Array): number {
  visibleInput(p, h, y);
  let f = 0;
  for (let j = 0; j < p.hidden; j++) f -= p.c[j] * h[j];
  for (let i = 0; i < p.visible; i++) f -= softplus(y[i]);
  return f;
}

/** F(v) = −bᵀv − Σ_j softplus(vᵀw_j + c_j), so that log p(v) = −F(v) − log Z. */
export function freeEnergy(p: RBMParams, v: ArrayLike<number>): number {
  checkParams(p);
  return freeEnergyAt(p, v, 0, new Float64Array(p.hidden));
}

/** F of each of the n rows of `data`. */
export function freeEnergyBatch(p: RBMParams, data: ArrayLike<number>, n: number): Float64Array {
  checkParams(p);
  checkData(p, data, n);
  const x = new Float64Array(p.hidden);
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) out[r] = freeEnergyAt(p, data, r * p.visible, x);
  return out;
}

// ---------------------------------------------------------------- partition function

/** log Z summing out v analytically and enumerating all 2^H hidden states. */
export function logZByHidden(p: RBMParams): number {
  checkParams(p);
  checkEnumerable('logZByHidden', p.hidden);
  const h = new Float64Array(p.hidden);
  const y = new Float64Array(p.visible);
  const acc = new LogSumExp();
  for (let s = 0; s < 2 ** p.hidden; s++) acc.add(-hiddenFreeEnergy(p, unpack(s, p.hidden, h), y));
  return acc.value();
}

/** log Z summing out h analytically and enumerating all 2^V visible states. */
export function logZByVisible(p: RBMParams): number {
  checkParams(p);
  checkEnumerable('logZByVisible', p.visible);
  const v = new Float64Array(p.visible);
  const x = new Float64Array(p.hidden);
  const acc = new LogSumExp();
  for (let s = 0; s < 2 ** p.visible; s++) acc.add(-freeEnergyAt(p, unpack(s, p.visible, v), 0, x));
  return acc.value();
}

/** log Z straight from the definition, over all 2^(V+H) joint states (tests only). */
export function logZBruteForce(p: RBMParams): number {
  checkParams(p);
  checkEnumerable('logZBruteForce', p.visible + p.hidden);
  const v = new Float64Array(p.visible);
  const h = new Float64Array(p.hidden);
  const acc = new LogSumExp();
  for (let sv = 0; sv < 2 ** p.visible; sv++) {
    unpack(sv, p.visible, v);
    for (let sh = 0; sh < 2 ** p.hidden; sh++) acc.add(-energy(p, v, unpack(sh, p.hidden, h)));
  }
  return acc.value();
}

/** log Z by enumerating whichever layer is smaller. */
export function logZExact(p: RBMParams): number {
  checkParams(p);
  checkEnumerable('logZExact', Math.min(p.visible, p.hidden));
  return p.hidden <= p.visible ? logZByHidden(p) : logZByVisible(p);
}

/** Mean over the data of log p(v) = −F(v) − log Z. */
export function averageLogLikelihood(p: RBMParams, data: ArrayLike<number>, n: number): number {
  const f = freeEnergyBatch(p, data, n);
  let s = 0;
  for (let r = 0; r < n; r++) s -= f[r];
  return s / n - logZExact(p);
}

// ---------------------------------------------------------------- gradient

/** Exact gradient of the mean log-likelihood: data term minus model term. */
export function exactGradient(p: RBMParams, data: ArrayLike<number>, n: number): RBMGradient {
  checkParams(p);
  checkData(p, data, n);
  const { visible: V, hidden: H } = p;
  checkEnumerable('exactGradient', Math.min(V, H));
  const g: RBMGradient = { dW: new Float64Array(V * H), db: new Float64Array(V), dc: new Float64Array(H) };

  // Positive phase: ⟨v_i σ(vᵀw_j + c_j)⟩ over the data (h summed out analytically).
  const x = new Float64Array(H);
  for (let r = 0; r < n; r++) {
    hiddenInput(p, data, r * V, x);
    for (let j = 0; j < H; j++) x[j] = sigmoid(x[j]);
    addOuter(g, data, r * V, x, 1 / n);
  }

  // Negative phase: the model expectation, enumerating the smaller layer and
  // using the other layer's conditional mean (a Rao-Blackwellised exact sum).
  const logZ = logZExact(p);
  if (V <= H) {
    const v = new Float64Array(V);
    for (let s = 0; s < 2 ** V; s++) {
      const w = Math.exp(-freeEnergyAt(p, unpack(s, V, v), 0, x) - logZ); // p(v)
      for (let j = 0; j < H; j++) x[j] = sigmoid(x[j]); // E[h | v]
      addOuter(g, v, 0, x, -w);
    }
  } else {
    const h = new Float64Array(H);
    const y = new Float64Array(V);
    for (let s = 0; s < 2 ** H; s++) {
      const w = Math.exp(-hiddenFreeEnergy(p, unpack(s, H, h), y) - logZ); // p(h)
      for (let i = 0; i < V; i++) y[i] = sigmoid(y[i]); // E[v | h]
      addOuter(g, y, 0, h, -w);
    }
  }
  return g;
}

/** Accumulates scale·(v hᵀ, v, h) into g, v being row `vOff` of `v`. */
function addOuter(g: RBMGradient, v: ArrayLike<number>, vOff: number, h: ArrayLike<number>, scale: number): void {
  const V = g.db.length;
  const H = g.dc.length;
  for (let i = 0; i < V; i++) {
    const vi = v[vOff + i] * scale;
    g.db[i] += vi;
    if (vi === 0) continue;
    for (let j = 0; j < H; j++) g.dW[i * H + j] += vi * h[j];
  }
  for (let j = 0; j < H; j++) g.dc[j] += scale * h[j];
}

// ---------------------------------------------------------------- marginals

/** p(v) for every visible state, indexed by the bits of v (bit i = v_i). */
export function exactMarginals(p: RBMParams): Float64Array {
  checkParams(p);
  checkEnumerable('exactMarginals', p.visible, MAX_MARGINAL_UNITS);
  const v = new Float64Array(p.visible);
  const x = new Float64Array(p.hidden);
  const out = new Float64Array(2 ** p.visible);
  for (let s = 0; s < out.length; s++) out[s] = -freeEnergyAt(p, unpack(s, p.visible, v), 0, x);
  // Normalise with the same sums we just computed, so the table sums to 1 to rounding.
  const logZ = logSumExp(out);
  for (let s = 0; s < out.length; s++) out[s] = Math.exp(out[s] - logZ);
  return out;
}
