/**
 * The Policy (policy.ts) on the CPU: BackendPolicy over the WASM SIMD kernels of WasmBackend. Same seed, step and
 * env give the same actions as the WebGPU policy up to float rounding. Build it with createPolicy({ ..., backend:
 * 'wasm' }) or WasmPolicy.create.
 */
import { BackendPolicy, type PolicyOptions } from './policy.ts';
import { WasmBackend } from './wasm-backend.ts';

/** Rows of one kernel pass; act() takes any N in chunks of this many. */
export const WASM_POLICY_MAX_BATCH = 1024;

/** Options of WasmPolicy.create: createPolicy's, less the GPU device. */
export type WasmPolicyOptions = Omit<PolicyOptions, 'device' | 'backend'>;

/** The WASM CPU policy. */
export class WasmPolicy extends BackendPolicy<WasmBackend> {
  /** Makes a policy with cleanrl's initialization from `seed` (init.ts). */
  static async create(opts: WasmPolicyOptions): Promise<WasmPolicy> {
    return new WasmPolicy(await WasmBackend.create({ obsDim: opts.obsDim, actDim: opts.actDim, hidden: opts.hidden, seed: opts.seed ?? 0, maxBatch: opts.maxBatch ?? WASM_POLICY_MAX_BATCH }));
  }
}
