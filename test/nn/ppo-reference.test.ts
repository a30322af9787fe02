// The float64 PPO reference: a loss worked by hand, its gradient against central finite differences on seeded
// random inputs, agreement with the policy's forward reference, grad-norm clipping and Adam by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paramLayout } from '../../engine/nn/param-layout.ts';
import { referenceForward } from '../../engine/nn/reference.ts';
import type { PpoHyperparams } from '../../engine/nn/backend.ts';
import { adamState64, adamUpdate, clipGradNorm, referenceActivations, referencePpoLoss, referencePpoStep } from '../../engine/nn/ppo-reference.ts';
import { gaussian, makeMinibatch, randomParams, rng } from '../train/helpers.ts';

const HP: PpoHyperparams = { clipCoef: 0.2, clipVloss: true, entCoef: 0.01, vfCoef: 0.5, maxGradNorm: 0.5, lr: 0.1, normAdv: false };

/**
 * A 1-1-1 net whose outputs are constants: hidden pre-activations are 0 (weights and biases 0), so h = 0,
 * mean = policy.1.bias = 0.5 and value = value.1.bias = 1 for every row; logStd = 0 (σ = 1).
 */
function handCase(): { layout: ReturnType<typeof paramLayout>; params: Float64Array; mb: Parameters<typeof referencePpoLoss>[2] } {
  const layout = paramLayout(1, 1, [1]);
  const params = new Float64Array(layout.size);
  const at = (name: string): number => layout.entries.find((e) => e.name === name)!.offset;
  params[at('policy.1.weight')] = 0.7; // multiplies h = 0
  params[at('policy.1.bias')] = 0.5;
  params[at('value.1.weight')] = 0.3;
  params[at('value.1.bias')] = 1;
  // HALF_LOG_2PI = 0.9189385332046727.
  // Row 0: action 1.5, diff 1 → newLogProb = −0.5 − 0.918938533 = −1.418938533; ratio 1.5 → oldLogProb = −1.418938533 − ln 1.5.
  // Row 1: action 0.5, diff 0 → newLogProb = −0.918938533; ratio 0.5 → oldLogProb = −0.918938533 + ln 2.
  const lp0 = -0.5 - 0.9189385332046727;
  const lp1 = -0.9189385332046727;
  return {
    layout,
    params,
    mb: {
      obs: [2, -1],
      actions: [1.5, 0.5],
      oldLogProb: [lp0 - Math.log(1.5), lp1 + Math.log(2)],
      advantages: [2, -1],
      returns: [2, 0],
      oldValues: [0.5, 0.9],
      n: 2,
    },
  };
}

test('loss and gradient of a two-row minibatch worked by hand', () => {
  const { layout, params, mb } = handCase();
  const { grad, stats } = referencePpoLoss(params, layout, mb, HP);
  // POLICY, ε = 0.2. Row 0: A = 2, r = 1.5 → −A r = −3, −A clip(r) = −2 × 1.2 = −2.4 → max −2.4 (clipped, flat in r).
  // Row 1: A = −1, r = 0.5 → −A r = 0.5, −A clip(r) = 1 × 0.8 = 0.8 → max 0.8 (clipped, flat in r).
  // pgLoss = (−2.4 + 0.8) / 2 = −0.8, and no gradient reaches the mean.
  assert.ok(Math.abs(stats.pgLoss - -0.8) < 1e-12, `pgLoss ${stats.pgLoss}`);
  // VALUE, v = 1. Row 0: R = 2, oldV = 0.5, v − oldV = 0.5 → clipped to 0.2, vc = 0.7: (v − R)² = 1, (vc − R)² = 1.69 → 1.69
  // (the clipped branch, flat in v). Row 1: R = 0, oldV = 0.9, v − oldV = 0.1 inside → vc = v, both 1 → 1.
  // vLoss = 0.5 × (1.69 + 1) / 2 = 0.6725.
  assert.ok(Math.abs(stats.vLoss - 0.6725) < 1e-12, `vLoss ${stats.vLoss}`);
  // ENTROPY = 0.5 + 0.918938533 + logStd 0 = 1.418938533.
  assert.ok(Math.abs(stats.entropy - 1.4189385332046727) < 1e-12, `entropy ${stats.entropy}`);
  // LOSS = −0.8 − 0.01 × 1.418938533 + 0.5 × 0.6725 = −0.477939385.
  assert.ok(Math.abs(stats.loss - -0.4779393853320467) < 1e-12, `loss ${stats.loss}`);
  // approxKl = mean((r − 1) − ln r) = ((0.5 − 0.405465108) + (−0.5 + 0.693147181)) / 2 = 0.143841036.
  assert.ok(Math.abs(stats.approxKl - 0.14384103622589045) < 1e-12, `approxKl ${stats.approxKl}`);
  // clipFrac: |1.5 − 1| and |0.5 − 1| both exceed 0.2 → 1.
  assert.equal(stats.clipFrac, 1);
  // GRADIENT. logStd: the policy terms are flat, the entropy gives −entCoef = −0.01.
  const g = (name: string, k = 0): number => grad[layout.entries.find((e) => e.name === name)!.offset + k];
  assert.ok(Math.abs(g('logStd') - -0.01) < 1e-12, `dlogStd ${g('logStd')}`);
  for (const name of ['policy.0.weight', 'policy.0.bias', 'policy.1.weight', 'policy.1.bias']) assert.equal(g(name), 0, name);
  // Value: only row 1 passes gradient, d vLoss/dv = 0.5 × 2 (v − R) / n = 0.5 × 2 × 1 / 2 = 0.5, times vfCoef 0.5 → 0.25.
  // value.1.bias: 0.25; value.1.weight: 0.25 × h = 0; value.0.bias: 0.25 × w1 0.3 × (1 − 0²) = 0.075;
  // value.0.weight: 0.075 × obs_1 (−1) = −0.075.
  assert.ok(Math.abs(g('value.1.bias') - 0.25) < 1e-12, `value.1.bias ${g('value.1.bias')}`);
  assert.equal(g('value.1.weight'), 0);
  assert.ok(Math.abs(g('value.0.bias') - 0.075) < 1e-12, `value.0.bias ${g('value.0.bias')}`);
  assert.ok(Math.abs(g('value.0.weight') - -0.075) < 1e-12, `value.0.weight ${g('value.0.weight')}`);
  // Without value clipping: vLoss = 0.5 × (1 + 1) / 2 = 0.5, and row 0 now pulls too: dv = 0.5 × 2 × (1 − 2) / 2 = −0.5,
  // so value.1.bias = 0.5 × (−0.5 + 0.5) = 0.
  const u = referencePpoLoss(params, layout, mb, { ...HP, clipVloss: false });
  assert.ok(Math.abs(u.stats.vLoss - 0.5) < 1e-12);
  assert.ok(Math.abs(u.grad[layout.entries.find((e) => e.name === 'value.1.bias')!.offset]) < 1e-12);
});

test('the policy gradient flows only through unclipped rows (hand case with the ratios moved inside the range)', () => {
  const { layout, params, mb } = handCase();
  // Both ratios inside [0.8, 1.2], so d pg_b / d lp_b = −A_b r_b / n.
  // Row 0: r 1.1, A 2 → −1.1; d lp / d mean = (a − mean) / σ² = 1 → d/d policy.1.bias = −1.1;
  //   d lp / d logStd = (a − mean)² / σ² − 1 = 0 → nothing to logStd.
  // Row 1: r 0.9, A −1 → +0.45; a − mean = 0 → nothing to the mean; d lp / d logStd = −1 → −0.45.
  // d/d logStd = −0.45 − entCoef 0.01 = −0.46.
  const lp0 = -0.5 - 0.9189385332046727;
  const lp1 = -0.9189385332046727;
  const inside = { ...mb, oldLogProb: [lp0 - Math.log(1.1), lp1 - Math.log(0.9)] };
  const { grad, stats } = referencePpoLoss(params, layout, inside, HP);
  const g = (name: string): number => grad[layout.entries.find((e) => e.name === name)!.offset];
  assert.ok(Math.abs(g('policy.1.bias') - -1.1) < 1e-12, `policy.1.bias ${g('policy.1.bias')}`);
  assert.ok(Math.abs(g('logStd') - -0.46) < 1e-12, `logStd ${g('logStd')}`);
  // pgLoss = (−2 × 1.1 + 1 × 0.9) / 2 = −0.65; clipFrac 0.
  assert.ok(Math.abs(stats.pgLoss - -0.65) < 1e-12);
  assert.equal(stats.clipFrac, 0);
});

test('forward activations agree with engine/nn/reference.ts', () => {
  const layout = paramLayout(7, 3, [16, 9]);
  const params = randomParams(layout, 4);
  const r = rng(11);
  const obs = Float32Array.from({ length: 5 * 7 }, () => gaussian(r));
  const a = referenceActivations(params, layout, obs, 5);
  const f = referenceForward(params, layout, obs, 5, { deterministic: true });
  for (let i = 0; i < f.mean.length; i++) assert.ok(Math.abs(a.mean[i] - f.mean[i]) < 1e-14);
  for (let i = 0; i < f.value.length; i++) assert.ok(Math.abs(a.values[i] - f.value[i]) < 1e-14);
});

for (const [label, hp] of [
  ['clipVloss, normAdv, entCoef', { ...HP, normAdv: true, entCoef: 0.05 }],
  ['clipVloss, raw advantages', { ...HP }],
  ['unclipped value loss, normAdv', { ...HP, clipVloss: false, normAdv: true }],
] as [string, PpoHyperparams][]) {
  test(`gradient equals central finite differences on a 5-8-8-2 net (${label})`, () => {
    const layout = paramLayout(5, 2, [8, 8]);
    const params32 = randomParams(layout, 21, 0.3);
    const params = Float64Array.from(params32);
    const mb = makeMinibatch(layout, params32, 24, 5);
    const { grad, rows } = referencePpoLoss(params, layout, mb, hp);
    // The minibatch must exercise every branch of the clipped objective, or the check would prove little.
    const eps = hp.clipCoef;
    const kinds = new Set<string>();
    for (let b = 0; b < mb.n; b++) {
      const r = rows.ratio[b];
      const a = rows.advantages[b];
      kinds.add(r > 1 + eps ? (a > 0 ? 'high-flat' : 'high-live') : r < 1 - eps ? (a < 0 ? 'low-flat' : 'low-live') : 'inside');
      // No row within 0.04 of a boundary (FD steps move ratios by ~1e-6).
      assert.ok(Math.abs(Math.abs(r - 1) - eps) > 0.04, `row ${b} ratio ${r} is near a clip boundary`);
      assert.ok(Math.abs(Math.abs(rows.values[b] - mb.oldValues[b]) - eps) > 0.04, `row ${b} value step near ±ε`);
    }
    assert.deepEqual([...kinds].sort(), ['high-flat', 'high-live', 'inside', 'low-flat', 'low-live']);
    // Central differences, h = 1e-6: truncation ~h² f''' ≈ 1e-12, rounding ~1e-16 |L| / h ≈ 1e-10, both far under 1e-3 relative.
    const h = 1e-6;
    const lossAt = (k: number, d: number): number => {
      const p = Float64Array.from(params);
      p[k] += d;
      return referencePpoLoss(p, layout, mb, hp).stats.loss;
    };
    let worst = 0;
    let nonzero = 0;
    for (let k = 0; k < layout.size; k++) {
      const fd = (lossAt(k, h) - lossAt(k, -h)) / (2 * h);
      const err = Math.abs(fd - grad[k]);
      assert.ok(err <= 1e-3 * Math.abs(grad[k]) + 1e-8, `param ${k}: analytic ${grad[k]}, finite difference ${fd}`);
      if (Math.abs(grad[k]) > 1e-6) {
        nonzero++;
        worst = Math.max(worst, err / Math.abs(grad[k]));
      }
    }
    assert.ok(nonzero > layout.size * 0.9, `only ${nonzero} of ${layout.size} gradients are nonzero`);
    assert.ok(worst < 1e-5, `worst relative error ${worst}`);
  });
}

test('clipGradNorm scales by maxNorm / (norm + 1e-6) only when the norm exceeds maxNorm', () => {
  // g = [3, 4]: norm 5; coef = 0.5 / (5 + 1e-6) = 0.09999998 → [0.29999994, 0.39999992].
  const g = Float64Array.of(3, 4);
  assert.equal(clipGradNorm(g, 0.5), 5);
  assert.ok(Math.abs(g[0] - 0.299999940000012) < 1e-15 && Math.abs(g[1] - 0.399999920000016) < 1e-15, `${g}`);
  // g = [0.1, 0.2]: norm 0.2236 < 0.5 → unchanged (coef 2.236 is clamped to 1).
  const small = Float64Array.of(0.1, 0.2);
  assert.ok(Math.abs(clipGradNorm(small, 0.5) - Math.sqrt(0.05)) < 1e-15);
  assert.deepEqual([...small], [0.1, 0.2]);
  // maxNorm Infinity never clips.
  const big = Float64Array.of(300, 400);
  assert.equal(clipGradNorm(big, Infinity), 500);
  assert.deepEqual([...big], [300, 400]);
});

test('Adam: two steps on three parameters worked by hand (torch semantics, eps 1e-5)', () => {
  const p = Float64Array.of(1, -2, 0.5);
  const s = adamState64(3);
  // Step 1, g = [0.5, −1, 0]: m = 0.1 g = [0.05, −0.1, 0]; v = 0.001 g² = [0.00025, 0.001, 0];
  // bc1 = 0.1, bc2 = 0.001 → stepSize = lr / bc1 = 1; denom = √v / √bc2 + 1e-5 = |g| + 1e-5 = [0.50001, 1.00001, 1e-5];
  // p −= m / denom → [1 − 0.05/0.50001, −2 + 0.1/1.00001, 0.5] = [0.900001999960, −1.900000999990, 0.5].
  adamUpdate(p, [0.5, -1, 0], s, 0.1);
  assert.equal(s.t, 1);
  assert.ok(Math.abs(p[0] - 0.9000019999600008) < 1e-14 && Math.abs(p[1] - -1.9000009999900001) < 1e-14 && p[2] === 0.5, `${p}`);
  // Step 2, g = [0.1, 0.2, −0.3]: m = 0.9 m + 0.1 g = [0.055, −0.07, −0.03]; v = 0.999 v + 0.001 g² = [0.00025975, 0.001039, 0.00009];
  // bc1 = 1 − 0.81 = 0.19 → stepSize = 0.526315789; √bc2 = √0.001999 = 0.044710178;
  // denom = √v / 0.044710178 + 1e-5 = [0.360481871, 0.720953743, 0.212195087];
  // p −= 0.526315789 m / denom → [0.900002 − 0.080301870, −1.900001 + 0.050897899, 0.5 + 0.074410176] = [0.819700130, −1.848899101, 0.574410176].
  adamUpdate(p, [0.1, 0.2, -0.3], s, 0.1);
  assert.equal(s.t, 2);
  const want = [0.8197001298044582, -1.8488991010911735, 0.5744101755044276];
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[i] - want[i]) < 1e-12, `p[${i}] = ${p[i]}, want ${want[i]}`);
  assert.ok(Math.abs(s.m[0] - 0.055) < 1e-15 && Math.abs(s.v[2] - 0.00009) < 1e-18);
});

test('referencePpoStep = loss gradient, then clipping, then Adam', () => {
  const layout = paramLayout(5, 2, [8, 8]);
  const params32 = randomParams(layout, 3, 0.3);
  const mb = makeMinibatch(layout, params32, 18, 9);
  const hp = { ...HP, lr: 1e-3, normAdv: true };
  const p = Float64Array.from(params32);
  const s = adamState64(layout.size);
  const stats = referencePpoStep(p, s, layout, mb, hp);
  const { grad, stats: lossStats } = referencePpoLoss(Float64Array.from(params32), layout, mb, hp);
  const norm = Math.hypot(...grad);
  assert.ok(Math.abs(stats.gradNorm - norm) < 1e-12 * norm);
  assert.equal(stats.loss, lossStats.loss);
  const q = Float64Array.from(params32);
  const coef = Math.min(1, 0.5 / (norm + 1e-6));
  adamUpdate(q, grad.map((x) => x * coef), adamState64(layout.size), hp.lr);
  for (let i = 0; i < q.length; i++) assert.ok(Math.abs(p[i] - q[i]) < 1e-15, `param ${i}`);
  assert.ok(stats.gradNorm > 0.5, 'the example should exercise clipping');
});
