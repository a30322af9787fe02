/**
 * Float64 reference of one PPO update on a minibatch, cleanrl's ppo_continuous_action, used to check the
 * WASM and WebGPU backends and as a slow CPU fallback.
 *
 * Per row b (n rows, actDim = A, ε = clipCoef, σ_j = exp(logStd_j)):
 *   mean, value      policy MLP and value MLP (tanh(clamp(z, ±20)) hidden layers, linear outputs)
 *   newLogProb_b     Σ_j [−0.5 (a_bj − mean_bj)² / σ_j² − logStd_j − 0.5 ln 2π]
 *   ratio_b          exp(newLogProb_b − oldLogProb_b)
 *   Â_b              (A_b − mean(A)) / (std(A) + 1e-8) when normAdv (std unbiased, taken as 0 when n = 1), else A_b
 *   pgLoss           mean_b max(−Â ratio, −Â clip(ratio, 1 − ε, 1 + ε))
 *   vLoss            0.5 mean_b max((v − R)², (oldV + clip(v − oldV, −ε, ε) − R)²) when clipVloss, else 0.5 mean_b (v − R)²
 *   entropy          Σ_j (0.5 + 0.5 ln 2π + logStd_j) (the same for every row)
 *   loss             pgLoss − entCoef entropy + vfCoef vLoss
 * Gradients follow torch's autograd: max(x, y) sends the gradient to the larger argument (half to each on a tie),
 * clamp passes it inside [lo, hi] (inclusive) and blocks it outside, so the ±20 clamp before tanh is flat beyond.
 * Then global-norm clipping (torch.nn.utils.clip_grad_norm_) and Adam (torch.optim.Adam, eps 1e-5).
 */
import type { LayerSpec, ParamLayout } from './param-layout.ts';
import { HALF_LOG_2PI, TANH_CLAMP } from './reference.ts';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPS, ADV_NORM_EPS, GRAD_CLIP_EPS, type PpoHyperparams, type PpoLossStats, type PpoStats } from './backend.ts';

/** A minibatch of n rows with any numeric arrays (Float32Array or Float64Array), row-major; arrays may be longer (first n rows used). */
export interface ReferenceMinibatch {
  /** [n, obsDim] observations. */
  obs: ArrayLike<number>;
  /** [n, actDim] actions. */
  actions: ArrayLike<number>;
  /** [n] log-probabilities of the actions under the rollout policy, nats. */
  oldLogProb: ArrayLike<number>;
  /** [n] advantages. */
  advantages: ArrayLike<number>;
  /** [n] returns. */
  returns: ArrayLike<number>;
  /** [n] rollout value estimates. */
  oldValues: ArrayLike<number>;
  n: number;
}

/** Pre-activations and outputs of every layer of one net for n rows, float64. */
export interface NetActivations {
  /** z_l [n, outDim_l] = W_l a_{l−1} + b_l, before the clamp and tanh. */
  pre: Float64Array[];
  /** a_l [n, outDim_l]: tanh(clamp(z_l, ±20)) for hidden layers, z_l for the output layer. */
  out: Float64Array[];
}

/** Activations of both nets for n rows of obs. */
export interface Activations {
  n: number;
  /** [n, obsDim] the input, a_{−1}. */
  obs: Float64Array;
  policy: NetActivations;
  value: NetActivations;
  /** [n, actDim] policy output (the last of policy.out). */
  mean: Float64Array;
  /** [n] value output (the last of value.out). */
  values: Float64Array;
}

/** Per-row quantities of the loss, for tests and diagnostics. */
export interface LossRows {
  /** [n] log-probability of the minibatch actions under the current params, nats. */
  newLogProb: Float64Array;
  /** [n] exp(newLogProb − oldLogProb). */
  ratio: Float64Array;
  /** [n] advantages as used (normalized when normAdv). */
  advantages: Float64Array;
  /** [n] current value estimates. */
  values: Float64Array;
}

/** Gradient of the loss [layout.size] in the flat parameter layout, the loss stats and the per-row terms. */
export interface LossGradient {
  grad: Float64Array;
  stats: PpoLossStats;
  rows: LossRows;
}

/** Adam state in float64: moments [size] and step count t. */
export interface AdamState64 {
  m: Float64Array;
  v: Float64Array;
  t: number;
}

/** Runs one net (its layers in order) on x [n, inDim], keeping every pre-activation and output. */
function netForward(params: Float64Array, layers: LayerSpec[], x: Float64Array, n: number): NetActivations {
  const pre: Float64Array[] = [];
  const out: Float64Array[] = [];
  let h = x;
  for (const { inDim, outDim, weightOffset, biasOffset, tanh } of layers) {
    const z = new Float64Array(n * outDim);
    const a = tanh ? new Float64Array(n * outDim) : z;
    for (let b = 0; b < n; b++) {
      for (let o = 0; o < outDim; o++) {
        let acc = params[biasOffset + o];
        const w = weightOffset + o * inDim;
        const xb = b * inDim;
        for (let i = 0; i < inDim; i++) acc += params[w + i] * h[xb + i];
        z[b * outDim + o] = acc;
        if (tanh) a[b * outDim + o] = Math.tanh(Math.min(TANH_CLAMP, Math.max(-TANH_CLAMP, acc)));
      }
    }
    pre.push(z);
    out.push(a);
    h = a;
  }
  return { pre, out };
}

/** Forward pass of both nets on the first n rows of obs [≥ n, obsDim] in float64, keeping what the backward pass needs. */
export function referenceActivations(params: ArrayLike<number>, layout: ParamLayout, obs: ArrayLike<number>, n: number): Activations {
  if (params.length !== layout.size) throw new Error(`params has ${params.length} elements, layout needs ${layout.size}`);
  if (obs.length < n * layout.obsDim) throw new Error(`obs has ${obs.length} elements, expected at least n * obsDim = ${n * layout.obsDim}`);
  const x = new Float64Array(n * layout.obsDim);
  for (let i = 0; i < x.length; i++) x[i] = obs[i];
  const p = Float64Array.from(params); // one array type keeps the loops monomorphic
  const policy = netForward(p, layout.policyLayers, x, n);
  const value = netForward(p, layout.valueLayers, x, n);
  return { n, obs: x, policy, value, mean: policy.out[policy.out.length - 1], values: value.out[value.out.length - 1] };
}

/**
 * Backpropagates delta = dL/dz_L [n, outDim_L] of a net's output layer through its layers, adding
 * dL/dW and dL/db of every layer into grad (flat layout).
 */
function netBackward(params: Float64Array, layers: LayerSpec[], acts: NetActivations, x: Float64Array, n: number, delta: Float64Array, grad: Float64Array): void {
  let d = delta;
  for (let l = layers.length - 1; l >= 0; l--) {
    const { inDim, outDim, weightOffset, biasOffset } = layers[l];
    const prev = l === 0 ? x : acts.out[l - 1];
    // dW[o, i] = Σ_b d[b, o] a_{l−1}[b, i];  db[o] = Σ_b d[b, o]
    for (let b = 0; b < n; b++) {
      for (let o = 0; o < outDim; o++) {
        const g = d[b * outDim + o];
        grad[biasOffset + o] += g;
        const w = weightOffset + o * inDim;
        for (let i = 0; i < inDim; i++) grad[w + i] += g * prev[b * inDim + i];
      }
    }
    if (l === 0) break;
    // d_{l−1}[b, i] = (Σ_o d[b, o] W[o, i]) · tanh'(z_{l−1}[b, i]), zero where the clamp is active.
    const dPrev = new Float64Array(n * inDim);
    for (let b = 0; b < n; b++) {
      for (let o = 0; o < outDim; o++) {
        const g = d[b * outDim + o];
        const w = weightOffset + o * inDim;
        for (let i = 0; i < inDim; i++) dPrev[b * inDim + i] += g * params[w + i];
      }
    }
    const z = acts.pre[l - 1];
    const a = acts.out[l - 1];
    for (let k = 0; k < dPrev.length; k++) dPrev[k] *= Math.abs(z[k]) <= TANH_CLAMP ? 1 - a[k] * a[k] : 0;
    d = dPrev;
  }
}

/** Gradient share of max(x, y) that goes to x, torch.maximum's rule: 1, 0, or 0.5 on a tie. */
function maxShare(x: number, y: number): number {
  return x > y ? 1 : x < y ? 0 : 0.5;
}

/** Mean and unbiased std of adv[0..n) (std 0 when n = 1), float64. */
export function advantageMoments(adv: ArrayLike<number>, n: number): { mean: number; std: number } {
  let s = 0;
  for (let b = 0; b < n; b++) s += adv[b];
  const mean = s / n;
  let ss = 0;
  for (let b = 0; b < n; b++) ss += (adv[b] - mean) ** 2;
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

/** The PPO loss of a minibatch and its gradient w.r.t. every parameter, from a forward pass on mb.obs. */
export function referenceBackward(params: ArrayLike<number>, layout: ParamLayout, acts: Activations, mb: ReferenceMinibatch, hp: PpoHyperparams): LossGradient {
  const { n } = mb;
  const A = layout.actDim;
  if (acts.n !== n) throw new Error(`activations have ${acts.n} rows, the minibatch ${n}`);
  for (const [k, len] of [['actions', n * A], ['oldLogProb', n], ['advantages', n], ['returns', n], ['oldValues', n]] as const) {
    if (mb[k].length < len) throw new Error(`minibatch ${k} has ${mb[k].length} elements, expected at least ${len}`);
  }
  const eps = hp.clipCoef;
  const grad = new Float64Array(layout.size);
  const dMean = new Float64Array(n * A);
  const dValue = new Float64Array(n);
  const newLogProb = new Float64Array(n);
  const ratio = new Float64Array(n);
  const advantages = new Float64Array(n);
  const { mean: advMean, std: advStd } = advantageMoments(mb.advantages, n);
  const logStd = Array.from({ length: A }, (_, j) => params[layout.logStdOffset + j]);
  const invVar = logStd.map((s) => Math.exp(-2 * s));
  let pgSum = 0;
  let vSum = 0;
  let klSum = 0;
  let clipCount = 0;
  for (let b = 0; b < n; b++) {
    // HEAD: log-probability and ratio.
    let lp = 0;
    for (let j = 0; j < A; j++) {
      const diff = mb.actions[b * A + j] - acts.mean[b * A + j];
      lp += -0.5 * diff * diff * invVar[j] - logStd[j] - HALF_LOG_2PI;
    }
    newLogProb[b] = lp;
    const logRatio = lp - mb.oldLogProb[b];
    const r = Math.exp(logRatio);
    ratio[b] = r;
    klSum += r - 1 - logRatio;
    if (Math.abs(r - 1) > eps) clipCount++;
    const adv = hp.normAdv ? (mb.advantages[b] - advMean) / (advStd + ADV_NORM_EPS) : mb.advantages[b];
    advantages[b] = adv;
    // POLICY LOSS: l = max(−Â r, −Â clip(r)); dl/dr through whichever branch is larger.
    const rc = Math.min(1 + eps, Math.max(1 - eps, r));
    const pg1 = -adv * r;
    const pg2 = -adv * rc;
    pgSum += Math.max(pg1, pg2);
    const s1 = maxShare(pg1, pg2);
    const dClip = r >= 1 - eps && r <= 1 + eps ? 1 : 0;
    const dlDr = (s1 * -adv + (1 - s1) * -adv * dClip) / n;
    const dLp = dlDr * r; // d r / d lp = r
    for (let j = 0; j < A; j++) {
      const diff = mb.actions[b * A + j] - acts.mean[b * A + j];
      dMean[b * A + j] = dLp * diff * invVar[j]; // d lp / d mean = (a − mean) / σ²
      grad[layout.logStdOffset + j] += dLp * (diff * diff * invVar[j] - 1); // d lp / d logStd = (a − mean)² / σ² − 1
    }
    // VALUE LOSS.
    const v = acts.values[b];
    const R = mb.returns[b];
    let dv: number;
    if (hp.clipVloss) {
      const oldV = mb.oldValues[b];
      const dOld = v - oldV;
      const vc = oldV + Math.min(eps, Math.max(-eps, dOld));
      const lu = (v - R) ** 2;
      const lc = (vc - R) ** 2;
      vSum += Math.max(lu, lc);
      const su = maxShare(lu, lc);
      const dvc = dOld >= -eps && dOld <= eps ? 1 : 0;
      dv = su * 2 * (v - R) + (1 - su) * 2 * (vc - R) * dvc;
    } else {
      vSum += (v - R) ** 2;
      dv = 2 * (v - R);
    }
    dValue[b] = (hp.vfCoef * 0.5 * dv) / n;
  }
  // ENTROPY: d/dlogStd_j of −entCoef Σ_j (0.5 + 0.5 ln 2π + logStd_j) is −entCoef.
  let entropy = 0;
  for (let j = 0; j < A; j++) {
    entropy += 0.5 + HALF_LOG_2PI + logStd[j];
    grad[layout.logStdOffset + j] -= hp.entCoef;
  }
  const p = Float64Array.from(params);
  netBackward(p, layout.policyLayers, acts.policy, acts.obs, n, dMean, grad);
  netBackward(p, layout.valueLayers, acts.value, acts.obs, n, dValue, grad);
  const pgLoss = pgSum / n;
  const vLoss = (0.5 * vSum) / n;
  const stats: PpoLossStats = {
    loss: pgLoss - hp.entCoef * entropy + hp.vfCoef * vLoss,
    pgLoss,
    vLoss,
    entropy,
    approxKl: klSum / n,
    clipFrac: clipCount / n,
  };
  return { grad, stats, rows: { newLogProb, ratio, advantages, values: Float64Array.from(acts.values) } };
}

/** The PPO loss of a minibatch and its gradient [layout.size] w.r.t. params, float64. */
export function referencePpoLoss(params: ArrayLike<number>, layout: ParamLayout, mb: ReferenceMinibatch, hp: PpoHyperparams): LossGradient {
  return referenceBackward(params, layout, referenceActivations(params, layout, mb.obs, mb.n), mb, hp);
}

/** Global L2 norm of grad; scales grad in place by maxNorm / (norm + 1e-6) when that is below 1 (torch). Returns the norm before clipping. */
export function clipGradNorm(grad: Float64Array, maxNorm: number): number {
  let ss = 0;
  for (let i = 0; i < grad.length; i++) ss += grad[i] * grad[i];
  const norm = Math.sqrt(ss);
  const coef = maxNorm / (norm + GRAD_CLIP_EPS);
  if (coef < 1) for (let i = 0; i < grad.length; i++) grad[i] *= coef;
  return norm;
}

/** A zeroed float64 Adam state for size parameters. */
export function adamState64(size: number): AdamState64 {
  return { m: new Float64Array(size), v: new Float64Array(size), t: 0 };
}

/**
 * One Adam step in place, torch.optim.Adam: t ← t + 1; m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²;
 * p ← p − (lr / (1 − β1^t)) m / (√v / √(1 − β2^t) + eps).
 */
export function adamUpdate(params: Float64Array, grad: ArrayLike<number>, state: AdamState64, lr: number, beta1 = ADAM_BETA1, beta2 = ADAM_BETA2, eps = ADAM_EPS): void {
  const { m, v } = state;
  if (grad.length !== params.length || m.length !== params.length || v.length !== params.length) {
    throw new Error(`adam: params ${params.length}, grad ${grad.length}, m ${m.length}, v ${v.length} must have one length`);
  }
  state.t += 1;
  const stepSize = lr / (1 - beta1 ** state.t);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** state.t);
  for (let i = 0; i < params.length; i++) {
    const g = grad[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    params[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
  }
}

/** One full PPO step in float64: loss gradient, norm clipping, Adam; updates params and state in place. */
export function referencePpoStep(params: Float64Array, state: AdamState64, layout: ParamLayout, mb: ReferenceMinibatch, hp: PpoHyperparams): PpoStats {
  const { grad, stats } = referencePpoLoss(params, layout, mb, hp);
  const gradNorm = clipGradNorm(grad, hp.maxGradNorm);
  adamUpdate(params, grad, state, hp.lr);
  return { ...stats, gradNorm };
}
