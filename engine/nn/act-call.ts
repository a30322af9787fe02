/** Checks and resolves the arguments of one Policy.act() call; shared by the WebGPU and WASM policies. */
import type { ActOptions, ActResult } from './webgpu-policy.ts';

/** A resolved act() call: row count, output arrays (caller-owned or new), noise key parts. */
export interface ActCall {
  n: number;
  result: ActResult;
  deterministic: boolean;
  step: number;
  envOffset: number;
}

/** Resolves act() for n = obs.length / obsDim rows; throws on wrong output sizes, a step or envOffset out of uint32. */
export function resolveActCall(obsLength: number, obsDim: number, actDim: number, defaultStep: number, opts: ActOptions): ActCall {
  const n = obsLength / obsDim;
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
