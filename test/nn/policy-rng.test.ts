// Sampled actions on the GPU: mean, std, correlation and log-probability of the noise within
// statistical tolerance, and bit-reproducible from (seed, env, step) whatever the batch split.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPolicy, HALF_LOG_2PI, type WebGpuPolicy } from '../../engine/nn/index.ts';
import { testDevice } from '../gpu/test-device.ts';

const MEAN = [0.5, -1, 0, 2];
const LOG_STD = [0, Math.log(0.5), Math.log(2), -1];

/** A policy whose mean is the output bias MEAN for every observation (all weights 0) and logStd LOG_STD. */
async function constantPolicy(device: GPUDevice, seed: number): Promise<WebGpuPolicy> {
  const policy = await createPolicy({ obsDim: 3, actDim: 4, hidden: [8], seed, device });
  const p = new Float32Array(policy.numParams);
  const out = policy.paramLayout.policyLayers[1];
  p.set(MEAN, out.biasOffset);
  p.set(LOG_STD, policy.paramLayout.logStdOffset);
  policy.setParams(p);
  return policy;
}

/** Bits of a Float32Array, for exact comparison (NaN-safe). */
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

test('noise statistics: mean, std, ±1σ mass, correlation, mean logProb', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const policy = await constantPolicy(device, 2024);
  try {
    device.pushErrorScope('validation');
    // 2048 envs × 4 steps = 8192 samples per dimension.
    const N = 2048;
    const S = 4;
    const obs = new Float32Array(N * 3).fill(0.3);
    const z: number[][] = [[], [], [], []];
    const lps: number[] = [];
    for (let s = 0; s < S; s++) {
      const r = await policy.act(obs, { step: s });
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < 4; j++) z[j].push((r.action[i * 4 + j] - MEAN[j]) / Math.exp(LOG_STD[j]));
        lps.push(r.logProb[i]);
      }
    }
    const M = N * S;
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    for (let j = 0; j < 4; j++) {
      const m = mean(z[j]);
      const sd = Math.sqrt(mean(z[j].map((v) => (v - m) ** 2)));
      const within = z[j].filter((v) => Math.abs(v) < 1).length / M;
      // Standard errors for M = 8192 standard normals: mean 1/√M = 0.011, std 1/√(2M) = 0.0078,
      // P(|z| < 1) = 0.6827 with √(0.6827·0.3173/M) = 0.0051. Bounds are 5 standard errors.
      assert.ok(Math.abs(m) < 5 * 0.011, `dim ${j}: mean of z ${m}`);
      assert.ok(Math.abs(sd - 1) < 5 * 0.0078, `dim ${j}: std of z ${sd}`);
      assert.ok(Math.abs(within - 0.6827) < 5 * 0.0051, `dim ${j}: P(|z| < 1) = ${within}`);
    }
    // z0, z1 are the cos and sin halves of one Box-Muller pair; z1, z2 come from different pairs.
    // Correlation of independent normals has standard error 1/√M = 0.011.
    for (const [a, b] of [[0, 1], [1, 2], [2, 3], [0, 3]]) {
      const c = mean(z[a].map((v, i) => v * z[b][i]));
      assert.ok(Math.abs(c) < 5 * 0.011, `corr(z${a}, z${b}) = ${c}`);
    }
    // E[logProb] = Σ_j (-0.5 E[z²] - logStd_j - 0.5 ln 2π) = -2 - (-1) - 4·0.9189385 = -4.6757541;
    // sd of -0.5 χ²₄ is √2, standard error √2/√M = 0.0156.
    const expected = -2 - LOG_STD.reduce((a, b) => a + b, 0) - 4 * HALF_LOG_2PI;
    assert.ok(Math.abs(expected + 4.6757541) < 1e-6);
    assert.ok(Math.abs(mean(lps) - expected) < 5 * 0.0156, `mean logProb ${mean(lps)}`);
    const err = await device.popErrorScope();
    assert.equal(err, null, `validation error: ${err?.message}`);
  } finally {
    policy.destroy();
    device.destroy();
  }
});

test('bit-reproducible from (seed, env, step): reruns, new policies, batch splits, the step counter', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const a = await constantPolicy(device, 77);
  const b = await constantPolicy(device, 77);
  const c = await constantPolicy(device, 78);
  try {
    device.pushErrorScope('validation');
    const N = 300;
    const obs = new Float32Array(N * 3).map((_, i) => Math.sin(i));
    const first = await a.act(obs, { step: 9 });
    // Same call again, and on a second policy with the same seed: identical bits.
    assert.deepEqual(bits((await a.act(obs, { step: 9 })).action), bits(first.action));
    assert.deepEqual(bits((await b.act(obs, { step: 9 })).logProb), bits(first.logProb));
    // Another step or another seed: different noise.
    const other = await a.act(obs, { step: 10 });
    assert.ok(first.action.some((v, i) => v !== other.action[i]));
    const seeded = await c.act(obs, { step: 9 });
    assert.ok(first.action.some((v, i) => v !== seeded.action[i]));
    // Rows 100..199 run alone as envs 100..199 (envOffset 100) give the same bits as in the full batch.
    const part = await b.act(obs.subarray(300, 600), { step: 9, envOffset: 100 });
    assert.deepEqual(bits(part.action), bits(first.action.subarray(400, 800)));
    assert.deepEqual(bits(part.logProb), bits(first.logProb.subarray(100, 200)));
    // The internal counter: a fresh policy samples at step 0, then 1; deterministic calls and calls
    // with an explicit step leave it alone.
    assert.equal(c.step, 0);
    const s0 = await c.act(obs);
    assert.equal(c.step, 1);
    await c.act(obs, { deterministic: true });
    await c.act(obs, { step: 40 });
    assert.equal(c.step, 1);
    const s1 = await c.act(obs);
    assert.equal(c.step, 2);
    assert.deepEqual(bits(s0.action), bits((await c.act(obs, { step: 0 })).action));
    assert.deepEqual(bits(s1.action), bits((await c.act(obs, { step: 1 })).action));
    const err = await device.popErrorScope();
    assert.equal(err, null, `validation error: ${err?.message}`);
  } finally {
    a.destroy();
    b.destroy();
    c.destroy();
    device.destroy();
  }
});
