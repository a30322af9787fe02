// ParallelWasmBackend against the single-thread WasmBackend: the reduced loss gradient and its stats, whole PPO
// steps, act() and value() (bit for bit), determinism across runs, errors from the lanes, and destroy().
//
// Tolerances (f32 unit roundoff u = 2^-24 ≈ 6e-8):
// - gradient 1e-5 of each tensor's largest magnitude and 3e-7 absolute: the split changes only the order of the
//   f32 row sums (each lane sums its rows, the lanes are added in f64 with weights n_k / n) and rounds the
//   normalized advantages to f32 once before the split; both are a few u of the tensor's scale (measured ≤ 1e-6
//   relative), while a wrong weight (n_k / n off by one row) or a lane's rows left out gives ≥ 1e-3.
// - parameters after Adam steps: Adam moves a parameter by about lr g / (|g| + ε), whose sensitivity to a gradient
//   error δ is at most lr δ / ε = lr · 3e-7 / 1e-5 = 3e-2 lr, plus one f32 rounding of p.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PPO_HYPERPARAMS, type BackendActOutputs, type PpoHyperparams, type PpoLossStats } from '../../engine/nn/backend.ts';
import { ParallelWasmBackend, splitRows } from '../../engine/nn/parallel-wasm-backend.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { gaussian, makeMinibatch, randomParams, rng, tensorErrors } from '../train/helpers.ts';

type Net = { obsDim: number; actDim: number; hidden: number[] };
const PUSH: Net = { obsDim: 28, actDim: 4, hidden: [64, 64] };
const ODD: Net = { obsDim: 25, actDim: 3, hidden: [37, 19] };
// None a multiple of K·4 = 8 (or 12), and 1 and 5 leave lanes without rows.
const BATCHES = [1, 5, 63, 1021];
const HP: PpoHyperparams = { ...DEFAULT_PPO_HYPERPARAMS, entCoef: 0.01 };
const name = (c: Net): string => [c.obsDim, ...c.hidden, c.actDim].join('-');

/** A single-thread and a K-thread backend with the same seeded random parameters. */
async function pair(c: Net, threads: number, seed: number, maxBatch = 1024): Promise<{ s: WasmBackend; p: ParallelWasmBackend; params: Float32Array }> {
  const s = await WasmBackend.create({ ...c, seed, maxBatch });
  const p = await ParallelWasmBackend.create({ ...c, seed, maxBatch, threads });
  const params = randomParams(s.paramLayout, seed);
  s.setParams(params);
  p.setParams(params);
  return { s, p, params };
}

/** Seeded N(0, 1) observations [n, obsDim]. */
function randomObs(n: number, obsDim: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * obsDim }, () => gaussian(r));
}

/** Throws unless two loss stats agree to 1e-6 of their magnitude (entropy exactly: it depends on logStd only). */
function assertStatsClose(a: PpoLossStats, b: PpoLossStats, what: string): void {
  assert.equal(a.entropy, b.entropy, `${what}: entropy`);
  for (const k of ['loss', 'pgLoss', 'vLoss', 'approxKl', 'clipFrac'] as const) {
    assert.ok(Math.abs(a[k] - b[k]) <= 1e-6 * Math.max(1, Math.abs(b[k])), `${what}: ${k} ${a[k]} vs ${b[k]}`);
  }
}

test('splitRows: contiguous parts of ⌈n / 4K⌉·4 rows in lane order, the rest (maybe none) last', () => {
  assert.deepEqual(splitRows(1, 2), [1, 0]);
  assert.deepEqual(splitRows(5, 2), [4, 1]);
  // ⌈63 / 8⌉ · 4 = 32.
  assert.deepEqual(splitRows(63, 2), [32, 31]);
  assert.deepEqual(splitRows(4096, 2), [2048, 2048]);
  // ⌈1021 / 12⌉ · 4 = 344: 344 + 344 + 333.
  assert.deepEqual(splitRows(1021, 3), [344, 344, 333]);
  assert.deepEqual(splitRows(5, 4), [4, 1, 0, 0]);
});

for (const [c, threads] of [[PUSH, 2], [ODD, 2], [ODD, 3]] as [Net, number][]) {
  test(`loss gradient of ${name(c)} on ${threads} threads equals the single-thread one at batch ${BATCHES.join(', ')}`, async () => {
    const { s, p, params } = await pair(c, threads, 21);
    try {
      for (const n of BATCHES) {
        for (const normAdv of [true, false]) {
          const hp = { ...HP, normAdv };
          const mb = makeMinibatch(s.paramLayout, params, n, 100 + n);
          const a = p.lossGradient(mb, hp);
          const b = s.lossGradient(mb, hp);
          assertStatsClose(a.stats, b.stats, `n ${n}, normAdv ${normAdv}`);
          for (const e of tensorErrors(s.paramLayout, a.grad, b.grad)) {
            assert.ok(e.err < 1e-5, `n ${n}, normAdv ${normAdv}, ${e.name}: relative error ${e.err} (scale ${e.scale})`);
          }
          let abs = 0;
          for (let i = 0; i < a.grad.length; i++) abs = Math.max(abs, Math.abs(a.grad[i] - b.grad[i]));
          assert.ok(abs < 3e-7, `n ${n}, normAdv ${normAdv}: absolute gradient error ${abs}`);
        }
      }
    } finally {
      p.destroy();
      s.destroy();
    }
  });
}

for (const c of [PUSH, ODD]) {
  test(`three ppoSteps of ${name(c)} on 2 threads equal the single-thread steps (1021 rows)`, async () => {
    const { s, p, params } = await pair(c, 2, 22);
    const hp = { ...HP, lr: 1e-3, maxGradNorm: 0.1 };
    try {
      for (let step = 0; step < 3; step++) {
        const mb = makeMinibatch(s.paramLayout, s.getParams(), 1021, 200 + step);
        const a = p.ppoStep(mb, hp);
        const b = s.ppoStep(mb, hp);
        assertStatsClose(a, b, `step ${step}`);
        assert.ok(Math.abs(a.gradNorm - b.gradNorm) < 1e-5 * b.gradNorm, `step ${step}: gradNorm ${a.gradNorm} vs ${b.gradNorm}`);
        assert.ok(b.gradNorm > hp.maxGradNorm, 'the example should exercise clipping');
        const pa = p.getParams(), pb = s.getParams();
        for (let i = 0; i < pa.length; i++) {
          assert.ok(Math.abs(pa[i] - pb[i]) <= 2 ** -23 * Math.abs(pb[i]) + 3e-2 * hp.lr, `step ${step}, param ${i}: ${pa[i]} vs ${pb[i]}`);
        }
      }
      // Each step moved the parameters by about lr (Adam's first steps), so the comparison above is not vacuous.
      const after = s.getParams();
      let moved = 0;
      for (let i = 0; i < after.length; i++) moved = Math.max(moved, Math.abs(after[i] - params[i]));
      assert.ok(moved > hp.lr, `largest parameter change ${moved}`);
      assert.equal(p.getOptimizerState().t, 3);
      assert.equal(s.getOptimizerState().t, 3);
    } finally {
      p.destroy();
      s.destroy();
    }
  });
}

test('the steps are deterministic: two 2-thread backends give bit-identical parameters, moments and stats', async () => {
  const runs: { params: Float32Array; m: Float32Array; stats: number[] }[] = [];
  for (let r = 0; r < 2; r++) {
    const p = await ParallelWasmBackend.create({ ...PUSH, seed: 23, maxBatch: 1024, threads: 2 });
    try {
      const stats: number[] = [];
      for (let step = 0; step < 4; step++) {
        const mb = makeMinibatch(p.paramLayout, p.getParams(), 1019, 300 + step);
        const st = p.ppoStep(mb, HP);
        stats.push(st.loss, st.gradNorm, st.approxKl);
      }
      const o = p.getOptimizerState();
      runs.push({ params: p.getParams(), m: o.m, stats });
    } finally {
      p.destroy();
    }
  }
  assert.deepEqual(runs[1].params, runs[0].params);
  assert.deepEqual(runs[1].m, runs[0].m);
  assert.deepEqual(runs[1].stats, runs[0].stats);
});

test('act and value equal the single-thread backend bit for bit, across chunks and envOffset', async () => {
  // maxBatch 300 → 152 rows per lane, chunks of 304: n = 1000 takes 4 chunks, the last of 88 rows (on one lane).
  const { s, p } = await pair(PUSH, 2, 24, 300);
  try {
    for (const n of [1, 130, 1000]) {
      const obs = randomObs(n, PUSH.obsDim, n);
      for (const deterministic of [false, true]) {
        const mk = (): BackendActOutputs => ({ action: new Float32Array(n * 4), logProb: new Float32Array(n), value: new Float32Array(n) });
        const oa = mk(), ob = mk();
        const opts = { step: 77, seed: 0xdeadbeef, envOffset: 0xffffff00, deterministic };
        p.act(obs, n, opts, oa);
        s.act(obs, n, opts, ob);
        assert.deepEqual(oa.action, ob.action, `n ${n}, deterministic ${deterministic}: action`);
        assert.deepEqual(oa.logProb, ob.logProb, `n ${n}: logProb`);
        assert.deepEqual(oa.value, ob.value, `n ${n}: value`);
        assert.ok(oa.action.some((v) => v !== 0) && oa.value.some((v) => v !== 0));
      }
      const va = new Float32Array(n), vb = new Float32Array(n);
      p.value(obs, n, va);
      s.value(obs, n, vb);
      assert.deepEqual(va, vb, `n ${n}: value()`);
    }
  } finally {
    p.destroy();
    s.destroy();
  }
});

test('bad inputs give the single-thread errors; a non-finite gradient skips the step; optimizer state round-trips', async () => {
  const { p, params } = await pair(PUSH, 2, 25, 64);
  try {
    const mb = makeMinibatch(p.paramLayout, params, 64, 1);
    assert.throws(() => p.ppoStep({ ...mb, n: 65 }, HP), /exceeds the backend's maxBatch 64/);
    const bad = { ...mb, obs: mb.obs.slice() };
    bad.obs[40 * 28 + 3] = NaN;
    assert.throws(() => p.ppoStep(bad, HP), /minibatch obs row 40 column 3 is NaN/);
    assert.throws(() => p.ppoStep(mb, { ...HP, clipCoef: 0 }), /clipCoef must be a finite number > 0/);
    assert.deepEqual(p.getParams(), params);
    assert.equal(p.getOptimizerState().t, 0);
    // Diverged (finite) parameters whose value output overflows f32: the step is refused before Adam touches anything.
    const diverged = params.slice();
    const vOut = p.paramLayout.valueLayers[p.paramLayout.valueLayers.length - 1];
    diverged.fill(1e38, vOut.weightOffset, vOut.weightOffset + vOut.inDim);
    p.setParams(diverged);
    assert.throws(() => p.ppoStep(mb, HP), /gradient norm (NaN|Infinity); the step was skipped, parameters and optimizer state are unchanged/);
    assert.deepEqual(p.getParams(), diverged);
    assert.equal(p.getOptimizerState().t, 0);
    const st = { m: new Float32Array(p.numParams).fill(0.1), v: new Float32Array(p.numParams).fill(0.2), t: 9 };
    p.setOptimizerState(st);
    assert.deepEqual(p.getOptimizerState(), st);
    assert.throws(() => p.setParams(new Float32Array(3)), new RegExp(`has 3 elements, expected ${p.numParams}`));
  } finally {
    p.destroy();
  }
});

test('destroy() stops every worker thread; the backend refuses use after', async () => {
  const p = await ParallelWasmBackend.create({ ...ODD, seed: 26, maxBatch: 256, threads: 3 });
  const obs = randomObs(200, ODD.obsDim, 1);
  const out = new Float32Array(200);
  p.value(obs, 200, out);
  p.destroy();
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    p.whenStopped().then(() => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 10_000); }),
  ]);
  clearTimeout(timer);
  assert.ok(stopped, 'the worker threads did not exit within 10 s of destroy()');
  assert.throws(() => p.value(obs, 200, out), /used after destroy\(\)/);
  assert.throws(() => p.getParams(), /used after destroy\(\)/);
  p.destroy();
});
