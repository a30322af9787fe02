// Seeded inputs for the training tests: random parameters, minibatches built so that no clip boundary (ratio at
// 1 ± ε, value change at ±ε, a tie inside a max) lies near any row, and tensor-wise error measures.
import { initParams } from '../../engine/nn/init.ts';
import type { ParamLayout } from '../../engine/nn/param-layout.ts';
import type { Minibatch } from '../../engine/nn/backend.ts';
import { referenceActivations } from '../../engine/nn/ppo-reference.ts';
import { mulberry32 } from '../../engine/rng.ts';

/** Deterministic uniform numbers in [0, 1) (mulberry32, engine/rng.ts). */
export const rng = mulberry32;

/** Standard normal from a uniform source (Box-Muller). */
export function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** cleanrl init for seed, plus N(0, noise²) on every weight and bias, and logStd uniform in [−0.6, 0.3]; float32. */
export function randomParams(layout: ParamLayout, seed: number, noise = 0.05): Float32Array {
  const r = rng(seed * 7919 + 1);
  const p = initParams(layout, seed);
  for (let i = 0; i < p.length; i++) p[i] += noise * gaussian(r);
  for (let j = 0; j < layout.actDim; j++) p[layout.logStdOffset + j] = -0.6 + 0.9 * r();
  return p;
}

/** Target ratios: two below 1 − ε, two inside, two above 1 + ε for ε = 0.2, each ≥ 0.05 from a boundary. */
const RATIOS = [0.55, 0.7, 0.9, 1.1, 1.3, 1.55];
/** Value changes v − oldV: two outside ±ε, two inside, each ≥ 0.08 from ±0.2. */
const VALUE_STEPS = [-0.45, -0.1, 0.12, 0.5];

/**
 * A minibatch of n rows for params (float32): obs ~ N(0, 1); actions = mean + σ z; oldLogProb set so that the
 * ratio under params is one of RATIOS (×(1 ± 2%)); advantages ~ N(0, 1) with signs alternating in blocks of 6
 * rows; oldValues = v − VALUE_STEPS[b % 4]; returns ~ N(0, 1) moved away from the tie (v + v_clipped) / 2.
 */
export function makeMinibatch(layout: ParamLayout, params: Float32Array, n: number, seed: number, clipCoef = 0.2): Minibatch {
  if (clipCoef !== 0.2) throw new Error('makeMinibatch margins are set for clipCoef 0.2');
  const r = rng(seed);
  const { obsDim, actDim } = layout;
  const obs = Float32Array.from({ length: n * obsDim }, () => gaussian(r));
  const acts = referenceActivations(params, layout, obs, n);
  const actions = new Float32Array(n * actDim);
  const oldLogProb = new Float32Array(n);
  const advantages = new Float32Array(n);
  const returns = new Float32Array(n);
  const oldValues = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    let lp = 0;
    for (let j = 0; j < actDim; j++) {
      const ls = params[layout.logStdOffset + j];
      const a = Math.fround(acts.mean[b * actDim + j] + Math.exp(ls) * gaussian(r));
      actions[b * actDim + j] = a;
      const z = (a - acts.mean[b * actDim + j]) * Math.exp(-ls);
      lp += -0.5 * z * z - ls - 0.5 * Math.log(2 * Math.PI);
    }
    const ratio = RATIOS[b % 6] * (1 + 0.02 * (2 * r() - 1));
    oldLogProb[b] = lp - Math.log(ratio);
    const sign = Math.floor(b / 6) % 2 === 0 ? 1 : -1;
    advantages[b] = sign * (0.3 + Math.abs(gaussian(r)));
    const v = acts.values[b];
    const step = VALUE_STEPS[b % 4] * (1 + 0.05 * (2 * r() - 1));
    oldValues[b] = v - step;
    const vc = oldValues[b] + Math.max(-clipCoef, Math.min(clipCoef, v - oldValues[b]));
    let R = gaussian(r);
    if (Math.abs(Math.abs(v - R) - Math.abs(vc - R)) < 0.05) R += 0.5;
    returns[b] = R;
  }
  return { obs, actions, oldLogProb, advantages, returns, oldValues, n };
}

/** Largest |a − b| over each parameter tensor divided by that tensor's largest |b| (0 when b is all zero and a equals it). */
export function tensorErrors(layout: ParamLayout, a: ArrayLike<number>, b: ArrayLike<number>): { name: string; err: number; scale: number }[] {
  return layout.entries.map((e) => {
    const size = e.shape.reduce((x, y) => x * y, 1);
    let d = 0;
    let s = 0;
    for (let k = e.offset; k < e.offset + size; k++) {
      d = Math.max(d, Math.abs(a[k] - b[k]));
      s = Math.max(s, Math.abs(b[k]));
    }
    return { name: e.name, err: s > 0 ? d / s : d, scale: s };
  });
}

/** Largest |a − b| / max|b| over two arrays. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return s > 0 ? d / s : d;
}
