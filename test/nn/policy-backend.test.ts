// createPolicy's backend option: the WASM CPU policy has the WebGPU policy's public shape and errors, gives the same
// actions, log-probabilities and values for the same seed, step and env (up to float rounding), and 'auto' picks
// WebGPU only on a real GPU adapter (so the CPU on SwiftShader, this machine's adapter).
//
// Tolerances: both backends run the MLP in f32 (WGSL and WASM SIMD sum the products in different orders; tanh is
// clamped in WGSL, tanh4 in WASM, within 3.4e-7), so the mean, and the action mean + σz (z in f64 on both, from the
// same Philox words), agree to ~1e-6 of their scale: we allow 1e-5 of the largest magnitude. logProb sums
// −0.5 ((a − mean)/σ)² − logStd over 4 dims from f32 a and mean: its error is ≲ |z| · 1e-6 / σ per dim, allowed 1e-4.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adapterInfoOf } from '../../engine/gpu/device.ts';
import { createPolicy, initParams, WasmPolicy, type ActResult, type Policy, type WebGpuPolicy } from '../../engine/nn/index.ts';
import { gpuProbeOf } from '../../engine/nn/backend-kind.ts';
import { gaussian, maxRelErr, randomParams, rng } from '../train/helpers.ts';
import { testDevice } from '../gpu/test-device.ts';

/** Seeded N(0, 1) observations [n, obsDim]. */
function randomObs(n: number, obsDim: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * obsDim }, () => gaussian(r));
}

/** Largest |a − b| over two arrays. */
function maxAbsErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

test('wasm policy: the WebGPU policy\'s sizes, init, get/set, step counter and errors', async () => {
  const policy = await createPolicy({ obsDim: 25, actDim: 4, seed: 5, backend: 'wasm' });
  assert.ok(policy instanceof WasmPolicy);
  assert.deepEqual(policy.hidden, [64, 64]);
  // 25-64-64-4 policy + logStd + 25-64-64-1 value: 11977 (worked in param-layout.test.ts).
  assert.equal(policy.numParams, 11977);
  assert.equal(policy.paramLayout.size, 11977);
  assert.equal(policy.backend, 'wasm');
  assert.equal((policy as Policy).adapterInfo, undefined);
  assert.equal(policy.seed, 5);
  assert.deepEqual(await policy.getParams(), initParams(policy.paramLayout, 5));
  const p = new Float32Array(policy.numParams).map((_, i) => Math.cos(i) * 0.1);
  policy.setParams(p);
  assert.deepEqual(await policy.getParams(), p);
  assert.throws(() => policy.setParams(new Float32Array(10)), /got 10 values, this policy \(25-64-64-4\) has 11977/);
  const bad = p.slice();
  bad[1700] = Infinity;
  assert.throws(() => policy.setParams(bad), /non-finite value Infinity at index 1700 \(policy\.1\.weight\[36\]\)/);
  await assert.rejects(policy.act(new Float32Array(30)), /obs has 30 values, not a whole number of rows of obsDim = 25/);
  const nanObs = new Float32Array(50);
  nanObs[27] = NaN;
  await assert.rejects(policy.act(nanObs), /obs has a non-finite value NaN at \[1, 2\]/);
  await assert.rejects(policy.act(new Float32Array(50), { out: { logProb: new Float32Array(3) } }), /out arrays must hold \[2, 4\], \[2\] and \[2\]/);
  await assert.rejects(policy.act(new Float32Array(25), { step: -1 }), /step must be a uint32/);
  // The step counter advances after each sampling call without `step`, as on WebGPU.
  const obs = randomObs(3, 25, 1);
  assert.equal(policy.step, 0);
  const a0 = await policy.act(obs);
  assert.equal(policy.step, 1);
  await policy.act(obs, { deterministic: true });
  await policy.act(obs, { step: 9 });
  assert.equal(policy.step, 1);
  const a1 = await policy.act(obs);
  assert.equal(policy.step, 2);
  assert.deepEqual((await policy.act(obs, { step: 0 })).action, a0.action);
  assert.deepEqual((await policy.act(obs, { step: 1 })).action, a1.action);
  assert.notDeepEqual(a0.action, a1.action);
  // Caller-owned outputs are filled in place.
  const out: ActResult = { action: new Float32Array(12), logProb: new Float32Array(3), value: new Float32Array(3) };
  const r = await policy.act(obs, { step: 0, out });
  assert.equal(r.action, out.action);
  assert.deepEqual(out.action, a0.action);
  policy.destroy();
  await assert.rejects(policy.act(obs), /act: the policy was destroyed/);
  await assert.rejects(createPolicy({ obsDim: 2, actDim: 1, seed: -1, backend: 'wasm' }), /seed must be a uint32/);
  await assert.rejects(createPolicy({ obsDim: 2, actDim: 1, backend: 'cuda' as 'wasm' }), /backend must be one of webgpu, wasm, auto, got 'cuda'/);
});

test('same seed → same actions, log-probabilities and values on WebGPU and WASM (sampled and mean, envOffset, step counter)', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const nets = [{ obsDim: 28, actDim: 4, hidden: [64, 64] }, { obsDim: 25, actDim: 3, hidden: [37, 19] }];
  try {
    for (const c of nets) {
      const seed = 0xc0ffee;
      const gpu: WebGpuPolicy = await createPolicy({ ...c, seed, device, backend: 'webgpu' });
      const cpu: WasmPolicy = await createPolicy({ ...c, seed, backend: 'wasm' });
      const label = [c.obsDim, ...c.hidden, c.actDim].join('-');
      try {
        assert.equal(gpu.backend, 'webgpu');
        assert.equal(cpu.backend, 'wasm');
        // Same init from the seed, bit for bit.
        assert.deepEqual(await cpu.getParams(), await gpu.getParams());
        // Noisy parameters so that the output layers are not ~0 (cleanrl's 0.01 gain) and logStd differs per dim.
        const params = randomParams(cpu.paramLayout, 3);
        gpu.setParams(params);
        cpu.setParams(params);
        // 1100 rows: more than one WASM chunk of 1024.
        const n = 1100;
        const obs = randomObs(n, c.obsDim, 7);
        const cases: { what: string; opts: Parameters<Policy['act']>[1] }[] = [
          { what: 'sampled, step counter 0', opts: {} },
          { what: 'sampled, step counter 1', opts: {} },
          { what: 'sampled, step 12345, envOffset 4000', opts: { step: 12345, envOffset: 4000 } },
          { what: 'mean', opts: { deterministic: true } },
        ];
        let mean: ActResult | null = null;
        for (const k of cases) {
          const g = await gpu.act(obs, k.opts);
          const w = await cpu.act(obs, k.opts);
          assert.ok(maxRelErr(w.action, g.action) < 1e-5, `${label} ${k.what}: action ${maxRelErr(w.action, g.action)}`);
          assert.ok(maxAbsErr(w.logProb, g.logProb) < 1e-4, `${label} ${k.what}: logProb ${maxAbsErr(w.logProb, g.logProb)}`);
          assert.ok(maxRelErr(w.value, g.value) < 1e-5, `${label} ${k.what}: value ${maxRelErr(w.value, g.value)}`);
          if (k.opts?.deterministic) mean = w;
          else if (mean === null) {
            // The sample is not the mean: the comparison covers the noise, not just the forward pass.
            const m = await cpu.act(obs, { deterministic: true });
            assert.ok(maxAbsErr(w.action, m.action) > 0.1, `${label} ${k.what}: the sample equals the mean`);
          }
        }
        assert.equal(gpu.step, 2);
        assert.equal(cpu.step, 2);
        assert.ok(mean && mean.value.some((v) => v !== 0));
      } finally {
        gpu.destroy();
        cpu.destroy();
      }
    }
  } finally {
    device.destroy();
  }
});

test("backend 'auto' picks WebGPU only on a real GPU adapter: the CPU on SwiftShader", async (t) => {
  const device = await testDevice();
  const real = typeof device === 'string' ? false : gpuProbeOf(adapterInfoOf(device)).real;
  const info = typeof device === 'string' ? device : JSON.stringify(adapterInfoOf(device));
  if (typeof device !== 'string' && /swiftshader/i.test(info)) assert.equal(real, false, 'SwiftShader counts as a software adapter');
  const expected = real ? 'webgpu' : 'wasm';
  // Without a device: createPolicy probes one.
  const a = await createPolicy({ obsDim: 6, actDim: 2, hidden: [8], seed: 4, backend: 'auto' });
  try {
    assert.equal(a.backend, expected, `adapter ${info}`);
    const r = await a.act(new Float32Array(12).fill(0.5), { deterministic: true });
    assert.equal(r.action.length, 4);
  } finally {
    a.destroy();
  }
  if (typeof device === 'string') return t.skip(`auto without a device only: ${device}`);
  try {
    // With the caller's device: decided from its adapter, and the caller's device survives a CPU choice.
    const b = await createPolicy({ obsDim: 6, actDim: 2, hidden: [8], seed: 4, backend: 'auto', device });
    assert.equal(b.backend, expected);
    b.destroy();
    const gpu = await createPolicy({ obsDim: 6, actDim: 2, hidden: [8], seed: 4, device });
    assert.equal(gpu.backend, 'webgpu');
    const r = await gpu.act(new Float32Array(12).fill(0.5), { deterministic: true });
    assert.equal(r.value.length, 2);
    gpu.destroy();
  } finally {
    device.destroy();
  }
});
