// GAE over time-major [T, N] storage: a T = 3, N = 2 rollout worked by hand (one truncation, one termination),
// the truncation bootstrap against termination, and bad inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeGae, type GaeInput } from '../../engine/train/gae.ts';

/**
 * γ = 0.9, λ = 0.8 (γλ = 0.72). Element t * 2 + e.
 * env 0: rewards [1, 0, 2], values [0.5, 1.0, 1.5], truncated at t = 1 with truncValue 3.0, nextValue 2.0.
 * env 1: rewards [0, 1, −1], values [0.2, 0.4, 0.6], terminated at t = 0, nextValue −1.0.
 * truncValue is NaN wherever it must not be read.
 */
function rollout(): GaeInput {
  return {
    numSteps: 3,
    numEnvs: 2,
    rewards: [1, 0, 0, 1, 2, -1],
    values: [0.5, 0.2, 1.0, 0.4, 1.5, 0.6],
    terminated: [0, 1, 0, 0, 0, 0],
    truncated: [0, 0, 1, 0, 0, 0],
    truncValue: [NaN, NaN, 3.0, NaN, NaN, NaN],
    nextValue: [2.0, -1.0],
    gamma: 0.9,
    lambda: 0.8,
  };
}

test('advantages and returns of a T = 3, N = 2 rollout worked by hand', () => {
  const { advantages, returns } = computeGae(rollout());
  // env 0:
  //   t = 2: not done, bootstrap nextValue 2.0: δ = 2 + 0.9 × 2.0 − 1.5 = 2.3;            A = 2.3
  //   t = 1: truncated, bootstrap truncValue 3.0: δ = 0 + 0.9 × 3.0 − 1.0 = 1.7; no carry:  A = 1.7
  //   t = 0: not done, bootstrap V_1 = 1.0: δ = 1 + 0.9 × 1.0 − 0.5 = 1.4;                 A = 1.4 + 0.72 × 1.7 = 2.624
  //   returns A + V = [3.124, 2.7, 3.8]
  // env 1:
  //   t = 2: δ = −1 + 0.9 × (−1.0) − 0.6 = −2.5;                                            A = −2.5
  //   t = 1: δ = 1 + 0.9 × 0.6 − 0.4 = 1.14;                                                A = 1.14 + 0.72 × (−2.5) = −0.66
  //   t = 0: terminated, no bootstrap: δ = 0 + 0 − 0.2 = −0.2; no carry:                    A = −0.2
  //   returns [0.0, −0.26, −1.9]
  const wantA = [2.624, -0.2, 1.7, -0.66, 2.3, -2.5];
  const wantR = [3.124, 0.0, 2.7, -0.26, 3.8, -1.9];
  for (let k = 0; k < 6; k++) {
    assert.ok(Math.abs(advantages[k] - wantA[k]) < 1e-6, `advantage ${k}: ${advantages[k]}, want ${wantA[k]}`);
    assert.ok(Math.abs(returns[k] - wantR[k]) < 1e-6, `return ${k}: ${returns[k]}, want ${wantR[k]}`);
  }
});

test('a truncated transition bootstraps from truncValue, a terminated one from 0', () => {
  const trunc = computeGae(rollout()).advantages;
  const termIn = rollout();
  termIn.terminated = [0, 1, 1, 0, 0, 0];
  termIn.truncated = [0, 0, 0, 0, 0, 0];
  const term = computeGae(termIn).advantages;
  // env 0, t = 1 terminated: δ = 0 − 1.0 = −1.0, so A_1 drops by γ × truncValue = 0.9 × 3.0 = 2.7,
  // and A_0 = 1.4 + 0.72 × (−1.0) = 0.68 drops by 0.72 × 2.7 = 1.944. env 1 is unchanged.
  assert.ok(Math.abs(trunc[2] - term[2] - 2.7) < 1e-6, `${trunc[2]} vs ${term[2]}`);
  assert.ok(Math.abs(term[0] - 0.68) < 1e-6, `${term[0]}`);
  assert.ok(Math.abs(trunc[0] - term[0] - 1.944) < 1e-6);
  for (const k of [1, 3, 4, 5]) assert.equal(trunc[k], term[k]);
  // Both flags set: termination wins (no bootstrap, truncValue not read).
  const both = rollout();
  both.terminated = [0, 1, 1, 0, 0, 0];
  both.truncValue = [NaN, NaN, NaN, NaN, NaN, NaN];
  assert.deepEqual([...computeGae(both).advantages], [...term]);
  // Without the flag, t = 1 bootstraps from V_2 = 1.5 (the next row) and carries λ:
  // A_1 = (0 + 0.9 × 1.5 − 1.0) + 0.72 × 2.3 = 0.35 + 1.656 = 2.006.
  const none = rollout();
  none.truncated = [0, 0, 0, 0, 0, 0];
  assert.ok(Math.abs(computeGae(none).advantages[2] - 2.006) < 1e-6);
});

test('writes into caller-owned arrays and rejects bad inputs', () => {
  const out = { advantages: new Float32Array(6), returns: new Float32Array(6) };
  const res = computeGae(rollout(), out);
  assert.equal(res.advantages, out.advantages);
  assert.ok(Math.abs(out.returns[4] - 3.8) < 1e-6);
  assert.throws(() => computeGae({ ...rollout(), rewards: [1, 2, 3] }), /rewards has 3 elements, expected 6/);
  assert.throws(() => computeGae({ ...rollout(), values: [0.5, NaN, 1, 0.4, 1.5, 0.6] }), /values\[1\] is NaN/);
  assert.throws(() => computeGae({ ...rollout(), nextValue: [1] }), /nextValue has 1 elements, expected 2/);
  assert.throws(() => computeGae({ ...rollout(), gamma: 1.5 }), /gamma must be in \[0, 1\]/);
  assert.throws(() => computeGae({ ...rollout(), truncValue: [NaN, NaN, NaN, NaN, NaN, NaN] }), /truncValue\[2\] is NaN at a truncated transition \(step 1, env 0\)/);
  assert.throws(() => computeGae(rollout(), { advantages: new Float32Array(5), returns: new Float32Array(6) }), /T \* N = 6/);
});
