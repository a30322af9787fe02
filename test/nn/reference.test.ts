// Float64 reference forward pass, worked by hand on a 2-2-1 net.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paramLayout } from '../../engine/nn/param-layout.ts';
import { actionNoise } from '../../engine/nn/philox.ts';
import { HALF_LOG_2PI, referenceForward } from '../../engine/nn/reference.ts';

// Layout 2-2-1: policy.0 W [2,2] at 0, b at 4; policy.1 W [1,2] at 6, b at 8; logStd at 9;
// value.0 W [2,2] at 10, b at 14; value.1 W [1,2] at 16, b at 18; 19 in all.
const layout = paramLayout(2, 1, [2]);
const params = new Float64Array([
  1, 0, 0, -1, /* b */ 0, 0.5, // policy.0: h = tanh([x0, -x1 + 0.5])
  2, 3, /* b */ -0.25, // policy.1: mean = 2 h0 + 3 h1 - 0.25
  Math.log(2), // logStd: std 2
  0, 0, 100, 0, /* b */ 0, 0, // value.0: h = tanh([0, clamp(100 x0)])
  1, 1, /* b */ 0.5, // value.1: v = h0 + h1 + 0.5
]);

test('deterministic forward pass of a 2-2-1 net, by hand', () => {
  const obs = new Float64Array([0.5, 0.25, -1, 0]);
  const r = referenceForward(params, layout, obs, 2, { deterministic: true });
  // Row 0: h = tanh([0.5, 0.25]) = [0.46211716, 0.24491866]; mean = 0.92423431 + 0.73475599 - 0.25 = 1.40899030.
  assert.ok(Math.abs(r.mean[0] - 1.4089903) < 1e-7);
  // Row 1: h = tanh([-1, 0.5]) = [-0.76159416, 0.46211716]; mean = -1.52318831 + 1.38635147 - 0.25 = -0.38683684.
  assert.ok(Math.abs(r.mean[1] + 0.38683684) < 1e-7);
  // Deterministic: action = mean; logProb = -ln 2 - 0.5 ln 2π = -0.69314718 - 0.91893853 = -1.61208571.
  assert.deepEqual([...r.action], [...r.mean]);
  assert.ok(Math.abs(r.logProb[0] + 1.61208571) < 1e-7);
  assert.ok(Math.abs(r.logProb[1] + 1.61208571) < 1e-7);
  // Value row 0: 100·0.5 = 50 clamps to 20, tanh 20 = 1 - 8.5e-18 → 1; v = 0 + 1 + 0.5 = 1.5.
  // Row 1: -100 → -20 → -1; v = -0.5.
  assert.equal(r.value[0], 1.5);
  assert.equal(r.value[1], -0.5);
});

test('sampled action is mean + std z with z from the Philox action stream; logProb from it', () => {
  const obs = new Float64Array([0.5, 0.25, -1, 0]);
  const det = referenceForward(params, layout, obs, 2, { deterministic: true });
  const r = referenceForward(params, layout, obs, 2, { seed: 11, step: 4, envOffset: 10 });
  for (let b = 0; b < 2; b++) {
    // Row b is env 10 + b: z = Gaussian 0 of counter (10 + b, 4, 0, 0), key (11, 0).
    const z = actionNoise(11, 10 + b, 4, 0);
    assert.ok(Math.abs(r.action[b] - (det.mean[b] + 2 * z)) < 1e-12);
    // logProb = -z²/2 - ln 2 - 0.5 ln 2π.
    assert.ok(Math.abs(r.logProb[b] - (-0.5 * z * z - Math.log(2) - HALF_LOG_2PI)) < 1e-12);
  }
  assert.deepEqual([...r.value], [...det.value]);
  assert.throws(() => referenceForward(params, layout, obs, 3), /expected N \* obsDim = 6/);
  assert.throws(() => referenceForward(params.subarray(1), layout, obs, 2), /layout needs 19/);
});
