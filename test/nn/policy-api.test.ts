// The Policy contract: sizes, parameters in and out, input errors, buffers made once and cleaned up, and GPU
// failures (validation errors, a lost device) raised as errors instead of zeros.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GpuError } from '../../engine/gpu/errors.ts';
import { createPolicy, initParams } from '../../engine/nn/index.ts';
import { testDevice, trackBuffers } from '../gpu/test-device.ts';

test('sizes, init parameters, get/set round trip, clear errors on bad input', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const policy = await createPolicy({ obsDim: 25, actDim: 4, seed: 5, device });
  try {
    device.pushErrorScope('validation');
    assert.deepEqual(policy.hidden, [64, 64]);
    // 25-64-64-4 policy + logStd + 25-64-64-1 value: 11977 (worked in param-layout.test.ts).
    assert.equal(policy.numParams, 11977);
    assert.equal(policy.paramLayout.size, 11977);
    assert.equal(policy.backend, 'webgpu');
    assert.equal(typeof policy.adapterInfo.vendor, 'string');
    // The GPU holds exactly cleanrl's init for seed 5.
    assert.deepEqual(await policy.getParams(), initParams(policy.paramLayout, 5));
    const p = new Float32Array(policy.numParams).map((_, i) => Math.cos(i));
    policy.setParams(p);
    assert.deepEqual(await policy.getParams(), p);
    assert.throws(() => policy.setParams(new Float32Array(10)), /got 10 values, this policy \(25-64-64-4\) has 11977/);
    const bad = p.slice();
    bad[1700] = Infinity;
    // Index 1700 is policy.1.weight (offset 1664) element 36.
    assert.throws(() => policy.setParams(bad), /non-finite value Infinity at index 1700 \(policy\.1\.weight\[36\]\)/);
    await assert.rejects(policy.act(new Float32Array(30)), /obs has 30 values, not a whole number of rows of obsDim = 25/);
    const nanObs = new Float32Array(50);
    nanObs[27] = NaN;
    await assert.rejects(policy.act(nanObs), /obs has a non-finite value NaN at \[1, 2\]/);
    await assert.rejects(policy.act(new Float32Array(50), { out: { logProb: new Float32Array(3) } }), /out arrays must hold \[2, 4\], \[2\] and \[2\]/);
    await assert.rejects(policy.act(new Float32Array(25), { step: -1 }), /step must be a uint32/);
    const err = await device.popErrorScope();
    assert.equal(err, null, `validation error: ${err?.message}`);
  } finally {
    policy.destroy();
    device.destroy();
  }
});

test('buffers: all made at creation, none per call, N above maxBatch in chunks, all destroyed by destroy()', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const track = trackBuffers(device);
  const policy = await createPolicy({ obsDim: 6, actDim: 2, hidden: [8, 8], seed: 1, device, maxBatch: 16 });
  try {
    device.pushErrorScope('validation');
    const made = track.created.length;
    assert.ok(made > 0, 'the backend makes its buffers at creation');
    const obs = new Float32Array(10 * 6).fill(0.5);
    for (let i = 0; i < 6; i++) await policy.act(obs, { deterministic: i % 2 === 0 });
    assert.equal(track.created.length, made, 'act() made new buffers');
    // Concurrent calls are queued and each gets its own answer.
    const obs2 = obs.map((v, i) => v + i / 100);
    const [x, y] = await Promise.all([policy.act(obs, { step: 3 }), policy.act(obs2, { step: 3 })]);
    assert.deepEqual(x, await policy.act(obs, { step: 3 }));
    assert.deepEqual(y, await policy.act(obs2, { step: 3 }));
    // Obs in a SharedArrayBuffer (as a shared-memory Batch gives) is copied, not passed to writeBuffer.
    const shared = new Float32Array(new SharedArrayBuffer(obs.byteLength));
    shared.set(obs);
    assert.deepEqual(await policy.act(shared, { step: 3 }), x);
    // 40 rows with maxBatch 16 go in chunks of 16, 16 and 8: the same answers as three calls at their env offsets.
    const big = new Float32Array(40 * 6).map((_, i) => Math.sin(i));
    const whole = await policy.act(big, { step: 7 });
    for (const lo of [0, 16, 32]) {
      const part = await policy.act(big.subarray(lo * 6, Math.min(40, lo + 16) * 6), { step: 7, envOffset: lo });
      assert.deepEqual(part.action, whole.action.subarray(lo * 2, Math.min(40, lo + 16) * 2), `rows ${lo}…`);
      assert.deepEqual(part.value, whole.value.subarray(lo, Math.min(40, lo + 16)), `rows ${lo}…`);
    }
    assert.equal(track.created.length, made, 'a chunked act() made new buffers');
    const err = await device.popErrorScope();
    assert.equal(err, null, `validation error: ${err?.message}`);
    policy.destroy();
    assert.deepEqual(track.live(), [], `${track.live().length} buffers left alive: ${track.live().map((b) => b.label).join(', ')}`);
    await assert.rejects(policy.act(obs), /the policy was destroyed/);
    assert.throws(() => policy.setParams(new Float32Array(policy.numParams)), /the policy was destroyed/);
  } finally {
    policy.destroy();
    device.destroy();
  }
});

test('a validation error inside act() rejects with a GpuError, not zeros', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const policy = await createPolicy({ obsDim: 6, actDim: 2, hidden: [8], seed: 1, device });
  try {
    const obs = new Float32Array(4 * 6).fill(0.5);
    await policy.act(obs);
    // Destroy a buffer behind the policy's back: the submit must fail.
    policy.net().buffers.params.destroy();
    await assert.rejects(policy.act(obs), (e: unknown) => e instanceof GpuError && e.kind === 'validation' && /act: WebGPU validation error/.test(e.message));
  } finally {
    policy.destroy();
    device.destroy();
  }
});

test('a lost device rejects act() with a device-lost GpuError', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const policy = await createPolicy({ obsDim: 6, actDim: 2, hidden: [8], seed: 1, device });
  try {
    await policy.act(new Float32Array(12));
    device.destroy();
    await assert.rejects(policy.act(new Float32Array(12)), (e: unknown) => e instanceof GpuError && e.kind === 'device-lost' && /device lost \(destroyed\)/.test(e.message));
  } finally {
    policy.destroy();
  }
});

test('a policy that made its own device destroys it', async (t) => {
  const probe = await testDevice();
  if (typeof probe === 'string') return t.skip(probe);
  probe.destroy();
  const policy = await createPolicy({ obsDim: 2, actDim: 1, hidden: [4], seed: 3 });
  const r = await policy.act(new Float32Array([0.1, 0.2]), { deterministic: true });
  assert.equal(r.action.length, 1);
  const lost = policy.device.lost;
  policy.destroy();
  assert.equal((await lost).reason, 'destroyed');
});
