/**
 * The Policy API: a batched Gaussian MLP policy with a value head that acts on observations of any batch size, with
 * its own noise step counter. One class, BackendPolicy, puts it over any PolicyBackend (backend.ts) with one set of
 * argument checks; WebGpuPolicy and WasmPolicy are it over the WebGPU and WASM backends, createPolicy picks one.
 */
import type { AdapterInfo } from '../gpu/device.ts';
import type { BackendKind } from './backend-kind.ts';
import type { PolicyBackend } from './backend.ts';
import { checkPolicyParams, type ParamLayout } from './param-layout.ts';

/** Options of createPolicy. */
export interface PolicyOptions {
  /** Observation width. */
  obsDim: number;
  /** Action width. */
  actDim: number;
  /** Hidden layer widths of both nets; default [64, 64]. */
  hidden?: readonly number[];
  /** Seed (uint32) of the initialization and of the action noise; default 0. */
  seed?: number;
  /** Device to run on; default a new one from getDevice(), owned and destroyed by the policy. */
  device?: GPUDevice;
  /**
   * Where the network runs: 'webgpu' (default), 'wasm' (the CPU kernels), or 'auto': chooseBackend's rule
   * (backend-kind.ts) on the given device's adapter, else a probed one.
   */
  backend?: BackendKind;
  /** Rows of one kernel pass (act() takes any N in chunks of this many); default 4096 on WebGPU, 1024 on the CPU. */
  maxBatch?: number;
}

/** Options of one act() call. */
export interface ActOptions {
  /** Return the mean action and its log-probability instead of a sample; default false. */
  deterministic?: boolean;
  /** Step index t of the noise counter (env, t, j >> 2, 0); default policy.step, which then advances by 1. */
  step?: number;
  /** Global env index of row 0 (row r samples as env envOffset + r), for envs split over workers; default 0. */
  envOffset?: number;
  /** Caller-owned arrays to write into instead of allocating ([N, actDim], [N], [N]). */
  out?: Partial<ActResult>;
}

/** Outputs of act() for N rows. */
export interface ActResult {
  /** [N, actDim] action (the mean when deterministic), unclipped. */
  action: Float32Array;
  /** [N] log-probability of the action, nats. */
  logProb: Float32Array;
  /** [N] value estimate. */
  value: Float32Array;
}

/** A batched Gaussian MLP policy with a value head, on WebGPU (WebGpuPolicy) or the CPU (WasmPolicy). */
export interface Policy {
  readonly obsDim: number;
  readonly actDim: number;
  readonly hidden: readonly number[];
  /** Where each tensor sits in the flat parameter array. */
  readonly paramLayout: ParamLayout;
  /** Number of float32 parameters, paramLayout.size. */
  readonly numParams: number;
  readonly backend: 'webgpu' | 'wasm';
  /** The WebGPU adapter; absent on the CPU. */
  readonly adapterInfo?: AdapterInfo;
  /** Philox key, uint32. */
  readonly seed: number;
  /** Step index the next act() without `step` samples at; advances after each such sampling call. */
  step: number;
  /** Reads the parameters back (from the GPU), [numParams] in paramLayout order. */
  getParams(): Promise<Float32Array>;
  /** Uploads parameters [numParams] in paramLayout order; throws on a wrong length or a non-finite value. */
  setParams(p: Float32Array): void;
  /** Runs obs [N, obsDim] through the nets: action, its log-probability and the value per row. */
  act(obs: Float32Array, opts?: ActOptions): Promise<ActResult>;
  /** Frees what the policy holds (every GPU buffer, and the device when the policy made it); it is unusable after. */
  destroy(): void;
}

/** Throws unless every element is finite, naming the first bad one as [row, col] of a [*, width] array. */
function checkFinite(what: string, a: Float32Array, width: number): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) throw new Error(`${what} has a non-finite value ${v} at [${Math.floor(i / width)}, ${i % width}] (flat index ${i})`);
  }
}

/** A resolved act() call: row count, output arrays (caller-owned or new), noise key parts. */
interface ActCall {
  n: number;
  result: ActResult;
  deterministic: boolean;
  step: number;
  envOffset: number;
}

/** Checks and resolves one act() call on [*, obsDim] observations; throws a named error on any bad argument. */
function resolveActCall(obs: Float32Array, obsDim: number, actDim: number, defaultStep: number, opts: ActOptions): ActCall {
  if (!(obs instanceof Float32Array)) throw new Error('act: obs must be a Float32Array [N, obsDim]');
  if (obs.length === 0 || obs.length % obsDim !== 0) throw new Error(`act: obs has ${obs.length} values, not a whole number of rows of obsDim = ${obsDim}`);
  checkFinite('act: obs', obs, obsDim);
  const n = obs.length / obsDim;
  const out = opts.out ?? {};
  const result: ActResult = {
    action: out.action ?? new Float32Array(n * actDim),
    logProb: out.logProb ?? new Float32Array(n),
    value: out.value ?? new Float32Array(n),
  };
  if (result.action.length !== n * actDim || result.logProb.length !== n || result.value.length !== n) {
    throw new Error(`act: out arrays must hold [${n}, ${actDim}], [${n}] and [${n}] values`);
  }
  const step = opts.step ?? defaultStep;
  if (!Number.isInteger(step) || step < 0 || step > 0xffffffff) throw new Error(`act: step must be a uint32, got ${step}`);
  const envOffset = opts.envOffset ?? 0;
  if (!Number.isInteger(envOffset) || envOffset < 0 || envOffset + n > 2 ** 32) throw new Error(`act: envOffset must be a uint32, got ${envOffset}`);
  return { n, result, deterministic: opts.deterministic === true, step, envOffset };
}

/** The Policy over a PolicyBackend B: argument checks, the step counter and destroy; the backend does the math. */
export class BackendPolicy<B extends PolicyBackend & { readonly paramLayout: ParamLayout; readonly seed: number }> implements Policy {
  readonly obsDim: number;
  readonly actDim: number;
  readonly hidden: readonly number[];
  readonly paramLayout: ParamLayout;
  readonly numParams: number;
  readonly backend: B['kind'];
  readonly seed: number;
  step = 0;
  private b: B | null;

  constructor(b: B) {
    this.b = b;
    this.backend = b.kind;
    this.paramLayout = b.paramLayout;
    this.obsDim = b.obsDim;
    this.actDim = b.actDim;
    this.hidden = b.hidden;
    this.numParams = b.numParams;
    this.seed = b.seed;
  }

  /** The backend this policy runs on (lent: MUST NOT be destroyed or kept past destroy()), or a clear error after destroy(). */
  net(what = 'net'): B {
    if (!this.b) throw new Error(`${what}: the policy was destroyed`);
    return this.b;
  }

  async getParams(): Promise<Float32Array> {
    return this.net('getParams').getParams();
  }

  setParams(p: Float32Array): void {
    const b = this.net('setParams');
    checkPolicyParams(p, this.paramLayout);
    b.setParams(p);
  }

  async act(obs: Float32Array, opts: ActOptions = {}): Promise<ActResult> {
    const b = this.net('act');
    const { n, result, deterministic, step, envOffset } = resolveActCall(obs, this.obsDim, this.actDim, this.step, opts);
    // The counter advances when the call is made, so calls queued on the GPU sample at consecutive steps.
    if (!deterministic && opts.step === undefined) this.step = (step + 1) >>> 0;
    await b.act(obs, n, { step, seed: this.seed, envOffset, deterministic }, result);
    return result;
  }

  /** Frees the backend; the policy is unusable after. */
  destroy(): void {
    if (!this.b) return;
    this.b.destroy();
    this.b = null;
  }
}
