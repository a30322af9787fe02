// The WASM CPU backend against the float64 reference: Philox words and Gaussians, tanh, forward and sampling,
// the loss gradient, Adam and whole PPO steps, exact resume, chunking, and bad inputs.
//
// Tolerances (f32 unit roundoff u = 2^-24 ≈ 6e-8):
// - forward 1e-5 of the output's largest magnitude: a dot product of K ≤ 256 terms summed in 4 f32 lanes of
//   K/4 sequential adds has error ≤ (K/4 + 2) u Σ|terms| ≈ 4e-6 Σ|terms| in the worst case (≈ 5e-7 typically),
//   tanh4 adds ≤ 3e-7; measured errors are ~1e-7, while a wrong index, bias or activation gives ≥ 1e-3.
// - gradient 1e-4 of each tensor's largest magnitude: dW sums B ≤ 1024 rows, dX sums W ≤ 256 outputs, in f32
//   (bound ≈ (B/4 + W/4) u Σ|terms|, and Σ|terms| can exceed the result where terms cancel, so we measure
//   against the tensor's scale, not per element); measured ~1e-6.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionNoise, philox4x32, philoxGaussians } from '../../engine/nn/philox.ts';
import { HALF_LOG_2PI, referenceForward } from '../../engine/nn/reference.ts';
import { DEFAULT_PPO_HYPERPARAMS, type Minibatch, type PpoHyperparams } from '../../engine/nn/backend.ts';
import { adamUpdate, referencePpoLoss, referencePpoStep, adamState64 } from '../../engine/nn/ppo-reference.ts';
import { loadMlpModule, WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { MLP_HEAP_BASE } from '../../engine/nn/wasm-layout.ts';
import { gaussian, makeMinibatch, maxRelErr, randomParams, rng, tensorErrors } from '../train/helpers.ts';

const CONFIGS = [
  { obsDim: 25, actDim: 4, hidden: [64, 64] },
  { obsDim: 25, actDim: 4, hidden: [256, 256] },
  { obsDim: 25, actDim: 3, hidden: [37, 19] },
];
const BATCHES = [1, 63, 1024];
const HP: PpoHyperparams = { ...DEFAULT_PPO_HYPERPARAMS, entCoef: 0.01 };
const name = (c: { obsDim: number; actDim: number; hidden: number[] }): string => [c.obsDim, ...c.hidden, c.actDim].join('-');

/** A backend with seeded random parameters (cleanrl init plus noise, so the output layers are not ~0). */
async function backend(c: { obsDim: number; actDim: number; hidden: number[] }, seed: number, maxBatch = 1024): Promise<{ b: WasmBackend; params: Float32Array }> {
  const b = await WasmBackend.create({ ...c, seed, maxBatch });
  const params = randomParams(b.paramLayout, seed);
  b.setParams(params);
  return { b, params };
}

/** Seeded N(0, 1) observations [n, obsDim]. */
function randomObs(n: number, obsDim: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * obsDim }, () => gaussian(r));
}

test('Philox words equal engine/nn/philox.ts bit for bit; Gaussians agree to f64 rounding', async () => {
  const b = await WasmBackend.create({ obsDim: 3, actDim: 2, hidden: [4], maxBatch: 8 });
  const r = rng(99);
  const u32 = (): number => Math.floor(r() * 2 ** 32) >>> 0;
  const edge = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff];
  let worst = 0;
  for (let i = 0; i < 2000; i++) {
    const c = i < 25 ? [edge[i % 5], edge[Math.floor(i / 5)], u32(), i & 3] : [u32(), u32(), u32(), u32()];
    const key = i < 25 ? edge[i % 5] : u32();
    assert.deepEqual([...b.philoxWords(c[0], c[1], c[2], c[3], key, i & 1 ? 0 : u32())].length, 4);
    const k1 = i % 3 === 0 ? 0 : u32();
    assert.deepEqual([...b.philoxWords(c[0], c[1], c[2], c[3], key, k1)], [...philox4x32(c[0], c[1], c[2], c[3], key, k1)], `counter ${c}, key ${key}, ${k1}`);
    const zw = b.gaussians(key, c[0], c[1], c[2], c[3]);
    const zr = philoxGaussians(key, c[0], c[1], c[2], c[3]);
    // Both use correctly rounded-ish f64 log, cos, sin (AssemblyScript's musl ports, V8's fdlibm ports): a few ulp.
    for (let j = 0; j < 4; j++) worst = Math.max(worst, Math.abs(zw[j] - zr[j]));
  }
  assert.ok(worst < 1e-13, `largest Gaussian difference ${worst}`);
  // A known value: Philox4x32-10 with counter 0 and key 0 (Random123's known-answer test).
  assert.deepEqual([...b.philoxWords(0, 0, 0, 0, 0, 0)], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
});

test('tanh4 is within 3.4e-7 of Math.tanh, odd, and exactly ±1 for |x| ≥ 9', async () => {
  const b = await WasmBackend.create({ obsDim: 3, actDim: 2, hidden: [64], maxBatch: 64 });
  const xs: number[] = [];
  for (let x = -12; x <= 12; x += 0.0037) xs.push(x);
  for (let e = -30; e < 0; e++) xs.push(2 ** e, -(2 ** e), 3.9e-4 * (1 + e / 100));
  xs.push(0, 8.999999, 9, 9.000001, 19.99, 20, 25, 1e30, -1e30);
  const x32 = Float32Array.from(xs);
  let worst = 0;
  for (let lo = 0; lo < x32.length; lo += 1024) {
    const chunk = x32.subarray(lo, lo + 1024);
    const y = b.tanh(chunk);
    const yNeg = b.tanh(chunk.map((v) => -v));
    for (let i = 0; i < chunk.length; i++) {
      const x = chunk[i];
      const err = Math.abs(y[i] - Math.tanh(x));
      // 3.4e-7 ≈ 3 ulp at 1; relative accuracy near 0 is checked below.
      worst = Math.max(worst, err);
      assert.ok(err <= 3.4e-7, `tanh(${x}) = ${y[i]}, want ${Math.tanh(x)}`);
      if (Math.abs(x) < 0.5 && x !== 0) assert.ok(err <= 4e-7 * Math.abs(Math.tanh(x)), `relative error at ${x}`);
      assert.equal(yNeg[i], -y[i], `odd at ${x}`);
      if (Math.abs(x) >= 9) assert.equal(Math.abs(y[i]), 1, `tanh(${x}) must be exactly ±1`);
    }
  }
  assert.ok(worst > 0, 'the comparison ran');
});

test('the kernel keeps its static data below 64 KiB of the memory', async () => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4 });
  const bytes = new Uint8Array(memory.buffer);
  bytes.fill(0xab);
  await WebAssembly.instantiate(await loadMlpModule(), { env: { memory, abort: () => {} } });
  const above = bytes.subarray(MLP_HEAP_BASE);
  assert.ok(above.every((v) => v === 0xab), 'instantiation wrote above MLP_HEAP_BASE');
  assert.ok(bytes.subarray(0, MLP_HEAP_BASE).some((v) => v !== 0xab), 'the data segments were expected below 64 KiB');
});

for (const c of CONFIGS) {
  test(`forward and sampling of ${name(c)} match the float64 reference at batch ${BATCHES.join(', ')}`, async () => {
    const { b, params } = await backend(c, 5);
    for (const n of BATCHES) {
      const obs = randomObs(n, c.obsDim, n + 17);
      const out = { action: new Float32Array(n * c.actDim), logProb: new Float32Array(n), value: new Float32Array(n) };
      const opts = { seed: 0xc0ffee, step: 41, envOffset: 3000 };
      b.act(obs, n, opts, out);
      const ref = referenceForward(params, b.paramLayout, obs, n, opts);
      assert.ok(maxRelErr(out.action, ref.action) < 1e-5, `${name(c)} n ${n}: action error ${maxRelErr(out.action, ref.action)}`);
      assert.ok(maxRelErr(out.value, ref.value) < 1e-5, `${name(c)} n ${n}: value error ${maxRelErr(out.value, ref.value)}`);
      assert.ok(maxRelErr(out.logProb, ref.logProb) < 1e-5, `${name(c)} n ${n}: logProb error ${maxRelErr(out.logProb, ref.logProb)}`);
      // Deterministic: the mean, and logProb = Σ_j (−logStd_j − 0.5 ln 2π).
      const det = { action: new Float32Array(n * c.actDim), logProb: new Float32Array(n), value: new Float32Array(n) };
      b.act(obs, n, { ...opts, deterministic: true }, det);
      assert.ok(maxRelErr(det.action, ref.mean) < 1e-5, `${name(c)} n ${n}: mean error`);
      let lp0 = 0;
      for (let j = 0; j < c.actDim; j++) lp0 += -params[b.paramLayout.logStdOffset + j] - HALF_LOG_2PI;
      for (let i = 0; i < n; i++) assert.ok(Math.abs(det.logProb[i] - lp0) < 1e-6, `deterministic logProb ${det.logProb[i]} vs ${lp0}`);
      assert.deepEqual(det.value, out.value);
      const v = new Float32Array(n);
      b.value(obs, n, v);
      assert.deepEqual(v, out.value);
    }
    b.destroy();
  });
}

test('sampling uses the Philox action stream: counter (envOffset + row, step, j >> 2, 0), key seed', async () => {
  // actDim 6 needs two Philox calls per row (j >> 2 = 0 and 1).
  const c = { obsDim: 7, actDim: 6, hidden: [16] };
  const { b, params } = await backend(c, 8);
  const n = 50;
  const obs = randomObs(n, 7, 1);
  const mk = () => ({ action: new Float32Array(n * 6), logProb: new Float32Array(n), value: new Float32Array(n) });
  const det = mk();
  const smp = mk();
  b.act(obs, n, { step: 77, deterministic: true }, det);
  b.act(obs, n, { step: 77, seed: 0xdeadbeef, envOffset: 1000 }, smp);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 6; j++) {
      const ls = params[b.paramLayout.logStdOffset + j];
      const z = (smp.action[i * 6 + j] - det.action[i * 6 + j]) * Math.exp(-ls);
      // (a − mean) / σ recovers z up to the f32 rounding of a (≤ 2.4e-7 for |a| < 4) over σ ≥ e^−0.6: < 5e-7.
      worst = Math.max(worst, Math.abs(z - actionNoise(0xdeadbeef, 1000 + i, 77, j)));
    }
  }
  assert.ok(worst < 1e-6, `noise error ${worst}`);
  // The default key is the backend's seed (8 here), and changing the step changes every action.
  const other = mk();
  b.act(obs, n, { step: 78, seed: 0xdeadbeef, envOffset: 1000 }, other);
  assert.ok(other.action.every((a, k) => a !== smp.action[k]));
  const byDefault = mk();
  b.act(obs, n, { step: 77 }, byDefault);
  const z00 = (byDefault.action[0] - det.action[0]) * Math.exp(-params[b.paramLayout.logStdOffset]);
  assert.ok(Math.abs(z00 - actionNoise(8, 0, 77, 0)) < 1e-6);
});

test('act and value split n > maxBatch into chunks with the same results as one pass', async () => {
  const c = { obsDim: 25, actDim: 4, hidden: [37, 19] };
  const small = await WasmBackend.create({ ...c, seed: 3, maxBatch: 64 });
  const big = await WasmBackend.create({ ...c, seed: 3, maxBatch: 256 });
  const n = 150;
  const obs = randomObs(n, 25, 4);
  const mk = () => ({ action: new Float32Array(n * 4), logProb: new Float32Array(n), value: new Float32Array(n) });
  const a = mk();
  const bb = mk();
  small.act(obs, n, { step: 9, envOffset: 10 }, a);
  big.act(obs, n, { step: 9, envOffset: 10 }, bb);
  assert.deepEqual(a, bb);
  // Two calls over rows [0, 100) and [100, 150) with envOffset 10 and 110 give the same as one call.
  const first = { action: a.action.slice(0, 400), logProb: a.logProb.slice(0, 100), value: a.value.slice(0, 100) };
  const second = { action: new Float32Array(200), logProb: new Float32Array(50), value: new Float32Array(50) };
  big.act(obs.subarray(0, 2500), 100, { step: 9, envOffset: 10 }, first);
  big.act(obs.subarray(2500), 50, { step: 9, envOffset: 110 }, second);
  assert.deepEqual(second.action, a.action.subarray(400));
  const v = new Float32Array(n);
  small.value(obs, n, v);
  assert.deepEqual(v, bb.value);
});

for (const c of CONFIGS) {
  test(`loss gradient of ${name(c)} matches the float64 reference at batch ${BATCHES.join(', ')}`, async () => {
    const { b, params } = await backend(c, 11);
    for (const n of BATCHES) {
      // Batch 1: normAdv would zero its only advantage, and its one row's value step (−0.45, outside ±ε) may take the
      // flat clipped branch, so use raw advantages and the unclipped value loss there to keep every gradient alive.
      const hp = { ...HP, normAdv: n > 1, clipVloss: n === 1024 };
      const mb = makeMinibatch(b.paramLayout, params, n, 100 + n);
      const w = b.lossGradient(mb, hp);
      const r = referencePpoLoss(params, b.paramLayout, mb, hp);
      for (const e of tensorErrors(b.paramLayout, w.grad, r.grad)) {
        assert.ok(e.err < 1e-4, `${name(c)} n ${n}: ${e.name} error ${e.err} (scale ${e.scale})`);
      }
      for (const k of ['loss', 'pgLoss', 'vLoss', 'entropy', 'approxKl'] as const) {
        assert.ok(Math.abs(w.stats[k] - r.stats[k]) <= 1e-5 * (Math.abs(r.stats[k]) + 1e-3), `${name(c)} n ${n}: ${k} ${w.stats[k]} vs ${r.stats[k]}`);
      }
      assert.equal(w.stats.clipFrac, r.stats.clipFrac);
      // The gradient is not trivially small: every tensor has a nonzero scale.
      assert.ok(tensorErrors(b.paramLayout, w.grad, r.grad).every((e) => e.scale > 0));
    }
    b.destroy();
  });
}

test('logProb of given actions matches the reference newLogProb', async () => {
  const c = { obsDim: 25, actDim: 3, hidden: [37, 19] };
  const { b, params } = await backend(c, 12);
  const mb = makeMinibatch(b.paramLayout, params, 63, 5);
  const { logProb } = b.logProb(mb.obs, mb.actions, 63);
  const r = referencePpoLoss(params, b.paramLayout, mb, HP);
  assert.ok(maxRelErr(logProb, r.rows.newLogProb) < 1e-5);
});

test('Adam matches the float64 update from the same state and gradient (3 steps from t = 7)', async () => {
  const c = { obsDim: 25, actDim: 3, hidden: [37, 19] };
  const { b, params } = await backend(c, 13);
  const r = rng(5);
  const P = b.numParams;
  b.setOptimizerState({ m: Float32Array.from({ length: P }, () => 1e-2 * gaussian(r)), v: Float32Array.from({ length: P }, () => 1e-4 * Math.abs(gaussian(r))), t: 7 });
  const lr = 1e-3;
  for (let s = 0; s < 3; s++) {
    const mb = makeMinibatch(b.paramLayout, params, 63, 50 + s);
    const before = b.getParams();
    const state = b.getOptimizerState();
    const { grad } = b.lossGradient(mb, HP);
    let ss = 0;
    for (let i = 0; i < P; i++) ss += grad[i] * grad[i];
    const norm = b.gradNorm();
    assert.ok(Math.abs(norm - Math.sqrt(ss)) < 1e-12 * Math.sqrt(ss), `gradNorm ${norm} vs ${Math.sqrt(ss)}`);
    const coef = Math.min(1, 0.5 / (norm + 1e-6));
    b.adamStep(coef, lr);
    // Reference: the same f32 state, gradient and coefficient, in f64.
    const p64 = Float64Array.from(before);
    const st = { m: Float64Array.from(state.m), v: Float64Array.from(state.v), t: state.t };
    adamUpdate(p64, Array.from(grad, (g) => g * coef), st, lr);
    const after = b.getParams();
    const o = b.getOptimizerState();
    assert.equal(o.t, 8 + s);
    const stepSize = lr / (1 - 0.9 ** st.t);
    const sqrtBc2 = Math.sqrt(1 - 0.999 ** st.t);
    for (let i = 0; i < P; i++) {
      // m = β1 m + (1 − β1) g in f32: a few roundings of the two terms, which may cancel, so the bound scales with them.
      const mTerms = 0.9 * Math.abs(state.m[i]) + 0.1 * Math.abs(grad[i] * coef);
      assert.ok(Math.abs(o.m[i] - st.m[i]) <= 4 * 2 ** -24 * mTerms + 1e-30, `m ${i}: ${o.m[i]} vs ${st.m[i]}`);
      // v sums two non-negative terms: a few roundings, relative.
      assert.ok(Math.abs(o.v[i] - st.v[i]) <= 4 * 2 ** -24 * st.v[i] + 1e-30, `v ${i}: ${o.v[i]} vs ${st.v[i]}`);
      // p: one f32 rounding of p, the update's relative f32 error (a dozen ops), and m's error carried by stepSize / denom.
      const denom = Math.sqrt(st.v[i]) / sqrtBc2 + 1e-5;
      const update = Math.abs(before[i] - p64[i]);
      const tol = 2 ** -24 * Math.abs(p64[i]) + 1e-6 * update + (stepSize * 4 * 2 ** -24 * mTerms) / denom;
      assert.ok(Math.abs(after[i] - p64[i]) <= tol, `param ${i}: ${after[i]} vs ${p64[i]} (tolerance ${tol})`);
    }
    params.set(after);
  }
});

for (const [c, n] of [[CONFIGS[0], 256], [CONFIGS[2], 63]] as const) {
  test(`two ppoSteps of ${name(c)} on ${n} rows equal the float64 reference update`, async () => {
    const { b, params } = await backend(c, 14);
    const hp = { ...HP, lr: 1e-3 };
    const p64 = Float64Array.from(params);
    const st = adamState64(b.numParams);
    for (let s = 0; s < 2; s++) {
      const mb = makeMinibatch(b.paramLayout, b.getParams(), n, 70 + s);
      const { grad } = referencePpoLoss(p64, b.paramLayout, mb, hp);
      const gw = b.lossGradient(mb, hp).grad;
      let gErr = 0;
      for (let i = 0; i < grad.length; i++) gErr = Math.max(gErr, Math.abs(gw[i] - grad[i]));
      const rs = referencePpoStep(p64, st, b.paramLayout, mb, hp);
      const ws = b.ppoStep(mb, hp);
      assert.ok(Math.abs(ws.gradNorm - rs.gradNorm) < 1e-5 * rs.gradNorm, `gradNorm ${ws.gradNorm} vs ${rs.gradNorm}`);
      assert.ok(rs.gradNorm > hp.maxGradNorm, 'the example should exercise clipping');
      assert.ok(Math.abs(ws.loss - rs.loss) < 1e-5 * Math.abs(rs.loss));
      // Adam moves a parameter by lr g / (|g| + ε) at t = 1, whose sensitivity to a gradient error δ is at most lr δ / ε:
      // with the f32 gradient error below 1e-7 (checked here) that is ≤ 1e-2 lr, plus one f32 rounding of p.
      assert.ok(gErr < 1e-7, `absolute gradient error ${gErr}`);
      const after = b.getParams();
      let worst = 0;
      for (let i = 0; i < after.length; i++) {
        const err = Math.abs(after[i] - p64[i]);
        worst = Math.max(worst, err / hp.lr);
        assert.ok(err <= 2 ** -23 * Math.abs(p64[i]) + 1e-2 * hp.lr, `step ${s}, param ${i}: ${after[i]} vs ${p64[i]}`);
      }
      // Every parameter moved by about lr (Adam's first steps), so the comparison is not vacuous.
      assert.ok(worst < 1e-3, `largest difference ${worst} lr`);
    }
    assert.equal(b.getOptimizerState().t, 2);
  });
}

test('resuming from getParams + getOptimizerState reproduces the next step bit for bit', async () => {
  const c = { obsDim: 25, actDim: 4, hidden: [64, 64] };
  const { b: a, params } = await backend(c, 15);
  const mb1 = makeMinibatch(a.paramLayout, params, 128, 1);
  a.ppoStep(mb1, HP);
  const p1 = a.getParams();
  const mb2 = makeMinibatch(a.paramLayout, a.getParams(), 128, 2);
  const resumed = await WasmBackend.create({ ...c, seed: 99, maxBatch: 128, params: a.getParams() });
  resumed.setOptimizerState(a.getOptimizerState());
  const sa = a.ppoStep(mb2, HP);
  const sr = resumed.ppoStep(mb2, HP);
  assert.deepEqual(resumed.getParams(), a.getParams());
  assert.deepEqual(resumed.getOptimizerState(), a.getOptimizerState());
  assert.deepEqual(sr, sa);
  // Without the optimizer state the step differs (t = 1 bias correction, zero moments).
  const fresh = await WasmBackend.create({ ...c, maxBatch: 128, params: p1 });
  fresh.ppoStep(mb2, HP);
  assert.notDeepEqual(fresh.getParams(), a.getParams());
});

test('bad inputs give clear errors and change nothing', async () => {
  const c = { obsDim: 5, actDim: 2, hidden: [8, 8] };
  const { b, params } = await backend(c, 16, 32);
  const out = { action: new Float32Array(8), logProb: new Float32Array(4), value: new Float32Array(4) };
  const obs = randomObs(4, 5, 1);
  assert.throws(() => b.act(obs.subarray(0, 19), 4, { step: 0 }, out), /act obs has 19 elements, expected n \* 5 = 20/);
  const nan = obs.slice();
  nan[13] = NaN;
  assert.throws(() => b.act(nan, 4, { step: 0 }, out), /act obs row 2 column 3 is NaN/);
  assert.throws(() => b.value(nan, 4, out.value), /value obs row 2 column 3 is NaN/);
  assert.throws(() => b.act(obs, 4, { step: -1 }, out), /act step must be a uint32/);
  assert.throws(() => b.act(obs, 4, { step: 0, seed: 2 ** 32 }, out), /act seed must be a uint32/);
  assert.throws(() => b.act(obs, 4, { step: 0 }, { ...out, logProb: new Float32Array(3) }), /act out.logProb has 3 elements, expected 4/);
  assert.throws(() => b.act(obs, 0, { step: 0 }, out), /act n must be a positive integer/);
  assert.throws(() => b.setParams(new Float32Array(params.length - 1)), /params has \d+ elements, expected \d+/);
  const inf = params.slice();
  inf[7] = Infinity;
  assert.throws(() => b.setParams(inf), /params\[7\] is Infinity/);
  assert.deepEqual(b.getParams(), params);
  const mb = makeMinibatch(b.paramLayout, params, 32, 3);
  const bad = (patch: Partial<Minibatch>): Minibatch => ({ ...mb, ...patch });
  const adv = mb.advantages.slice();
  adv[5] = NaN;
  assert.throws(() => b.ppoStep(bad({ advantages: adv }), HP), /minibatch advantages row 5 column 0 is NaN/);
  assert.throws(() => b.ppoStep(bad({ returns: mb.returns.subarray(1) }), HP), /minibatch returns has 31 elements, expected at least n \* 1 = 32/);
  assert.throws(() => b.ppoStep(bad({ obs: new Float32Array(32 * 5 + 3) }), HP), /minibatch obs has 163 elements, expected at least n \* 5 = 160 and a multiple of 5/);
  const big = makeMinibatch(b.paramLayout, params, 33, 3);
  assert.throws(() => b.ppoStep(big, HP), /n = 33 exceeds the backend's maxBatch 32/);
  assert.throws(() => b.ppoStep(mb, { ...HP, clipCoef: 0 }), /clipCoef must be a finite number > 0/);
  assert.throws(() => b.ppoStep(mb, { ...HP, lr: NaN }), /lr must be a finite number ≥ 0/);
  assert.throws(() => b.ppoStep(mb, { ...HP, maxGradNorm: 0 }), /maxGradNorm must be > 0/);
  assert.deepEqual(b.getParams(), params);
  assert.equal(b.getOptimizerState().t, 0);
  assert.throws(() => b.setOptimizerState({ m: new Float32Array(3), v: new Float32Array(3), t: 0 }), /optimizer state m has 3 elements/);
  const P = b.numParams;
  assert.throws(() => b.setOptimizerState({ m: new Float32Array(P), v: new Float32Array(P).fill(-1), t: 0 }), /v\[0\] is -1; second moments must be ≥ 0/);
  assert.throws(() => b.setOptimizerState({ m: new Float32Array(P), v: new Float32Array(P), t: 1.5 }), /t must be a non-negative integer/);
  // Diverged (finite) parameters whose value output overflows f32: the step is refused before Adam touches anything.
  const diverged = params.slice();
  const vOut = b.paramLayout.valueLayers[b.paramLayout.valueLayers.length - 1];
  diverged.fill(1e38, vOut.weightOffset, vOut.weightOffset + vOut.inDim);
  b.setParams(diverged);
  assert.throws(() => b.ppoStep(mb, HP), /gradient norm (NaN|Infinity); the step was skipped, parameters and optimizer state are unchanged/);
  assert.deepEqual(b.getParams(), diverged);
  assert.equal(b.getOptimizerState().t, 0);
  await assert.rejects(WasmBackend.create({ obsDim: 5, actDim: 2, hidden: [4, 4, 4, 4, 4, 4, 4, 4, 4] }), /at most 8 hidden layers/);
  await assert.rejects(WasmBackend.create({ obsDim: 0, actDim: 2 }), /obsDim must be a positive integer/);
  await assert.rejects(WasmBackend.create({ obsDim: 5, actDim: 2, params: new Float32Array(3) }), /params has 3 elements/);
  b.destroy();
  assert.throws(() => b.act(obs, 4, { step: 0 }, out), /used after destroy\(\)/);
  assert.throws(() => b.getParams(), /used after destroy\(\)/);
});

test('repeated ppoSteps on one minibatch lower the value loss and raise the surrogate', async () => {
  const c = { obsDim: 25, actDim: 4, hidden: [64, 64] };
  const { b, params } = await backend(c, 17, 256);
  const mb = makeMinibatch(b.paramLayout, params, 256, 8);
  const hp = { ...HP, lr: 3e-3, clipCoef: 0.2 };
  const first = b.ppoStep(mb, hp);
  let last = first;
  for (let i = 0; i < 30; i++) last = b.ppoStep(mb, hp);
  // Value regression on fixed targets must improve; the clipped surrogate (−pgLoss) can only go up or flatten.
  assert.ok(last.vLoss < 0.8 * first.vLoss, `vLoss ${first.vLoss} → ${last.vLoss}`);
  assert.ok(last.pgLoss < first.pgLoss, `pgLoss ${first.pgLoss} → ${last.pgLoss}`);
  assert.equal(b.getOptimizerState().t, 31);
});

test('a minibatch in capacity-sized buffers (n below capacity) steps like exact-length arrays', async () => {
  const c = { obsDim: 25, actDim: 3, hidden: [37, 19] };
  const { b: exact, params } = await backend(c, 18, 64);
  const { b: padded } = await backend(c, 18, 64);
  const mb = makeMinibatch(exact.paramLayout, params, 25, 4);
  // Capacity 100 rows (beyond maxBatch 64), rows 25.. filled with NaN: they must be neither read nor checked.
  const pad = (a: Float32Array, width: number): Float32Array => {
    const out = new Float32Array(100 * width).fill(NaN);
    out.set(a);
    return out;
  };
  const big: Minibatch = {
    obs: pad(mb.obs, 25), actions: pad(mb.actions, 3), oldLogProb: pad(mb.oldLogProb, 1), advantages: pad(mb.advantages, 1),
    returns: pad(mb.returns, 1), oldValues: pad(mb.oldValues, 1), n: 25,
  };
  assert.deepEqual(padded.ppoStep(big, HP), exact.ppoStep(mb, HP));
  assert.deepEqual(padded.getParams(), exact.getParams());
  const r1 = referencePpoLoss(params, exact.paramLayout, mb, HP);
  const r2 = referencePpoLoss(params, exact.paramLayout, big, HP);
  assert.deepEqual(r2.grad, r1.grad);
});
