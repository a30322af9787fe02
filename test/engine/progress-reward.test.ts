// Shaping mode 'progress' (CaRL): only progress beyond the episode's best pays, the action and bound penalties multiply
// it (e^{−cost}) instead of being subtracted, and the episode's best progress is part of the state block.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEnv } from '../../index.ts';
import { MAX_REWARD_TERMS } from '../../engine/batch.ts';
import { multiplyPenalties } from '../../engine/penalties.ts';
import { REWARD_TERM_NAMES } from '../../engine/shaping/stats.ts';
import { ScriptedPush } from '../../tasks/scripted.ts';
import { mulberry32 } from '../../engine/rng.ts';

const T = MAX_REWARD_TERMS, PROGRESS = REWARD_TERM_NAMES.indexOf('progress'), ACTION = REWARD_TERM_NAMES.indexOf('action');

test('multiplyPenalties: the shares of p that e^{−action} and e^{−bound} remove, worked by hand', () => {
  const pen = new Float64Array([Math.LN2, Math.log(4), 7, 0, 0, 0]);
  multiplyPenalties(pen, 0, 2);
  // keep e^{−ln 2} = 1/2 of 2 → the action takes 1; then keep 1/4 of the remaining 1 → the bound takes 0.75; p · ½ · ¼ = 0.25 is left.
  assert.ok(Math.abs(pen[0] - 1) < 1e-15 && Math.abs(pen[1] - 0.75) < 1e-15, `${pen[0]} ${pen[1]}`);
  assert.equal(pen[2], 7, 'the infraction column is left alone');
  multiplyPenalties(pen, 1, 0);
  assert.deepEqual([pen[3], pen[4]], [0, 0], 'no progress, nothing to take');
});

test('progress mode: only new best progress pays, penalties multiply it, and the episode sums telescope to w · (best P − P0)', async () => {
  for (const numWorkers of [1, 2]) {
    const N = 16, w = 1.5, A = 4;
    const env = await makeEnv('Push', { numEnvs: N, numWorkers, seed: 4, shaping: { mode: 'progress', weight: w }, penalties: { action: 0.3, bound: 2 } });
    try {
      let r = env.reset();
      const b = env.batch, ctl = new ScriptedPush(N), act = new Float32Array(N * A), rand = mulberry32(11);
      const start = Float64Array.from(b.bestProgress), sum = new Float64Array(N);
      let paid = 0, penalized = 0, episodes = 0;
      for (let t = 0; t < 2 * env.task.maxEpisodeSteps; t++) {
        const best = Float64Array.from(b.bestProgress);
        ctl.act(r.obs, r.desiredGoal, b.episodeStep, act);
        // The scripted push, jittered and sometimes past the clip, so that both penalties cost something.
        for (let k = 0; k < act.length; k++) act[k] = act[k] * 1.3 + 0.4 * (rand() - 0.5);
        r = env.step(act);
        for (let i = 0; i < N; i++) {
          let a2 = 0, ex = 0;
          for (let j = 0; j < A; j++) { const x = act[i * A + j]; a2 += x * x; ex += Math.max(Math.abs(x) - 1, 0) ** 2; }
          const p = r.rewardTerms[i * T + PROGRESS];
          assert.ok(p >= 0, `env ${i} step ${t}: progress ${p} < 0`);
          assert.equal(r.shapedReward[i], Math.fround(r.reward[i] + p), 'shaped = reward + progress');
          // The learner's reward: reward + p · e^{−0.3 Σa²} · e^{−2 Σ excess²} (the penalties as shares of p).
          const learner = r.shapedReward[i] - r.penalties[3 * i] - r.penalties[3 * i + 1] - r.penalties[3 * i + 2];
          const want = r.shapedReward[i] - p + p * Math.exp(-0.3 * a2) * Math.exp(-2 * ex);
          assert.ok(Math.abs(learner - want) < 1e-12, `env ${i} step ${t}: learner reward ${learner} vs ${want}`);
          assert.equal(r.rewardTerms[i * T + ACTION], Math.fround(0 - r.penalties[3 * i]));
          if (p > 0) paid++;
          if (p > 0 && r.penalties[3 * i] > 0) penalized++;
          sum[i] += p;
          if (r.terminated[i] || r.truncated[i]) {
            // The episode's progress terms add up to w · (its best P − its P0): no back-and-forth pays twice.
            const last = env.stateLayout.fields.bestProgress[0];
            const bestEnd = b.finalState[i * env.stateLayout.rowWidth + last];
            assert.ok(Math.abs(sum[i] - w * (bestEnd - start[i])) < 1e-4, `env ${i}: Σ progress ${sum[i]} vs w · (${bestEnd} − ${start[i]})`);
            assert.ok(bestEnd >= best[i], 'the best never falls inside an episode');
            start[i] = b.bestProgress[i];
            sum[i] = 0;
            episodes++;
          } else {
            // P(s') is Φ(s') / w; the best is the running maximum and the term is what it rose by.
            const P = b.potential[i] / w;
            assert.ok(Math.abs(b.bestProgress[i] - Math.max(best[i], P)) < 1e-5, `env ${i} step ${t}: best ${b.bestProgress[i]}`);
            assert.ok(Math.abs(p - w * Math.max(P - best[i], 0)) < 1e-5, `env ${i} step ${t}: progress ${p}`);
          }
        }
      }
      assert.equal(episodes, 2 * N);
      assert.ok(paid > 100 && penalized > 50, `progress paid ${paid} times, ${penalized} of them with an action cost`);
      assert.ok(env.takeEpisodeSummary().stageReached[0] > 0.5, 'the scripted push climbed the stages');
    } finally {
      await env.close();
    }
  }
});

test('the best progress is part of the state: a restored env pays only beyond the best of its row', async () => {
  const env = await makeEnv('Push', { numEnvs: 2, seed: 6, shaping: { mode: 'progress', weight: 1 } });
  try {
    env.reset();
    const rows = env.getState([0]);
    const at = rows.layout.fields.bestProgress[0];
    assert.ok(rows.data[at] > 0, 'reset wrote P(s0)');
    // Claim the episode already reached progress 2 (the whole Push spec): no step of the same state can pay.
    rows.data[at] = 2;
    env.setState(rows, [1]);
    const r = env.step(new Float32Array(8).fill(0.2));
    assert.equal(r.rewardTerms[T + PROGRESS], 0);
    assert.ok(r.rewardTerms[PROGRESS] >= 0);
    assert.equal(env.batch.bestProgress[1], 2);
    rows.data[at] = 2.5;
    assert.throws(() => env.setState(rows, [0]), /bestProgress 2\.5, expected a number in \[0, 2\]/);
  } finally {
    await env.close();
  }
});
