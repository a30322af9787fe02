// Parity of the WebGPU policy with the float64 reference: 25-64-64-4 and 25-256-256-4 at N = 1, 63, 1024,
// 4097, sampled and deterministic, all outputs poisoned with NaN before each run, inside a validation
// error scope, every buffer destroyed at the end. The same check runs in headless Chromium in
// test/browser/policy-parity.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDevice, trackBuffers } from '../gpu/test-device.ts';
import { runParity } from './parity-check.ts';

/** Largest normwise relative error allowed (issue 3: under 1e-5); float32 sums of 256 terms give ~1e-6. */
const TOL = 1e-5;

test('WebGPU act() matches the float64 reference for every shape, batch and mode', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const track = trackBuffers(device);
  try {
    device.pushErrorScope('validation');
    const rows = await runParity(device);
    // runParity destroys each policy; every buffer they made must be gone.
    assert.ok(track.created.length > 0);
    assert.deepEqual(track.live().map((b) => b.label), []);
    const err = await device.popErrorScope();
    assert.equal(err, null, `validation error: ${err?.message}`);
    // 2 shapes × 4 batches × 2 modes.
    assert.equal(rows.length, 16);
    for (const r of rows) {
      const where = `${r.arch} N=${r.n} ${r.deterministic ? 'deterministic' : 'sampled'}`;
      assert.equal(r.unwritten, 0, `${where}: ${r.unwritten} output elements NaN (never written, or computed as NaN)`);
      for (const [k, e] of Object.entries(r.relErr)) assert.ok(e < TOL, `${where}: ${k} relative error ${e} ≥ ${TOL}`);
    }
    t.diagnostic(`worst relative error ${Math.max(...rows.flatMap((r) => Object.values(r.relErr))).toExponential(2)}`);
  } finally {
    device.destroy();
  }
});
