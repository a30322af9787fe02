/**
 * The Gaussian MLP policy and value net on the CPU: the Policy of webgpu-policy.ts (same sizes, parameter layout,
 * Philox action noise, step counter and errors) backed by the WASM SIMD kernels of WasmBackend
 * (engine/nn/wasm-backend.ts). Same seed, step and env give the same actions as the WebGPU policy up to float
 * rounding. Build it with createPolicy({ ..., backend: 'wasm' }) or WasmPolicy.create.
 */
import { resolveActCall } from './act-call.ts';
import { checkPositiveInt } from './backend.ts';
import { WasmBackend } from './wasm-backend.ts';
import { checkPolicyParams, type ParamLayout } from './param-layout.ts';
import type { ActOptions, ActResult, Policy, PolicyOptions } from './webgpu-policy.ts';

/** Rows of one kernel pass; act() takes any N in chunks of this many. */
export const WASM_POLICY_MAX_BATCH = 1024;

/** Throws unless every element is finite, naming the first bad one as [row, col] of a [*, width] array. */
function checkFinite(what: string, a: Float32Array, width: number): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) throw new Error(`${what} has a non-finite value ${v} at [${Math.floor(i / width)}, ${i % width}] (flat index ${i})`);
  }
}

/** Options of WasmPolicy.create: createPolicy's, less the GPU device, plus the kernel's row capacity. */
export interface WasmPolicyOptions extends Omit<PolicyOptions, 'device' | 'backend'> {
  /** Rows of one kernel pass; default 1024. */
  maxBatch?: number;
}

/** The WASM CPU policy. */
export class WasmPolicy implements Policy {
  readonly obsDim: number;
  readonly actDim: number;
  readonly hidden: readonly number[];
  readonly paramLayout: ParamLayout;
  readonly numParams: number;
  readonly backend = 'wasm' as const;
  readonly seed: number;
  step = 0;
  private b: WasmBackend | null;

  /** Makes a policy with cleanrl's initialization from `seed` (init.ts). */
  static async create(opts: WasmPolicyOptions): Promise<WasmPolicy> {
    const seed = opts.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be a uint32, got ${seed}`);
    const maxBatch = opts.maxBatch ?? WASM_POLICY_MAX_BATCH;
    checkPositiveInt('maxBatch', maxBatch);
    return new WasmPolicy(await WasmBackend.create({ obsDim: opts.obsDim, actDim: opts.actDim, hidden: opts.hidden, seed, maxBatch }));
  }

  private constructor(b: WasmBackend) {
    this.b = b;
    this.paramLayout = b.paramLayout;
    this.obsDim = b.obsDim;
    this.actDim = b.actDim;
    this.hidden = b.hidden;
    this.numParams = b.numParams;
    this.seed = b.seed;
  }

  /** The backend, or a clear error after destroy(). */
  private live(what: string): WasmBackend {
    if (!this.b) throw new Error(`${what}: the policy was destroyed`);
    return this.b;
  }

  async getParams(): Promise<Float32Array> {
    return this.live('getParams').getParams();
  }

  setParams(p: Float32Array): void {
    const b = this.live('setParams');
    checkPolicyParams(p, this.paramLayout);
    b.setParams(p);
  }

  async act(obs: Float32Array, opts: ActOptions = {}): Promise<ActResult> {
    const b = this.live('act');
    if (!(obs instanceof Float32Array)) throw new Error('act: obs must be a Float32Array [N, obsDim]');
    if (obs.length === 0 || obs.length % this.obsDim !== 0) {
      throw new Error(`act: obs has ${obs.length} values, not a whole number of rows of obsDim = ${this.obsDim}`);
    }
    checkFinite('act: obs', obs, this.obsDim);
    const { n, result, deterministic, step, envOffset } = resolveActCall(obs.length, this.obsDim, this.actDim, this.step, opts);
    b.act(obs, n, { step, seed: this.seed, envOffset, deterministic }, result);
    if (!deterministic && opts.step === undefined) this.step = (step + 1) >>> 0;
    return result;
  }

  /** Drops the kernel; the policy is unusable after. */
  destroy(): void {
    if (!this.b) return;
    this.b.destroy();
    this.b = null;
  }
}
