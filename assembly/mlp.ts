// The CPU backend's kernels: forward pass of the Gaussian MLP policy and its value MLP, action sampling,
// log-probabilities, the PPO loss and its gradient, the global gradient norm and Adam, in place on buffers that
// the glue (engine/nn/wasm-backend.ts) laid out in the backend's memory and described in the table
// (assembly/lib/mlp-layout.ts) whose address every entry takes as `t`. No static data, no allocation.
//
// Math (the same as engine/nn/ppo-reference.ts; matrices f32 with f32x4 SIMD, per-row head math in f64):
//   hidden a_l = tanh(W_l a_{l−1} + b_l) (tanh4: ±1 exactly for |z| ≥ 9, so no gradient there), outputs linear
//   action = mean + exp(logStd) z, z from Philox (stream 0, counter (envOffset + row, step, j >> 2, 0), key seed)
//   logProb = Σ_j [−0.5 ((a − mean) exp(−logStd))² − logStd − 0.5 ln 2π]
//   loss = pgLoss − entCoef entropy + vfCoef vLoss (cleanrl ppo_continuous_action); gradient into P_GRAD
//   Adam (torch): m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²; p ← p − stepSize m / (√v invSqrtBc2 + eps)
import {
  L_ACT, L_B, L_IN, L_OUT, L_W, LAYER_BYTES, MAX_HIDDEN, P_ACTION_OUT, P_ACTIONS, P_ADAM_M, P_ADAM_V, P_ADV, P_DELTA_A,
  P_DELTA_B, P_DMEAN, P_DVALUE, P_GRAD, P_LOG_STD, P_LOGP_OUT, P_LOGSTD_ACC, P_OBS, P_OLD_LOGP, P_OLD_VALUES, P_PARAMS,
  P_RETURNS, P_STATS, POLICY_LAYERS, S_ADV_MEAN, S_ADV_STD, S_APPROX_KL, S_CLIP_FRAC, S_ENTROPY, S_LOSS, S_PG_LOSS, S_V_LOSS,
  T_ACT_DIM, T_NUM_HIDDEN, T_NUM_PARAMS, TABLE_BYTES, VALUE_LAYERS, VERSION,
} from './lib/mlp-layout';
import { colSum, denseForward, gemmStrided } from './lib/mlp-gemm';
import { gauss, gauss0, gauss1, gauss2, gauss3, gaussians, philox, word0, word1, word2, word3 } from './lib/mlp-philox';
import { tanh4 } from './lib/mlp-simd';

// Layout constants the glue checks against its own copy.
export const MLP_LAYOUT_VERSION: i32 = VERSION;
export const MLP_LAYOUT_TABLE_BYTES: i32 = TABLE_BYTES;
export const MLP_LAYOUT_MAX_HIDDEN: i32 = MAX_HIDDEN;

/** 0.5 ln 2π. */
const HALF_LOG_2PI: f64 = 0.9189385332046727;

/** i32 field of the table. */
@inline function field(t: usize, off: i32): i32 {
  return load<i32>(t + <usize>off);
}

/** Byte address stored in the table. */
@inline function ptr(t: usize, off: i32): usize {
  return <usize>load<u32>(t + <usize>off);
}

/** Address of the descriptor of layer l of the net whose descriptors start at base. */
@inline function layer(t: usize, base: i32, l: i32): usize {
  return t + <usize>(base + l * LAYER_BYTES);
}

/** Address of a net's output activations ([maxBatch, actDim] mean or [maxBatch] value). */
@inline function netOut(t: usize, base: i32): usize {
  return <usize>load<u32>(layer(t, base, field(t, T_NUM_HIDDEN)) + <usize>L_ACT);
}

/** Runs every layer of one net on the first n rows of the obs buffer, keeping each layer's output. */
function runNet(t: usize, base: i32, n: i32): void {
  const L = field(t, T_NUM_HIDDEN);
  let x = ptr(t, P_OBS);
  for (let l = 0; l <= L; l++) {
    const e = layer(t, base, l);
    const y = <usize>load<u32>(e + <usize>L_ACT);
    denseForward(x, n, load<i32>(e + <usize>L_IN), <usize>load<u32>(e + <usize>L_W), <usize>load<u32>(e + <usize>L_B), load<i32>(e + <usize>L_OUT), y, l < L);
    x = y;
  }
}

/** Forward pass of n rows of the obs buffer: the policy net when nets & 1, the value net when nets & 2. */
export function forward(t: usize, n: i32, nets: i32): void {
  if (nets & 1) runNet(t, POLICY_LAYERS, n);
  if (nets & 2) runNet(t, VALUE_LAYERS, n);
}

/** Samples actions [n, actDim] from the mean (after forward) into the action-out buffer and their logProb [n]; z = 0 when deterministic != 0. */
export function sample(t: usize, n: i32, seed: u32, step: u32, envOffset: u32, deterministic: i32): void {
  const A = field(t, T_ACT_DIM);
  const mean = netOut(t, POLICY_LAYERS);
  const logStd = ptr(t, P_LOG_STD);
  const act = ptr(t, P_ACTION_OUT);
  const lpOut = ptr(t, P_LOGP_OUT);
  for (let i = 0; i < n; i++) {
    let lp = 0.0;
    for (let j = 0; j < A; j++) {
      if (deterministic == 0 && (j & 3) == 0) gaussians(seed, envOffset + <u32>i, step, <u32>j >>> 2, 0);
      const ls = <f64>load<f32>(logStd + (<usize>j << 2));
      const k = (<usize>i * <usize>A + <usize>j) << 2;
      const m = <f64>load<f32>(mean + k);
      const z = deterministic != 0 ? 0.0 : gauss(j & 3);
      const a = <f32>(m + Math.exp(ls) * z);
      store<f32>(act + k, a);
      const zr = (<f64>a - m) * Math.exp(-ls);
      lp += -0.5 * zr * zr - ls - HALF_LOG_2PI;
    }
    store<f32>(lpOut + (<usize>i << 2), <f32>lp);
  }
}

/** Log-probability [n] of the minibatch actions under the current mean (after forward) into the logProb-out buffer. */
export function logProb(t: usize, n: i32): void {
  const A = field(t, T_ACT_DIM);
  const mean = netOut(t, POLICY_LAYERS);
  const logStd = ptr(t, P_LOG_STD);
  const actions = ptr(t, P_ACTIONS);
  const lpOut = ptr(t, P_LOGP_OUT);
  for (let i = 0; i < n; i++) {
    let lp = 0.0;
    for (let j = 0; j < A; j++) {
      const ls = <f64>load<f32>(logStd + (<usize>j << 2));
      const k = (<usize>i * <usize>A + <usize>j) << 2;
      const zr = (<f64>load<f32>(actions + k) - <f64>load<f32>(mean + k)) * Math.exp(-ls);
      lp += -0.5 * zr * zr - ls - HALF_LOG_2PI;
    }
    store<f32>(lpOut + (<usize>i << 2), <f32>lp);
  }
}

/** Gradient share of max(x, y) that goes to x (torch.maximum): 1, 0, or 0.5 on a tie. */
@inline function maxShare(x: f64, y: f64): f64 {
  return x > y ? 1.0 : x < y ? 0.0 : 0.5;
}

/**
 * Backpropagates dOut = dLoss/d(output) [n, outDim_L] through one net (activations from forward), writing
 * dW = δᵀ a_{l−1} and db = Σ_b δ of every layer into the gradient buffer.
 */
function backprop(t: usize, base: i32, n: i32, dOut: usize): void {
  const L = field(t, T_NUM_HIDDEN);
  const params = ptr(t, P_PARAMS);
  const grad = ptr(t, P_GRAD);
  const deltaA = ptr(t, P_DELTA_A);
  const deltaB = ptr(t, P_DELTA_B);
  let d = dOut;
  for (let l = L; l >= 0; l--) {
    const e = layer(t, base, l);
    const inDim = load<i32>(e + <usize>L_IN);
    const outDim = load<i32>(e + <usize>L_OUT);
    const w = <usize>load<u32>(e + <usize>L_W);
    const b = <usize>load<u32>(e + <usize>L_B);
    const prev = l == 0 ? ptr(t, P_OBS) : <usize>load<u32>(layer(t, base, l - 1) + <usize>L_ACT);
    const ro = <usize>outDim << 2;
    const ri = <usize>inDim << 2;
    // dW[o, i] = Σ_b δ[b, o] a_{l−1}[b, i]: A(m = o, k = b) at d + 4 o + ro b.
    gemmStrided(outDim, inDim, n, d, 4, ro, prev, ri, grad + (w - params), ri, 0);
    colSum(d, n, outDim, grad + (b - params));
    if (l > 0) {
      // δ_{l−1}[b, i] = (Σ_o δ[b, o] W[o, i]) (1 − a_{l−1}[b, i]²): A(m = b, k = o) at d + ro b + 4 o.
      const dst = d == deltaA ? deltaB : deltaA;
      gemmStrided(n, inDim, outDim, d, ro, 4, w, ri, dst, ri, prev);
      d = dst;
    }
  }
}

/**
 * PPO loss on the first n rows of the minibatch buffers (after forward(t, n, 3) on their obs): writes the
 * gradient of every parameter to the gradient buffer and the statistics (S_*) to the stats buffer.
 */
export function lossBackward(t: usize, n: i32, clipCoef: f64, clipVloss: i32, entCoef: f64, vfCoef: f64, normAdv: i32): void {
  const A = field(t, T_ACT_DIM);
  const mean = netOut(t, POLICY_LAYERS);
  const values = netOut(t, VALUE_LAYERS);
  const actions = ptr(t, P_ACTIONS);
  const oldLp = ptr(t, P_OLD_LOGP);
  const adv = ptr(t, P_ADV);
  const ret = ptr(t, P_RETURNS);
  const oldV = ptr(t, P_OLD_VALUES);
  const dMean = ptr(t, P_DMEAN);
  const dValue = ptr(t, P_DVALUE);
  const acc = ptr(t, P_LOGSTD_ACC);
  const logStd = ptr(t, P_LOG_STD);
  const gLogStd = ptr(t, P_GRAD) + (logStd - ptr(t, P_PARAMS));
  const stats = ptr(t, P_STATS);
  const eps = clipCoef;
  const invN = 1.0 / <f64>n;
  // Advantage moments: mean and unbiased std (0 when n = 1).
  let s = 0.0;
  for (let b = 0; b < n; b++) s += <f64>load<f32>(adv + (<usize>b << 2));
  const advMean = s * invN;
  let ss = 0.0;
  for (let b = 0; b < n; b++) {
    const d = <f64>load<f32>(adv + (<usize>b << 2)) - advMean;
    ss += d * d;
  }
  const advStd = n > 1 ? Math.sqrt(ss / <f64>(n - 1)) : 0.0;
  const advScale = 1.0 / (advStd + 1e-8);
  for (let j = 0; j < A; j++) store<f64>(acc + (<usize>j << 3), 0.0);
  let pgSum = 0.0, vSum = 0.0, klSum = 0.0, clipCount = 0.0;
  for (let b = 0; b < n; b++) {
    const bo = <usize>b << 2;
    // HEAD: log-probability and ratio.
    let lp = 0.0;
    for (let j = 0; j < A; j++) {
      const ls = <f64>load<f32>(logStd + (<usize>j << 2));
      const k = (<usize>b * <usize>A + <usize>j) << 2;
      const diff = <f64>load<f32>(actions + k) - <f64>load<f32>(mean + k);
      lp += -0.5 * diff * diff * Math.exp(-2.0 * ls) - ls - HALF_LOG_2PI;
    }
    const logRatio = lp - <f64>load<f32>(oldLp + bo);
    const r = Math.exp(logRatio);
    klSum += r - 1.0 - logRatio;
    if (Math.abs(r - 1.0) > eps) clipCount += 1.0;
    let a = <f64>load<f32>(adv + bo);
    if (normAdv != 0) a = (a - advMean) * advScale;
    // POLICY LOSS: max(−Â r, −Â clip(r, 1 − ε, 1 + ε)).
    const rc = Math.min(1.0 + eps, Math.max(1.0 - eps, r));
    const pg1 = -a * r;
    const pg2 = -a * rc;
    pgSum += Math.max(pg1, pg2);
    const s1 = maxShare(pg1, pg2);
    const dClip = r >= 1.0 - eps && r <= 1.0 + eps ? 1.0 : 0.0;
    const dLp = (s1 * -a + (1.0 - s1) * -a * dClip) * invN * r;
    for (let j = 0; j < A; j++) {
      const ls = <f64>load<f32>(logStd + (<usize>j << 2));
      const invVar = Math.exp(-2.0 * ls);
      const k = (<usize>b * <usize>A + <usize>j) << 2;
      const diff = <f64>load<f32>(actions + k) - <f64>load<f32>(mean + k);
      store<f32>(dMean + k, <f32>(dLp * diff * invVar));
      const pa = acc + (<usize>j << 3);
      store<f64>(pa, load<f64>(pa) + dLp * (diff * diff * invVar - 1.0));
    }
    // VALUE LOSS.
    const v = <f64>load<f32>(values + bo);
    const R = <f64>load<f32>(ret + bo);
    let dv: f64;
    if (clipVloss != 0) {
      const ov = <f64>load<f32>(oldV + bo);
      const dOld = v - ov;
      const vc = ov + Math.min(eps, Math.max(-eps, dOld));
      const lu = (v - R) * (v - R);
      const lc = (vc - R) * (vc - R);
      vSum += Math.max(lu, lc);
      const su = maxShare(lu, lc);
      const dvc = dOld >= -eps && dOld <= eps ? 1.0 : 0.0;
      dv = su * 2.0 * (v - R) + (1.0 - su) * 2.0 * (vc - R) * dvc;
    } else {
      vSum += (v - R) * (v - R);
      dv = 2.0 * (v - R);
    }
    store<f32>(dValue + bo, <f32>(vfCoef * 0.5 * dv * invN));
  }
  // ENTROPY: Σ_j (0.5 + 0.5 ln 2π + logStd_j); its gradient −entCoef goes to every logStd_j.
  let entropy = 0.0;
  for (let j = 0; j < A; j++) {
    entropy += 0.5 + HALF_LOG_2PI + <f64>load<f32>(logStd + (<usize>j << 2));
    store<f32>(gLogStd + (<usize>j << 2), <f32>(load<f64>(acc + (<usize>j << 3)) - entCoef));
  }
  backprop(t, POLICY_LAYERS, n, dMean);
  backprop(t, VALUE_LAYERS, n, dValue);
  const pgLoss = pgSum * invN;
  const vLoss = 0.5 * vSum * invN;
  store<f64>(stats + (<usize>S_LOSS << 3), pgLoss - entCoef * entropy + vfCoef * vLoss);
  store<f64>(stats + (<usize>S_PG_LOSS << 3), pgLoss);
  store<f64>(stats + (<usize>S_V_LOSS << 3), vLoss);
  store<f64>(stats + (<usize>S_ENTROPY << 3), entropy);
  store<f64>(stats + (<usize>S_APPROX_KL << 3), klSum * invN);
  store<f64>(stats + (<usize>S_CLIP_FRAC << 3), clipCount * invN);
  store<f64>(stats + (<usize>S_ADV_MEAN << 3), advMean);
  store<f64>(stats + (<usize>S_ADV_STD << 3), advStd);
}

/** Global L2 norm of the gradient buffer (squares summed in f64). */
export function gradNorm(t: usize): f64 {
  const g = ptr(t, P_GRAD);
  const P = field(t, T_NUM_PARAMS);
  const pv = <usize>(P & ~3) << 2;
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  for (let i: usize = 0; i < pv; i += 16) {
    const v = v128.load(g + i);
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1));
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (let i = P & ~3; i < P; i++) {
    const x = <f64>load<f32>(g + (<usize>i << 2));
    s += x * x;
  }
  return Math.sqrt(s);
}

/**
 * One Adam step on every parameter with gradient gradScale · grad (the clipping coefficient folded in):
 * m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²; p ← p − stepSize m / (√v invSqrtBc2 + eps), in f32.
 */
export function adam(t: usize, gradScale: f64, stepSize: f64, invSqrtBc2: f64, beta1: f64, oneMinusBeta1: f64, beta2: f64, oneMinusBeta2: f64, eps: f64): void {
  const p = ptr(t, P_PARAMS);
  const g = ptr(t, P_GRAD);
  const m = ptr(t, P_ADAM_M);
  const v = ptr(t, P_ADAM_V);
  const P = field(t, T_NUM_PARAMS);
  const gs = f32x4.splat(<f32>gradScale);
  const ss = f32x4.splat(<f32>stepSize);
  const ib = f32x4.splat(<f32>invSqrtBc2);
  const b1 = f32x4.splat(<f32>beta1);
  const c1 = f32x4.splat(<f32>oneMinusBeta1);
  const b2 = f32x4.splat(<f32>beta2);
  const c2 = f32x4.splat(<f32>oneMinusBeta2);
  const ev = f32x4.splat(<f32>eps);
  const pv = <usize>(P & ~3) << 2;
  for (let i: usize = 0; i < pv; i += 16) {
    const gi = f32x4.mul(v128.load(g + i), gs);
    const mi = f32x4.add(f32x4.mul(b1, v128.load(m + i)), f32x4.mul(c1, gi));
    const vi = f32x4.add(f32x4.mul(b2, v128.load(v + i)), f32x4.mul(c2, f32x4.mul(gi, gi)));
    const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vi), ib), ev);
    v128.store(m + i, mi);
    v128.store(v + i, vi);
    v128.store(p + i, f32x4.sub(v128.load(p + i), f32x4.div(f32x4.mul(ss, mi), denom)));
  }
  for (let k = P & ~3; k < P; k++) {
    const i = <usize>k << 2;
    const gi = load<f32>(g + i) * <f32>gradScale;
    const mi = <f32>beta1 * load<f32>(m + i) + <f32>oneMinusBeta1 * gi;
    const vi = <f32>beta2 * load<f32>(v + i) + <f32>oneMinusBeta2 * (gi * gi);
    const denom = Mathf.sqrt(vi) * <f32>invSqrtBc2 + <f32>eps;
    store<f32>(m + i, mi);
    store<f32>(v + i, vi);
    store<f32>(p + i, load<f32>(p + i) - (<f32>stepSize * mi) / denom);
  }
}

/** Writes the four Philox4x32-10 words at counter (c0..c3), key (k0, k1) to out[0..3] (u32), for tests. */
export function philoxWordsTo(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32, out: usize): void {
  philox(c0, c1, c2, c3, k0, k1);
  store<u32>(out, word0);
  store<u32>(out, word1, 4);
  store<u32>(out, word2, 8);
  store<u32>(out, word3, 12);
}

/** Writes the four f64 Gaussians of the Philox call at counter (c0..c3), key (seed, 0) to out[0..3], for tests. */
export function gaussiansTo(seed: u32, c0: u32, c1: u32, c2: u32, c3: u32, out: usize): void {
  gaussians(seed, c0, c1, c2, c3);
  store<f64>(out, gauss0);
  store<f64>(out, gauss1, 8);
  store<f64>(out, gauss2, 16);
  store<f64>(out, gauss3, 24);
}

/** y[i] = tanh4(x[i]) for n f32 values (n a multiple of 4), for tests. */
export function tanhTo(x: usize, n: i32, y: usize): void {
  for (let i: usize = 0; i < (<usize>n << 2); i += 16) v128.store(y + i, tanh4(v128.load(x + i)));
}
