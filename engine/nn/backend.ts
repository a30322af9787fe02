/**
 * The policy backend interface: one Gaussian MLP policy with its value MLP, its parameters and its Adam
 * state, able to act on a batch of observations and to take one PPO step on a minibatch. The WASM CPU
 * backend (wasm-backend.ts) and the WebGPU backend implement it; the trainer sees only this.
 *
 * Math (cleanrl ppo_continuous_action; engine/nn/ppo-reference.ts is the float64 reference):
 *   mean = policy MLP(obs) [N, actDim], σ = exp(logStd) [actDim] (state-independent), value = value MLP(obs) [N]
 *   act: action = mean + σ z with z from Philox (engine/nn/philox.ts, stream 0, counter (envOffset + row,
 *        step, j >> 2, 0), key seed), or mean when deterministic; logProb = log N(action; mean, σ²) summed over j
 *   ppoStep: gradient of loss = pgLoss − entCoef entropy + vfCoef vLoss on the minibatch, global norm clipping
 *        to maxGradNorm, then one Adam step (β1 0.9, β2 0.999, eps 1e-5, bias-corrected, torch semantics)
 *
 * Every method may complete synchronously (WASM) or return a Promise (WebGPU): callers `await` the result
 * either way; an implementation narrows the return types where it is synchronous.
 */

import { paramLayout, type ParamLayout } from './param-layout.ts';

/** Default hidden widths of both nets, cleanrl's continuous-action PPO. */
export const DEFAULT_HIDDEN: readonly number[] = Object.freeze([64, 64]);
/** Default row capacity of a backend's minibatch buffers (act and value take any n in chunks of it). */
export const DEFAULT_MAX_BATCH = 4096;

/** Options every MLP backend's create() takes (each adds its own: the kernel bytes, a device, threads). */
export interface MlpBackendOptions {
  /** Observation width. */
  obsDim: number;
  /** Action width. */
  actDim: number;
  /** Hidden widths of both nets; default DEFAULT_HIDDEN. */
  hidden?: readonly number[];
  /** Seed (uint32) of the initialization and the default key of the action noise; default 0. */
  seed?: number;
  /** Most rows of one ppoStep minibatch (and of one act/value chunk); default DEFAULT_MAX_BATCH. */
  maxBatch?: number;
  /** Initial parameters [numParams] instead of initParams(layout, seed). */
  params?: Float32Array;
}

/** Checks MlpBackendOptions' sizes and returns them resolved with the parameter layout; `maxHidden` bounds the hidden layers. */
export function resolveBackendOptions(opts: MlpBackendOptions, maxHidden = Infinity, what = 'backend'): { hidden: number[]; seed: number; maxBatch: number; layout: ParamLayout } {
  checkPositiveInt('obsDim', opts.obsDim);
  checkPositiveInt('actDim', opts.actDim);
  const hidden = [...(opts.hidden ?? DEFAULT_HIDDEN)];
  if (hidden.length > maxHidden) throw new Error(`${what}: at most ${maxHidden} hidden layers, got ${hidden.length}`);
  const seed = opts.seed ?? 0;
  checkUint32('seed', seed);
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  checkPositiveInt('maxBatch', maxBatch);
  const layout = paramLayout(opts.obsDim, opts.actDim, hidden);
  if (opts.params !== undefined) checkFloat32('params', opts.params, layout.size);
  return { hidden, seed, maxBatch, layout };
}

/** The sizes every backend reports, from its parameter layout: the fields of PolicyBackend that describe the nets. */
export abstract class MlpSizes {
  readonly obsDim: number;
  readonly actDim: number;
  readonly hidden: readonly number[];
  /** Number of float32 parameters. */
  readonly numParams: number;
  /** Where each tensor sits in the flat parameter array. */
  readonly paramLayout: ParamLayout;
  /** Seed of the initialization and default Philox key (uint32). */
  readonly seed: number;
  /** Most rows of one ppoStep minibatch and of one act/value chunk. */
  readonly maxBatch: number;

  constructor(layout: ParamLayout, seed: number, maxBatch: number) {
    this.paramLayout = layout;
    this.obsDim = layout.obsDim;
    this.actDim = layout.actDim;
    this.hidden = layout.hidden;
    this.numParams = layout.size;
    this.seed = seed >>> 0;
    this.maxBatch = maxBatch;
  }
}

/** A value that is ready now (CPU backends) or later (GPU backends). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * One PPO minibatch of n rows, float32, row-major. Each array holds at least n rows (a trainer may reuse
 * capacity-sized buffers; its length must be a multiple of the row width); only the first n rows are read.
 */
export interface Minibatch {
  /** [n, obsDim] observations (already normalized by the trainer). */
  obs: Float32Array;
  /** [n, actDim] actions taken during the rollout (unclipped samples). */
  actions: Float32Array;
  /** [n] log-probabilities of the actions under the rollout policy, nats. */
  oldLogProb: Float32Array;
  /** [n] GAE advantages (normalized per minibatch inside the step when hp.normAdv). */
  advantages: Float32Array;
  /** [n] returns, advantages + values. */
  returns: Float32Array;
  /** [n] value estimates of the rollout policy. */
  oldValues: Float32Array;
  /** Number of rows. */
  n: number;
}

/** PPO hyperparameters of one update step (cleanrl's names and defaults in brackets). */
export interface PpoHyperparams {
  /** Surrogate clipping ε, also the value clipping range [0.2]. */
  clipCoef: number;
  /** Clip the value loss around the old values [true]. */
  clipVloss: boolean;
  /** Entropy bonus coefficient [0]. */
  entCoef: number;
  /** Value loss coefficient [0.5]. */
  vfCoef: number;
  /** Global gradient-norm clip; Infinity disables clipping [0.5]. */
  maxGradNorm: number;
  /** Adam learning rate [3e-4]. */
  lr: number;
  /** Normalize advantages per minibatch: (A − mean) / (std + 1e-8), std unbiased (n − 1) [true]. */
  normAdv: boolean;
}

/** cleanrl's defaults for continuous control. */
export const DEFAULT_PPO_HYPERPARAMS: Readonly<PpoHyperparams> = Object.freeze({
  clipCoef: 0.2,
  clipVloss: true,
  entCoef: 0,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  lr: 3e-4,
  normAdv: true,
});

/** Adam β1 (torch default). */
export const ADAM_BETA1 = 0.9;
/** Adam β2 (torch default). */
export const ADAM_BETA2 = 0.999;
/** Adam ε, cleanrl's 1e-5 (torch's default is 1e-8). */
export const ADAM_EPS = 1e-5;
/** Added to the advantage std before dividing (cleanrl). */
export const ADV_NORM_EPS = 1e-8;
/** Added to the gradient norm before dividing (torch.nn.utils.clip_grad_norm_). */
export const GRAD_CLIP_EPS = 1e-6;

/** Loss terms and diagnostics of one minibatch, before the update, as cleanrl logs them. */
export interface PpoLossStats {
  /** pgLoss − entCoef entropy + vfCoef vLoss. */
  loss: number;
  /** mean(max(−A ratio, −A clip(ratio, 1 − ε, 1 + ε))). */
  pgLoss: number;
  /** 0.5 mean of the (clipped) squared value error. */
  vLoss: number;
  /** Mean over rows of the Gaussian entropy Σ_j (0.5 + 0.5 ln 2π + logStd_j), nats. */
  entropy: number;
  /** mean((ratio − 1) − ln ratio), the k3 estimator of KL(old ‖ new). */
  approxKl: number;
  /** Fraction of rows with |ratio − 1| > ε. */
  clipFrac: number;
}

/** Stats of one ppoStep: the loss stats plus the gradient norm before clipping. */
export interface PpoStats extends PpoLossStats {
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
}

/** Adam state, for exact resume: first and second moments [numParams] and the step count t (0 before any step). */
export interface OptimizerState {
  m: Float32Array;
  v: Float32Array;
  t: number;
}

/** Options of one act() call. */
export interface BackendActOptions {
  /** Return the mean action (and its log-probability) instead of a sample; default false. */
  deterministic?: boolean;
  /** Step index t of the Philox counter (env, t, j >> 2, 0), uint32. */
  step: number;
  /** Philox key (uint32); default the backend's seed. */
  seed?: number;
  /** Global env index of row 0, so row r samples as env envOffset + r (uint32); default 0. */
  envOffset?: number;
}

/** Caller-owned outputs of act() for n rows. */
export interface BackendActOutputs {
  /** [n, actDim] action (the mean when deterministic), unclipped. */
  action: Float32Array;
  /** [n] log-probability of the action, nats. */
  logProb: Float32Array;
  /** [n] value estimate. */
  value: Float32Array;
}

/** A Gaussian MLP policy with a value MLP, its parameters (engine/nn/param-layout.ts order) and its Adam state. */
export interface PolicyBackend {
  readonly kind: 'wasm' | 'webgpu';
  readonly obsDim: number;
  readonly actDim: number;
  readonly hidden: readonly number[];
  /** Number of float32 parameters. */
  readonly numParams: number;
  /** A copy of the parameters [numParams]. */
  getParams(): MaybePromise<Float32Array>;
  /** Replaces the parameters [numParams]; throws on a wrong length or a non-finite value, leaving them unchanged. */
  setParams(p: Float32Array): void;
  /** Runs obs [n, obsDim] through both nets and writes action [n, actDim], logProb [n] and value [n] into out. */
  act(obs: Float32Array, n: number, opts: BackendActOptions, out: BackendActOutputs): MaybePromise<void>;
  /** Runs obs [n, obsDim] through the value net into out [n] (GAE's bootstrap values). */
  value(obs: Float32Array, n: number, out: Float32Array): MaybePromise<void>;
  /** One PPO update on a minibatch: gradient, global norm clipping, one Adam step; stats are from before the step. */
  ppoStep(mb: Minibatch, hp: PpoHyperparams): MaybePromise<PpoStats>;
  /** A copy of the Adam state. */
  getOptimizerState(): MaybePromise<OptimizerState>;
  /** Replaces the Adam state (lengths numParams, finite, v ≥ 0, t a non-negative integer). */
  setOptimizerState(s: OptimizerState): void;
  /** Frees what the backend holds; it MUST NOT be used after. */
  destroy(): void;
}

/** Throws unless v is a positive integer. */
export function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}

/** Throws unless v is an integer in [0, 2^32). */
export function checkUint32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`${name} must be a uint32, got ${v}`);
}

/** Throws unless a is a Float32Array of exactly len elements, all finite. */
export function checkFloat32(name: string, a: unknown, len: number, finite = true): asserts a is Float32Array {
  if (!(a instanceof Float32Array)) throw new Error(`${name} must be a Float32Array, got ${Object.prototype.toString.call(a)}`);
  if (a.length !== len) throw new Error(`${name} has ${a.length} elements, expected ${len}`);
  if (finite) {
    for (let i = 0; i < len; i++) {
      if (!Number.isFinite(a[i])) throw new Error(`${name}[${i}] is ${a[i]}; every element must be finite`);
    }
  }
}

/**
 * Throws unless a holds n finite rows of width dim (exactly n rows, or at least n when atLeast, with a length that
 * is a multiple of dim); checks the first n rows and names the first bad one.
 */
export function checkRows(name: string, a: unknown, n: number, dim: number, atLeast = false): asserts a is Float32Array {
  if (!(a instanceof Float32Array)) throw new Error(`${name} must be a Float32Array, got ${Object.prototype.toString.call(a)}`);
  if (atLeast) {
    if (a.length < n * dim || a.length % dim !== 0) throw new Error(`${name} has ${a.length} elements, expected at least n * ${dim} = ${n * dim} and a multiple of ${dim}`);
  } else if (a.length !== n * dim) throw new Error(`${name} has ${a.length} elements, expected n * ${dim} = ${n * dim}`);
  for (let i = 0; i < n * dim; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`${name} row ${Math.floor(i / dim)} column ${i % dim} is ${a[i]}; every element must be finite`);
  }
}

/** Checks a minibatch's row count, that every array holds at least n rows, and that those rows are finite. */
export function validateMinibatch(mb: Minibatch, obsDim: number, actDim: number, maxRows = Infinity): void {
  checkPositiveInt('minibatch n', mb.n);
  if (mb.n > maxRows) throw new Error(`minibatch n = ${mb.n} exceeds the backend's maxBatch ${maxRows}; split it or create the backend with a larger maxBatch`);
  const n = mb.n;
  checkRows('minibatch obs', mb.obs, n, obsDim, true);
  checkRows('minibatch actions', mb.actions, n, actDim, true);
  checkRows('minibatch oldLogProb', mb.oldLogProb, n, 1, true);
  checkRows('minibatch advantages', mb.advantages, n, 1, true);
  checkRows('minibatch returns', mb.returns, n, 1, true);
  checkRows('minibatch oldValues', mb.oldValues, n, 1, true);
}

/** Checks act()'s arguments against a backend's sizes; returns the Philox key and env offset in effect. */
export function checkActArgs(obs: Float32Array, n: number, opts: BackendActOptions, out: BackendActOutputs, dims: { obsDim: number; actDim: number; seed: number }): { seed: number; envOffset: number } {
  checkPositiveInt('act n', n);
  checkRows('act obs', obs, n, dims.obsDim);
  checkUint32('act step', opts.step);
  const seed = opts.seed ?? dims.seed;
  checkUint32('act seed', seed);
  const envOffset = opts.envOffset ?? 0;
  checkUint32('act envOffset', envOffset);
  checkFloat32('act out.action', out.action, n * dims.actDim, false);
  checkFloat32('act out.logProb', out.logProb, n, false);
  checkFloat32('act out.value', out.value, n, false);
  return { seed, envOffset };
}

/** Checks hyperparameters: finite, clipCoef > 0, coefficients ≥ 0, lr ≥ 0, maxGradNorm > 0 (Infinity allowed). */
export function validateHyperparams(hp: PpoHyperparams): void {
  const nonNeg = (k: keyof PpoHyperparams): void => {
    const v = hp[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`hyperparameter ${k} must be a finite number ≥ 0, got ${v}`);
  };
  const atMost = (k: keyof PpoHyperparams, max: number): void => {
    if ((hp[k] as number) > max) throw new Error(`hyperparameter ${k} must be at most ${max}, got ${hp[k]}: larger steps overflow float32 within an update`);
  };
  nonNeg('entCoef');
  nonNeg('vfCoef');
  nonNeg('lr');
  atMost('lr', 1);
  atMost('entCoef', 100);
  atMost('vfCoef', 1000);
  if (typeof hp.clipCoef !== 'number' || !Number.isFinite(hp.clipCoef) || hp.clipCoef <= 0) throw new Error(`hyperparameter clipCoef must be a finite number > 0, got ${hp.clipCoef}`);
  atMost('clipCoef', 100);
  if (typeof hp.maxGradNorm !== 'number' || Number.isNaN(hp.maxGradNorm) || hp.maxGradNorm <= 0) throw new Error(`hyperparameter maxGradNorm must be > 0 (Infinity disables clipping), got ${hp.maxGradNorm}`);
  if (typeof hp.clipVloss !== 'boolean') throw new Error(`hyperparameter clipVloss must be a boolean, got ${hp.clipVloss}`);
  if (typeof hp.normAdv !== 'boolean') throw new Error(`hyperparameter normAdv must be a boolean, got ${hp.normAdv}`);
}

/** Checks an optimizer state against the parameter count. */
export function validateOptimizerState(s: OptimizerState, numParams: number): void {
  if (!s || typeof s !== 'object') throw new Error('optimizer state must be an object { m, v, t }');
  checkFloat32('optimizer state m', s.m, numParams);
  checkFloat32('optimizer state v', s.v, numParams);
  for (let i = 0; i < numParams; i++) if (s.v[i] < 0) throw new Error(`optimizer state v[${i}] is ${s.v[i]}; second moments must be ≥ 0`);
  if (!Number.isInteger(s.t) || s.t < 0) throw new Error(`optimizer state t must be a non-negative integer, got ${s.t}`);
}
