/**
 * Float64 TypeScript reference of the policy forward pass: the same math as the WGSL kernels
 * (shaders/mlp-layer.wgsl, shaders/gaussian-head.wgsl), used to check them and as a slow CPU fallback.
 *
 * hidden h = tanh(clamp(W x + b, -20, 20)); mean = W h + b (linear); value = W h + b (linear, [1]);
 * action = mean + exp(logStd) z with z from Philox (philox.ts, stream 0), or mean when deterministic;
 * logProb = Σ_j [-0.5 z'_j² - logStd_j - 0.5 ln 2π] with z' = (action - mean) exp(-logStd).
 */
import type { LayerSpec, ParamLayout } from './param-layout.ts';
import { actionNoise } from './philox.ts';

/** 0.5 ln(2π), the Gaussian log-density constant per dimension. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Pre-activations are clamped to ±TANH_CLAMP before tanh, as in the WGSL. */
export const TANH_CLAMP = 20;

/** Options of one forward pass: sampling noise and its key. */
export interface ForwardOptions {
  /** Return the mean action (and its log-probability) instead of a sample. */
  deterministic?: boolean;
  /** Philox key, uint32. */
  seed?: number;
  /** Step index t of the Philox counter (e, t, j >> 2, 0), uint32. */
  step?: number;
  /** Global index of row 0, so row r is env envOffset + r in the Philox counter. */
  envOffset?: number;
}

/** Outputs of one forward pass of N rows, float64. */
export interface ForwardResult {
  /** [N, actDim] mean action. */
  mean: Float64Array;
  /** [N, actDim] action (the mean when deterministic). */
  action: Float64Array;
  /** [N] log-probability of the action under the Gaussian, nats. */
  logProb: Float64Array;
  /** [N] state value. */
  value: Float64Array;
}

/** Applies one dense layer to N rows of x [N, inDim] into y [N, outDim], float64. */
function dense(params: ArrayLike<number>, layer: LayerSpec, x: Float64Array, n: number): Float64Array {
  const { inDim, outDim, weightOffset, biasOffset, tanh } = layer;
  const y = new Float64Array(n * outDim);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < outDim; o++) {
      let acc = params[biasOffset + o];
      const w = weightOffset + o * inDim;
      const xb = b * inDim;
      for (let i = 0; i < inDim; i++) acc += params[w + i] * x[xb + i];
      y[b * outDim + o] = tanh ? Math.tanh(Math.min(TANH_CLAMP, Math.max(-TANH_CLAMP, acc))) : acc;
    }
  }
  return y;
}

/** Runs N rows of obs [N, obsDim] through the policy and value nets in float64. */
export function referenceForward(
  params: ArrayLike<number>,
  layout: ParamLayout,
  obs: ArrayLike<number>,
  n: number,
  opts: ForwardOptions = {},
): ForwardResult {
  const { obsDim, actDim } = layout;
  if (params.length !== layout.size) throw new Error(`params has ${params.length} elements, layout needs ${layout.size}`);
  if (obs.length !== n * obsDim) throw new Error(`obs has ${obs.length} elements, expected N * obsDim = ${n * obsDim}`);
  const x = Float64Array.from(obs);
  let h: Float64Array = x;
  for (const layer of layout.policyLayers) h = dense(params, layer, h, n);
  const mean = h;
  h = x;
  for (const layer of layout.valueLayers) h = dense(params, layer, h, n);
  const value = h;
  const seed = (opts.seed ?? 0) >>> 0;
  const step = (opts.step ?? 0) >>> 0;
  const envOffset = opts.envOffset ?? 0;
  const action = new Float64Array(n * actDim);
  const logProb = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let lp = 0;
    for (let j = 0; j < actDim; j++) {
      const logStd = params[layout.logStdOffset + j];
      const m = mean[b * actDim + j];
      const z = opts.deterministic ? 0 : actionNoise(seed, (envOffset + b) >>> 0, step, j);
      const a = m + Math.exp(logStd) * z;
      const zr = (a - m) * Math.exp(-logStd);
      action[b * actDim + j] = a;
      lp += -0.5 * zr * zr - logStd - HALF_LOG_2PI;
    }
    logProb[b] = lp;
  }
  return { mean, action, logProb, value };
}
