// The action penalties are reward terms of the env: costed from the raw actions in f64 (batch.penalties), logged in
// rewardTerms as 'action' and 'bound' (the infraction column stays 0 without terminateOnInfraction), summed per episode
// like the shaping terms, the same with workers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEnv } from '../../index.ts';
import { MAX_REWARD_TERMS } from '../../engine/batch.ts';
import { costActions } from '../../engine/penalties.ts';
import { PENALTY_TERM_INDEX, REWARD_TERM_NAMES } from '../../engine/shaping/stats.ts';

test('costActions: Σ a² times c_action and Σ max(|a| − 1, 0)² times c_bound, per env, worked by hand', () => {
  const out = new Float64Array(6).fill(NaN);
  costActions([1.5, -0.5, 0, 2, 0.1, -0.2, 0.3, -1], 2, 4, { action: 0.25, bound: 3 }, out);
  // env 0: 0.25 (2.25 + 0.25 + 0 + 4) = 1.625; 3 (0.25 + 1) = 3.75. env 1: 0.25 (0.01 + 0.04 + 0.09 + 1) = 0.285; 0.
  // The third column (the infraction's, the slice's to write) is left alone.
  assert.deepEqual([...out].map((v) => +v.toFixed(12)), [1.625, 3.75, NaN, 0.285, 0, NaN]);
  costActions([5, 5, 5, 5], 1, 4, { action: 0, bound: 0 }, out);
  assert.deepEqual([...out.subarray(0, 2)], [0, 0]);
});

test('penalties are logged as reward terms and summed per episode, with or without workers', async () => {
  assert.deepEqual(REWARD_TERM_NAMES.slice(PENALTY_TERM_INDEX), ['action', 'bound', 'infraction']);
  for (const numWorkers of [1, 2]) {
    const N = 4, A = 4, T = MAX_REWARD_TERMS;
    const env = await makeEnv('Reach', { numEnvs: N, numWorkers, seed: 2, shaping: { mode: 'pbrs' }, penalties: { action: 0.5 } });
    try {
      assert.deepEqual(env.penalties, { action: 0.5, bound: 0 });
      env.setPenalties({ bound: 2 });
      assert.deepEqual(env.penalties, { action: 0.5, bound: 2 });
      assert.throws(() => env.setPenalties({ bound: -1 }), /penalties\.bound must be a number in \[0, 1000000\], got -1/);
      assert.throws(() => env.setPenalties({ jerk: 1 } as never), /unknown term 'jerk'/);
      env.reset();
      const act = new Float32Array(N * A);
      const want = { action: 0, bound: 0 };
      let episodes = 0;
      for (let t = 0; t < env.task.maxEpisodeSteps; t++) {
        for (let k = 0; k < act.length; k++) act[k] = 1.6 * Math.sin(0.7 * k + 1.3 * t);
        const r = env.step(act);
        for (let i = 0; i < N; i++) {
          let a2 = 0, ex = 0;
          for (let j = 0; j < A; j++) { const x = act[i * A + j]; a2 += x * x; ex += Math.max(Math.abs(x) - 1, 0) ** 2; }
          assert.equal(r.penalties[3 * i], 0.5 * a2, `env ${i} step ${t}: action cost`);
          assert.equal(r.penalties[3 * i + 1], 2 * ex, `env ${i} step ${t}: bound cost`);
          assert.equal(r.penalties[3 * i + 2], 0, `env ${i} step ${t}: no infraction`);
          assert.equal(r.rewardTerms[i * T + PENALTY_TERM_INDEX], Math.fround(-0.5 * a2));
          assert.equal(r.rewardTerms[i * T + PENALTY_TERM_INDEX + 1], Math.fround(-2 * ex));
          want.action -= Math.fround(0.5 * a2);
          want.bound -= Math.fround(2 * ex);
          if (r.truncated[i]) episodes++;
        }
      }
      // Every episode ended at the time limit of the same step: the means of the logged sums are the per-step costs' sums / N.
      const s = env.takeEpisodeSummary();
      assert.equal(s.episodes, episodes);
      assert.equal(episodes, N);
      assert.ok(Math.abs(s.meanTerms.action - want.action / N) < 1e-3 * Math.abs(want.action / N), `action ${s.meanTerms.action} vs ${want.action / N}`);
      assert.ok(Math.abs(s.meanTerms.bound - want.bound / N) < 1e-3 * Math.abs(want.bound / N), `bound ${s.meanTerms.bound} vs ${want.bound / N}`);
      assert.ok(s.meanTerms.bound < -1, 'the bound term was costed');
    } finally {
      await env.close();
    }
  }
});
