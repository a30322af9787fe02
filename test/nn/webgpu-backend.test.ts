// The WebGPU backend against the float64 reference and the WASM backend: the loss gradient (with every gradient
// element poisoned with NaN first), saturated tanh units, Adam alone, one and two whole ppoSteps, act/value
// against WasmBackend, determinism and exact resume, call ordering, a non-finite step, bad inputs and destroy().
// Nets 28-64-64-4 and 7-37-19-3 at batches 1, 63, 257 (and 1031, the most row slices), on SwiftShader in CI.
// Every test runs inside validation and internal error scopes on one shared device and must destroy every
// buffer it made (test/gpu/test-device.ts tracks them).
//
// Tolerances (f32 unit roundoff u = 2^-24 ≈ 6e-8):
// - gradient: largest |gpu − ref| of each parameter tensor over that tensor's largest |ref|, under 1e-4. The GPU
//   keeps activations, the head math and all sums in f32: a forward dot product of K ≤ 64 terms errs by
//   ≤ K u Σ|terms| ≈ 4e-6 Σ|terms|, f32 exp/log in the head add a few ulp of ratios near 1, and a weight gradient
//   sums ≤ 65 rows per slice then ≤ 16 slices in order (≤ 81 u ≈ 5e-6 of Σ|terms|). Σ|terms| can exceed the
//   tensor's scale a few times where terms cancel, so the worst case is ~1e-5 relative to the scale, 1e-4 leaves
//   a 10× margin (measured ≤ 2.1e-6); a missing row, a wrong index or a missing tanh' moves a tensor by ≥ 1e-3.
// - loss stats: |gpu − ref| ≤ 1e-5 (1 + |ref|). Each is a mean of per-row O(1) terms (normalized advantages times
//   ratios near 1, value errors of O(1)) computed in f32, so each row errs by a few ulp of O(1), ~1e-6 absolute
//   (measured ≤ 1.6e-6 relative); clipFrac is exact because no ratio lies within 0.05 of 1 ± ε (helpers.ts).
// - act/value: largest |gpu − wasm| over largest |wasm| under 1e-5, as the forward parity test (both are f32
//   matrix products of ≤ 64 terms; the GPU's f32 Box-Muller against WASM's f64 adds ≤ 1e-6); measured ≤ 8e-7.
// - whole steps: at t = 1 Adam moves p by lr g / (|g| + ε) with ∂/∂g ≤ 1/ε, so a clipped-gradient error δ moves it
//   by ≤ lr δ / ε; at t = 2 the update's sensitivity is ≤ 0.53/ε to g2 and ≤ 0.48/ε to g1 (maxima at g = 0,
//   found numerically), plus step 1's error carried in p: ≤ 2.01 lr δ / ε in all. We check δ < 4e-7 (raw
//   gradient error < 3e-7 plus the clip coefficient's ≤ 2e-7 relative error times |g| ≤ 0.5), so the bound is
//   ≤ 0.08 lr; we allow 0.1 lr plus two f32 roundings of p (measured ≤ 1e-4 lr: the bound is for |g| ~ ε).
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { HALF_LOG_2PI } from '../../engine/nn/reference.ts';
import { DEFAULT_PPO_HYPERPARAMS, type Minibatch, type PpoHyperparams, type PpoLossStats } from '../../engine/nn/backend.ts';
import { adamState64, adamUpdate, referenceActivations, referencePpoLoss, referencePpoStep } from '../../engine/nn/ppo-reference.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { MAX_ROW_SLICES, rowSlices, WebGpuBackend } from '../../engine/nn/webgpu-backend.ts';
import { testDevice, trackBuffers, type BufferTrack } from '../gpu/test-device.ts';
import { gaussian, makeMinibatch, maxRelErr, randomParams, rng, tensorErrors } from '../train/helpers.ts';

type Config = { obsDim: number; actDim: number; hidden: number[] };
const NET_64: Config = { obsDim: 28, actDim: 4, hidden: [64, 64] };
const NET_ODD: Config = { obsDim: 7, actDim: 3, hidden: [37, 19] };
const HP: PpoHyperparams = { ...DEFAULT_PPO_HYPERPARAMS, entCoef: 0.01 };
/** The other branch of every switch: no advantage normalization, unclipped value loss, no gradient clipping. */
const HP_OTHER: PpoHyperparams = { ...DEFAULT_PPO_HYPERPARAMS, entCoef: 0.05, normAdv: false, clipVloss: false, maxGradNorm: Infinity };
const u = 2 ** -24;
const name = (c: Config): string => [c.obsDim, ...c.hidden, c.actDim].join('-');

let device: GPUDevice | null = null;
let skipReason = '';
let track: BufferTrack;

before(async () => {
  const d = await testDevice();
  if (typeof d === 'string') skipReason = d;
  else {
    device = d;
    track = trackBuffers(d);
  }
});

after(() => device?.destroy());

/** A test on the shared device, inside validation and internal error scopes, that must destroy every buffer it creates. */
function gpuTest(title: string, body: (device: GPUDevice, t: TestContext) => Promise<void>): void {
  test(title, async (t) => {
    if (!device) return t.skip(skipReason);
    const first = track.created.length;
    device.pushErrorScope('validation');
    device.pushErrorScope('internal');
    let failure: unknown = null;
    try {
      await body(device, t);
    } catch (err) {
      failure = err;
    }
    const internal = await device.popErrorScope();
    const validation = await device.popErrorScope();
    if (failure) throw failure;
    assert.equal(validation, null, `validation error: ${validation?.message}`);
    assert.equal(internal, null, `internal error: ${internal?.message}`);
    const live = track.created.slice(first).filter((b) => !track.destroyed.has(b));
    assert.deepEqual(live.map((b) => b.label), [], 'buffers left alive');
  });
}

/** A backend on the shared device with seeded random parameters (cleanrl init plus noise, so no layer is ~0). */
async function backend(dev: GPUDevice, c: Config, seed: number, maxBatch: number): Promise<{ b: WebGpuBackend; params: Float32Array }> {
  const b = await WebGpuBackend.create({ ...c, seed, maxBatch, device: dev });
  const params = randomParams(b.paramLayout, seed);
  b.setParams(params);
  return { b, params };
}

/** Seeded N(0, 1) observations [n, obsDim]. */
function randomObs(n: number, obsDim: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * obsDim }, () => gaussian(r));
}

/** Fills a GPU buffer with NaN, so an element a kernel skips cannot pass. */
function poison(dev: GPUDevice, buf: GPUBuffer, floats: number): void {
  dev.queue.writeBuffer(buf, 0, new Float32Array(floats).fill(NaN));
}

/** Asserts the gradient tensors and loss stats of the GPU against the float64 reference (tolerances in the header). */
function checkGradient(where: string, b: WebGpuBackend, got: { grad: Float32Array; stats: PpoLossStats }, ref: ReturnType<typeof referencePpoLoss>): number {
  assert.ok(got.grad.every(Number.isFinite), `${where}: non-finite gradient element (NaN poison left = element never written)`);
  const errs = tensorErrors(b.paramLayout, got.grad, ref.grad);
  for (const e of errs) {
    assert.ok(e.err < 1e-4, `${where}: ${e.name} error ${e.err} (scale ${e.scale})`);
    assert.ok(e.scale > 0, `${where}: ${e.name} has a zero reference gradient, the check would be vacuous`);
  }
  for (const k of ['loss', 'pgLoss', 'vLoss', 'entropy', 'approxKl'] as const) {
    const r = ref.stats[k];
    assert.ok(Math.abs(got.stats[k] - r) <= 1e-5 * (1 + Math.abs(r)), `${where}: ${k} ${got.stats[k]} vs ${r}`);
  }
  assert.equal(got.stats.clipFrac, ref.stats.clipFrac, `${where}: clipFrac`);
  return Math.max(...errs.map((e) => e.err));
}

for (const [c, batches] of [[NET_64, [1, 63, 257, 1031]], [NET_ODD, [1, 63, 257]]] as const) {
  gpuTest(`loss gradient of ${name(c)} matches the float64 reference at batch ${batches.join(', ')}`, async (dev, t) => {
    const { b, params } = await backend(dev, c, 11, batches[batches.length - 1]);
    try {
      let worst = 0;
      for (const n of batches) {
        // Batch 1: normAdv would zero its only advantage, and its row's value step (−0.45, outside ±ε) may take the
        // flat clipped branch, so use raw advantages and the unclipped value loss there to keep every gradient alive.
        const hp = n === 1 ? { ...HP, normAdv: false, clipVloss: false } : HP;
        const mb = makeMinibatch(b.paramLayout, params, n, 100 + n);
        poison(dev, b.buffers.grad, b.numParams);
        const got = await b.lossGradient(mb, hp);
        const ref = referencePpoLoss(params, b.paramLayout, mb, hp);
        worst = Math.max(worst, checkGradient(`${name(c)} n ${n}`, b, got, ref));
        if (n === 63) {
          // A trainer's minibatch buffers may hold more rows than n: only the first n count (the rest is NaN here).
          const pad = (a: Float32Array, width: number) => Float32Array.from({ length: a.length + 5 * width }, (_, i) => (i < a.length ? a[i] : NaN));
          const padded = { ...mb, obs: pad(mb.obs, c.obsDim), actions: pad(mb.actions, c.actDim), oldLogProb: pad(mb.oldLogProb, 1), advantages: pad(mb.advantages, 1), returns: pad(mb.returns, 1), oldValues: pad(mb.oldValues, 1) };
          assert.deepEqual((await b.lossGradient(padded, hp)).grad, got.grad, 'rows past n changed the gradient');
        }
        if (n === batches[batches.length - 1]) {
          // Fixed-order reductions: the same minibatch gives the same bits (n = 1031 uses all 16 row slices).
          const again = await b.lossGradient(mb, hp);
          assert.deepEqual(again.grad, got.grad, 'a second run of the same minibatch differs');
        }
      }
      assert.equal(rowSlices(1031)[0], MAX_ROW_SLICES);
      assert.deepEqual(rowSlices(63), [1, 63]);
      assert.deepEqual(rowSlices(257), [5, 52]);
      t.diagnostic(`${name(c)}: worst tensor error ${worst.toExponential(2)}`);
    } finally {
      b.destroy();
    }
  });
}

gpuTest('loss gradient of nets with no hidden layer and with three hidden layers matches the reference', async (dev) => {
  for (const c of [{ obsDim: 6, actDim: 2, hidden: [] }, { obsDim: 6, actDim: 5, hidden: [12, 9, 7] }]) {
    const { b, params } = await backend(dev, c, 22, 63);
    try {
      const mb = makeMinibatch(b.paramLayout, params, 63, 9);
      poison(dev, b.buffers.grad, b.numParams);
      checkGradient(name(c), b, await b.lossGradient(mb, HP), referencePpoLoss(params, b.paramLayout, mb, HP));
    } finally {
      b.destroy();
    }
  }
});

gpuTest('gradient through saturated tanh units (|pre-activation| > 20, clamped) matches the reference', async (dev) => {
  const c = NET_ODD;
  const { b, params } = await backend(dev, c, 12, 257);
  try {
    // Hidden unit 0 of the first layer of both nets ×60: its pre-activation is ~N(0, 36²), past ±20 in about half
    // the rows, where the forward clamps (so SwiftShader's tanh gives no NaN) and the reference blocks the gradient.
    for (const l of [b.paramLayout.policyLayers[0], b.paramLayout.valueLayers[0]]) {
      for (let i = 0; i < l.inDim; i++) params[l.weightOffset + i] *= 60;
    }
    b.setParams(params);
    const n = 257;
    const mb = makeMinibatch(b.paramLayout, params, n, 7);
    const acts = referenceActivations(params, b.paramLayout, mb.obs, n);
    const z = acts.policy.pre[0];
    let past = 0;
    for (let r = 0; r < n; r++) if (Math.abs(z[r * c.hidden[0]]) > 20) past++;
    assert.ok(past > 40 && past < n - 40, `${past} of ${n} rows saturate; the test needs both kinds`);
    poison(dev, b.buffers.grad, b.numParams);
    const got = await b.lossGradient(mb, HP);
    checkGradient('saturated', b, got, referencePpoLoss(params, b.paramLayout, mb, HP));
  } finally {
    b.destroy();
  }
});

gpuTest('gradNorm and Adam match float64 from the same state and gradient (3 steps from t = 7)', async (dev) => {
  // 28-64-64-4 has 12k parameters, so each of the 4096 first-pass invocations of the norm sums several.
  const { b } = await backend(dev, NET_64, 13, 63);
  try {
    const r = rng(5);
    const P = b.numParams;
    b.setOptimizerState({ m: Float32Array.from({ length: P }, () => 1e-2 * gaussian(r)), v: Float32Array.from({ length: P }, () => 1e-4 * Math.abs(gaussian(r))), t: 7 });
    const lr = 1e-3;
    for (let s = 0; s < 3; s++) {
      const before = await b.getParams();
      const state = await b.getOptimizerState();
      const mb = makeMinibatch(b.paramLayout, before, 63, 50 + s);
      const { grad } = await b.lossGradient(mb, HP);
      let ss = 0;
      for (let i = 0; i < P; i++) ss += grad[i] * grad[i];
      // Σ g² of positive terms in f32: ⌈P / 4096⌉ = 3 in order per partial, 64 partials in order per invocation, then a
      // 6-level tree: ≤ 73 u ≈ 4.4e-6 relative in the worst case (random-walk typical ~1e-7); sqrt halves it.
      const norm = await b.gradNorm();
      assert.ok(Math.abs(norm - Math.sqrt(ss)) <= 2.5e-6 * Math.sqrt(ss), `gradNorm ${norm} vs ${Math.sqrt(ss)}`);
      const coef = Math.min(1, 0.5 / (norm + 1e-6));
      assert.ok(coef < 1, 'the example should exercise clipping');
      await b.adamStep(coef, lr);
      // Reference: the same f32 state and gradient, the f32 coefficient the GPU multiplies by, in float64.
      const coef32 = Math.fround(coef);
      const p64 = Float64Array.from(before);
      const st = { m: Float64Array.from(state.m), v: Float64Array.from(state.v), t: state.t };
      adamUpdate(p64, Array.from(grad, (g) => g * coef32), st, lr);
      const after = await b.getParams();
      const o = await b.getOptimizerState();
      assert.equal(o.t, 8 + s);
      const stepSize = lr / (1 - 0.9 ** st.t);
      const sqrtBc2 = Math.sqrt(1 - 0.999 ** st.t);
      let moved = 0;
      for (let i = 0; i < P; i++) {
        // m = β1 m + (1 − β1) g·s in f32: a few roundings of the two terms, which may cancel, so the bound scales with them.
        const mTerms = 0.9 * Math.abs(state.m[i]) + 0.1 * Math.abs(grad[i] * coef32);
        assert.ok(Math.abs(o.m[i] - st.m[i]) <= 5 * u * mTerms + 1e-30, `m ${i}: ${o.m[i]} vs ${st.m[i]}`);
        // v sums two non-negative terms: a few roundings, relative.
        assert.ok(Math.abs(o.v[i] - st.v[i]) <= 5 * u * st.v[i] + 1e-30, `v ${i}: ${o.v[i]} vs ${st.v[i]}`);
        // p: one f32 rounding of p, the update's relative f32 error (a dozen ops, sqrt and division within a few
        // ulp on GPUs), and m's error carried by stepSize / denom.
        const denom = Math.sqrt(st.v[i]) / sqrtBc2 + 1e-5;
        const update = Math.abs(before[i] - p64[i]);
        moved = Math.max(moved, update);
        const tol = u * Math.abs(p64[i]) + 2e-6 * update + (stepSize * 5 * u * mTerms) / denom;
        assert.ok(Math.abs(after[i] - p64[i]) <= tol, `param ${i}: ${after[i]} vs ${p64[i]} (tolerance ${tol})`);
      }
      assert.ok(moved > 0.1 * lr, 'Adam should move parameters by about lr');
    }
  } finally {
    b.destroy();
  }
});

for (const [c, n, hp] of [[NET_64, 257, HP], [NET_ODD, 63, HP_OTHER]] as const) {
  const label = hp === HP ? 'default hyperparameters' : 'no normAdv, no value clipping, no gradient clipping';
  gpuTest(`one and two ppoSteps of ${name(c)} on ${n} rows (${label}) equal the float64 reference update`, async (dev, t) => {
    const { b, params } = await backend(dev, c, 14, n);
    try {
      const h = { ...hp, lr: 1e-3 };
      const p64 = Float64Array.from(params);
      const st = adamState64(b.numParams);
      for (let s = 0; s < 2; s++) {
        const before = await b.getParams();
        const mb = makeMinibatch(b.paramLayout, before, n, 70 + s);
        const { grad } = referencePpoLoss(p64, b.paramLayout, mb, h);
        const gw = (await b.lossGradient(mb, h)).grad;
        let gErr = 0;
        for (let i = 0; i < grad.length; i++) gErr = Math.max(gErr, Math.abs(gw[i] - grad[i]));
        assert.ok(gErr < 3e-7, `step ${s}: absolute gradient error ${gErr} (the tolerance below assumes < 3e-7)`);
        const rs = referencePpoStep(p64, st, b.paramLayout, mb, h);
        const ws = await b.ppoStep(mb, h);
        assert.ok(Math.abs(ws.gradNorm - rs.gradNorm) < 2e-7 * rs.gradNorm + 1e-7, `gradNorm ${ws.gradNorm} vs ${rs.gradNorm}`);
        if (Number.isFinite(h.maxGradNorm)) assert.ok(rs.gradNorm > h.maxGradNorm, 'the example should exercise clipping');
        for (const k of ['loss', 'pgLoss', 'vLoss', 'entropy', 'approxKl', 'clipFrac'] as const) {
          assert.ok(Math.abs(ws[k] - rs[k]) <= 1e-5 * (1 + Math.abs(rs[k])), `step ${s}: ${k} ${ws[k]} vs ${rs[k]}`);
        }
        const after = await b.getParams();
        let worst = 0;
        let moved = 0;
        for (let i = 0; i < after.length; i++) {
          const err = Math.abs(after[i] - p64[i]);
          worst = Math.max(worst, err / h.lr);
          moved = Math.max(moved, Math.abs(after[i] - before[i]));
          assert.ok(err <= (s + 1) * 2 ** -23 * Math.abs(p64[i]) + 0.1 * h.lr, `step ${s}, param ${i}: ${after[i]} vs ${p64[i]}`);
        }
        assert.ok(moved > 0.5 * h.lr, `Adam's first steps move parameters by about lr; largest move ${moved}`);
        // The moments carry the clipped gradient itself (Adam's update at t ≤ 2 barely sees the clip scale): m and v
        // per tensor as the gradient, 1e-4 of the tensor's scale (v ∝ g², so twice the relative error).
        const o = await b.getOptimizerState();
        for (const [k, tol] of [['m', 1e-4], ['v', 2e-4]] as const) {
          for (const e of tensorErrors(b.paramLayout, o[k], st[k])) assert.ok(e.err < tol && e.scale > 0, `step ${s}: Adam ${k} of ${e.name} error ${e.err}`);
        }
        t.diagnostic(`${name(c)} step ${s + 1}: largest parameter error ${worst.toExponential(2)} lr, gradient error ${gErr.toExponential(2)}`);
      }
      assert.equal((await b.getOptimizerState()).t, 2);
    } finally {
      b.destroy();
    }
  });
}

gpuTest('act and value give the same numbers as WasmBackend for the same seed and params (n = 1, 63, 257, 600)', async (dev) => {
  for (const c of [NET_64, NET_ODD]) {
    const { b, params } = await backend(dev, c, 21, 257);
    const w = await WasmBackend.create({ ...c, seed: 21, maxBatch: 257, params });
    try {
      for (const n of [1, 63, 257, 600]) {
        const obs = randomObs(n, c.obsDim, n + 17);
        for (const deterministic of [false, true]) {
          const mk = () => ({ action: new Float32Array(n * c.actDim).fill(NaN), logProb: new Float32Array(n).fill(NaN), value: new Float32Array(n).fill(NaN) });
          const og = mk();
          const ow = mk();
          const opts = { step: 41, envOffset: 3000, deterministic };
          await b.act(obs, n, opts, og);
          w.act(obs, n, opts, ow);
          for (const k of ['action', 'logProb', 'value'] as const) {
            const e = maxRelErr(og[k], ow[k]);
            assert.ok(e < 1e-5, `${name(c)} n ${n} ${deterministic ? 'deterministic' : 'sampled'}: ${k} error ${e}`);
          }
          if (deterministic) {
            // logProb of the mean = Σ_j (−logStd_j − 0.5 ln 2π).
            let lp0 = 0;
            for (let j = 0; j < c.actDim; j++) lp0 += -params[b.paramLayout.logStdOffset + j] - HALF_LOG_2PI;
            assert.ok(og.logProb.every((v) => Math.abs(v - lp0) < 1e-5), 'deterministic logProb');
          }
          const v = new Float32Array(n);
          await b.value(obs, n, v);
          assert.deepEqual(v, og.value, 'value() and act() run the same kernels');
        }
      }
      // The default key is the backend's seed; rows [0, 100) and [100, 150) with envOffset 10 and 110 equal one call.
      const n = 150;
      const obs = randomObs(n, c.obsDim, 4);
      const mk = (m: number) => ({ action: new Float32Array(m * c.actDim), logProb: new Float32Array(m), value: new Float32Array(m) });
      const whole = mk(n);
      const byDefault = mk(n);
      await b.act(obs, n, { step: 9, envOffset: 10, seed: 21 }, whole);
      await b.act(obs, n, { step: 9, envOffset: 10 }, byDefault);
      assert.deepEqual(byDefault, whole);
      const second = mk(50);
      await b.act(obs.subarray(100 * c.obsDim), 50, { step: 9, envOffset: 110 }, second);
      assert.deepEqual(second.action, whole.action.subarray(100 * c.actDim));
      const other = mk(n);
      await b.act(obs, n, { step: 10, envOffset: 10 }, other);
      assert.ok(other.action.every((a, k) => a !== whole.action[k]), 'another step draws other noise');
    } finally {
      b.destroy();
      w.destroy();
    }
  }
});

gpuTest('resuming from getParams + getOptimizerState reproduces the next step bit for bit', async (dev) => {
  const c = NET_64;
  const { b: a, params } = await backend(dev, c, 15, 128);
  const resumed = await WebGpuBackend.create({ ...c, seed: 99, maxBatch: 128, device: dev, params: new Float32Array(randomParams(a.paramLayout, 1)) });
  try {
    await a.ppoStep(makeMinibatch(a.paramLayout, params, 128, 1), HP);
    const mb2 = makeMinibatch(a.paramLayout, await a.getParams(), 128, 2);
    resumed.setParams(await a.getParams());
    resumed.setOptimizerState(await a.getOptimizerState());
    const sa = await a.ppoStep(mb2, HP);
    const sr = await resumed.ppoStep(mb2, HP);
    assert.deepEqual(sr, sa);
    assert.deepEqual(await resumed.getParams(), await a.getParams());
    assert.deepEqual(await resumed.getOptimizerState(), await a.getOptimizerState());
  } finally {
    a.destroy();
    resumed.destroy();
  }
});

gpuTest('calls take effect in call order even when not awaited', async (dev) => {
  const c = NET_ODD;
  const { b, params } = await backend(dev, c, 16, 63);
  const { b: seq } = await backend(dev, c, 16, 63);
  try {
    const mb = makeMinibatch(b.paramLayout, params, 63, 3);
    const p0 = randomParams(b.paramLayout, 2);
    // Un-awaited: step, setParams, step, getParams; setParams must land between the steps, getParams after both.
    const s1 = b.ppoStep(mb, HP);
    b.setParams(p0);
    const s2 = b.ppoStep(mb, HP);
    const got = b.getParams();
    const state = b.getOptimizerState();
    const [r1, r2, pGot, stGot] = await Promise.all([s1, s2, got, state]);
    const e1 = await seq.ppoStep(mb, HP);
    seq.setParams(p0);
    const e2 = await seq.ppoStep(mb, HP);
    assert.deepEqual([r1, r2], [e1, e2]);
    assert.deepEqual(pGot, await seq.getParams());
    assert.deepEqual(stGot, await seq.getOptimizerState());
    assert.equal(stGot.t, 2);
  } finally {
    b.destroy();
    seq.destroy();
  }
});

gpuTest('a step with a non-finite loss or gradient is skipped and changes nothing', async (dev) => {
  const c = NET_ODD;
  const { b, params } = await backend(dev, c, 17, 32);
  try {
    const mb = makeMinibatch(b.paramLayout, params, 32, 3);
    await b.ppoStep(mb, HP);
    const p1 = await b.getParams();
    const st1 = await b.getOptimizerState();
    // Diverged (finite) parameters whose value output overflows f32.
    const diverged = p1.slice();
    const vOut = b.paramLayout.valueLayers[b.paramLayout.valueLayers.length - 1];
    diverged.fill(1e38, vOut.weightOffset, vOut.weightOffset + vOut.inDim);
    b.setParams(diverged);
    await assert.rejects(b.ppoStep(mb, HP), /gradient norm (NaN|Infinity); the step was skipped, parameters and optimizer state are unchanged/);
    assert.deepEqual(await b.getParams(), diverged);
    assert.deepEqual(await b.getOptimizerState(), st1);
    // The backend stays usable.
    b.setParams(p1);
    await b.ppoStep(mb, HP);
    assert.equal((await b.getOptimizerState()).t, 2);
  } finally {
    b.destroy();
  }
});

gpuTest('bad inputs give clear errors and change nothing', async (dev) => {
  const c = { obsDim: 5, actDim: 2, hidden: [8, 8] };
  const { b, params } = await backend(dev, c, 18, 32);
  try {
    const out = { action: new Float32Array(8), logProb: new Float32Array(4), value: new Float32Array(4) };
    const obs = randomObs(4, 5, 1);
    await assert.rejects(b.act(obs.subarray(0, 19), 4, { step: 0 }, out), /act obs has 19 elements, expected n \* 5 = 20/);
    const nan = obs.slice();
    nan[13] = NaN;
    await assert.rejects(b.act(nan, 4, { step: 0 }, out), /act obs row 2 column 3 is NaN/);
    await assert.rejects(b.value(nan, 4, out.value), /value obs row 2 column 3 is NaN/);
    await assert.rejects(b.act(obs, 4, { step: -1 }, out), /act step must be a uint32/);
    await assert.rejects(b.act(obs, 4, { step: 0, seed: 2 ** 32 }, out), /act seed must be a uint32/);
    await assert.rejects(b.act(obs, 4, { step: 0 }, { ...out, logProb: new Float32Array(3) }), /act out.logProb has 3 elements, expected 4/);
    await assert.rejects(b.act(obs, 0, { step: 0 }, out), /act n must be a positive integer/);
    assert.throws(() => b.setParams(new Float32Array(params.length - 1)), /params has \d+ elements, expected \d+/);
    const inf = params.slice();
    inf[7] = Infinity;
    assert.throws(() => b.setParams(inf), /params\[7\] is Infinity/);
    const mb = makeMinibatch(b.paramLayout, params, 32, 3);
    const bad = (patch: Partial<Minibatch>): Minibatch => ({ ...mb, ...patch });
    const adv = mb.advantages.slice();
    adv[5] = NaN;
    await assert.rejects(b.ppoStep(bad({ advantages: adv }), HP), /minibatch advantages row 5 column 0 is NaN/);
    await assert.rejects(b.ppoStep(bad({ returns: mb.returns.subarray(1) }), HP), /minibatch returns has 31 elements/);
    await assert.rejects(b.ppoStep(makeMinibatch(b.paramLayout, params, 33, 3), HP), /n = 33 exceeds the backend's maxBatch 32/);
    await assert.rejects(b.ppoStep(mb, { ...HP, clipCoef: 0 }), /clipCoef must be a finite number > 0/);
    await assert.rejects(b.ppoStep(mb, { ...HP, lr: NaN }), /lr must be a finite number ≥ 0/);
    await assert.rejects(b.ppoStep(mb, { ...HP, maxGradNorm: 0 }), /maxGradNorm must be > 0/);
    assert.deepEqual(await b.getParams(), params);
    assert.equal((await b.getOptimizerState()).t, 0);
    const P = b.numParams;
    assert.throws(() => b.setOptimizerState({ m: new Float32Array(3), v: new Float32Array(3), t: 0 }), /optimizer state m has 3 elements/);
    assert.throws(() => b.setOptimizerState({ m: new Float32Array(P), v: new Float32Array(P).fill(-1), t: 0 }), /v\[0\] is -1; second moments must be ≥ 0/);
    assert.throws(() => b.setOptimizerState({ m: new Float32Array(P), v: new Float32Array(P), t: 1.5 }), /t must be a non-negative integer/);
    await assert.rejects(WebGpuBackend.create({ obsDim: 0, actDim: 2, device: dev }), /obsDim must be a positive integer/);
    await assert.rejects(WebGpuBackend.create({ obsDim: 5, actDim: 2, params: new Float32Array(3), device: dev }), /params has 3 elements/);
    await assert.rejects(WebGpuBackend.create({ obsDim: 5, actDim: 2, maxBatch: 2 ** 30, device: dev }), /over this device's \d+-byte storage limit/);
  } finally {
    b.destroy();
  }
});

gpuTest('destroy() frees every buffer, fails calls in flight and after, and leaves a borrowed device alone', async (dev) => {
  const c = NET_ODD;
  const { b, params } = await backend(dev, c, 19, 64);
  const created = track.created.length;
  await b.ppoStep(makeMinibatch(b.paramLayout, params, 64, 1), HP);
  assert.equal(track.created.length, created, 'a step must not create buffers');
  const obs = randomObs(64, c.obsDim, 2);
  const out = { action: new Float32Array(64 * 3), logProb: new Float32Array(64), value: new Float32Array(64) };
  const inFlight = b.act(obs, 64, { step: 0 }, out);
  b.destroy();
  await assert.rejects(inFlight, /destroyed while the GPU work was in flight/);
  await assert.rejects(b.act(obs, 64, { step: 0 }, out), /act used after destroy\(\)/);
  await assert.rejects(b.getParams(), /getParams used after destroy\(\)/);
  assert.throws(() => b.setParams(params), /setParams used after destroy\(\)/);
  b.destroy();
  // The shared device still works (gpuTest checks every buffer of this test was destroyed).
  const again = await WebGpuBackend.create({ ...c, seed: 19, maxBatch: 64, device: dev, params });
  assert.deepEqual(await again.getParams(), params);
  again.destroy();
});

gpuTest('a backend that makes its own device destroys it', async () => {
  const b = await WebGpuBackend.create({ ...NET_ODD, seed: 20, maxBatch: 8 });
  const lost = b.device.lost;
  const p = await b.getParams();
  assert.equal(p.length, b.numParams);
  b.destroy();
  const info = await lost;
  assert.equal(info.reason, 'destroyed');
});
