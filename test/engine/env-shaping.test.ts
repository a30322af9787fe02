import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEnv } from '../../index.ts';
import { MAX_REWARD_TERMS } from '../../engine/batch.ts';
import { mulberry32 } from '../../engine/rng.ts';
import { REWARD_TERM_NAMES, type EpisodeStats, type ShapingMode } from '../../engine/shaping/index.ts';
import { ScriptedPush, ScriptedReach } from '../../tasks/scripted.ts';

/**
 * Runs Push (8 envs, seed 5) for 120 steps of fixed pseudo-random actions (the scripted push plus uniform noise
 * of ±0, ±0.3, ±0.6 by env, and uniform actions for every fourth env, so that episodes end in every stage, with
 * and without success) and recounts the finished
 * episodes from the step results alone: per env, reward, shapedReward and rewardTerms summed in f32 (as the
 * accumulators are) between dones, added in f64 at each done in env order (as the env does). The stage at an
 * episode's last state is not in the results (stage then belongs to the next episode's first obs), but the
 * bonus term counts the stages a transition completed, so it is the previous stage + bonus / b; the recount
 * takes the max of every stage seen. Returns the env's takeEpisodeStats(), the recount, and a second take.
 */
async function statsAndRecount(mode: ShapingMode) {
  const N = 8, T = MAX_REWARD_TERMS;
  const env = await makeEnv('Push', { numEnvs: N, seed: 5, shaping: { mode, gamma: 0.98, weight: 1 } });
  const b = env.shaping.bonus ?? env.shaping.weight;
  const rand = mulberry32(77), act = new Float32Array(N * 4), ctl = new ScriptedPush(N);
  let r = env.reset();
  const ret = new Float32Array(N), shaped = new Float32Array(N), terms = new Float32Array(N * T);
  const stage = Int32Array.from(r.stage), maxStage = Int32Array.from(r.stage);
  const want: EpisodeStats = {
    count: 0, successCount: 0, sumReturn: 0, sumShapedReturn: 0,
    termSums: Object.fromEntries(REWARD_TERM_NAMES.map((n) => [n, 0])) as EpisodeStats["termSums"], maxStageCounts: new Array(env.stageNames.length + 1).fill(0),
    sumLength: 0,
  };
  const length = new Int32Array(N);
  for (let t = 0; t < 120; t++) {
    ctl.act(r.obs, r.desiredGoal, env.batch.episodeStep, act);
    for (let j = 0; j < act.length; j++) {
      const i = j >> 2, u = 2 * rand() - 1;
      act[j] = i % 4 === 3 ? u : act[j] + 0.3 * (i % 4) * u;
    }
    r = env.step(act);
    for (let i = 0; i < N; i++) {
      length[i]++;
      ret[i] += r.reward[i];
      shaped[i] += r.shapedReward[i];
      for (let j = 0; j < T; j++) terms[i * T + j] += r.rewardTerms[i * T + j];
      const reached = stage[i] + r.rewardTerms[i * T + 3] / b;
      assert.ok(Number.isInteger(reached), `stage ${reached}`);
      maxStage[i] = Math.max(maxStage[i], reached);
      if (!(r.terminated[i] || r.truncated[i])) {
        assert.equal(r.stage[i], reached, 'stage = previous stage + stages completed');
        stage[i] = r.stage[i];
        continue;
      }
      want.count++;
      want.successCount += r.success[i];
      want.sumReturn += ret[i];
      want.sumShapedReturn += shaped[i];
      REWARD_TERM_NAMES.forEach((n, j) => (want.termSums[n] += terms[i * T + j]));
      want.maxStageCounts[maxStage[i]]++;
      want.sumLength += length[i];
      length[i] = 0;
      ret[i] = 0;
      shaped[i] = 0;
      terms.fill(0, i * T, i * T + T);
      stage[i] = maxStage[i] = r.stage[i]; // the next episode's first state
    }
  }
  const got = env.takeEpisodeStats(), again = env.takeEpisodeStats();
  await env.close();
  return { got, want, again };
}

describe('shaping in the env', () => {
  it('sparse mode hands the learner the task reward', async () => {
    const env = await makeEnv('Push', { numEnvs: 8, seed: 1 });
    assert.equal(env.shaping.mode, 'sparse');
    let r = env.reset();
    const ctl = new ScriptedPush(8), act = new Float32Array(32);
    for (let t = 0; t < 60; t++) {
      ctl.act(r.obs, r.desiredGoal, env.batch.episodeStep, act);
      r = env.step(act);
      assert.deepEqual(r.shapedReward, r.reward);
    }
    await env.close();
  });

  it('pbrs adds F = γΦ(s′) − Φ(s), switchable at run time, and the scripted push climbs the stages', async () => {
    const N = 16, gamma = 0.98;
    const env = await makeEnv('Push', { numEnvs: N, seed: 2, shaping: { mode: 'pbrs', gamma, weight: 1 } });
    assert.deepEqual(env.stageNames, ['behind-object', 'object-at-goal']);
    let r = env.reset();
    const ctl = new ScriptedPush(N), act = new Float32Array(N * 4);
    let checked = 0, sawStage2 = false;
    for (let t = 0; t < 49; t++) {
      const before = r.potential.slice();
      ctl.act(r.obs, r.desiredGoal, env.batch.episodeStep, act);
      r = env.step(act);
      for (let i = 0; i < N; i++) {
        // Φ lies in [0, w·K] = [0, 2]; F = γΦ(s') − Φ(s) up to f32 rounding of the stored potentials.
        assert.ok(r.potential[i] >= 0 && r.potential[i] <= 2);
        assert.ok(Math.abs(r.shapedReward[i] - r.reward[i] - (gamma * r.potential[i] - before[i])) < 1e-5);
        assert.ok(Math.abs(r.rewardTerms[i * MAX_REWARD_TERMS + 2] - (gamma * r.potential[i] - before[i])) < 1e-5);
        assert.equal(r.rewardTerms[i * MAX_REWARD_TERMS], r.reward[i]);
        if (r.stage[i] === 2) sawStage2 = true;
        checked++;
      }
    }
    assert.ok(sawStage2, 'some env reached the last stage');
    assert.equal(checked, 49 * N);
    env.setShaping({ mode: 'dense' });
    assert.equal(env.shaping.mode, 'dense');
    assert.equal(env.shaping.gamma, gamma, 'fields not given keep their value');
    r = env.step(act);
    for (let i = 0; i < N; i++) assert.ok(Math.abs(r.shapedReward[i] - (r.reward[i] + r.rewardTerms[i * MAX_REWARD_TERMS + 1])) < 1e-6);
    assert.throws(() => env.setShaping({ mode: 'magic' as never }), /mode/);
    await env.close();
  });

  it('accepts another subgoal spec and rejects a bad one naming the field', async () => {
    const spec = { stages: [{ name: 'near', predicate: { kind: 'distance', a: 'grip', b: 'goal', below: 0.1 }, progress: { a: 'grip', b: 'goal', sigma: 0.2 } }] };
    const env = await makeEnv('Reach', { numEnvs: 2, subgoals: spec, shaping: { mode: 'pbrs' } });
    assert.deepEqual(env.stageNames, ['near']);
    assert.equal(env.subgoals.stages[0].predicate.kind, 'distance');
    await env.close();
    const bad = { stages: [{ name: 'near', predicate: { kind: 'distance', a: 'grip', b: 'gaol', below: 0.1 }, progress: { a: 'grip', b: 'goal', sigma: 0.2 } }] };
    await assert.rejects(makeEnv('Reach', { subgoals: bad }), /stages\[0\]\.predicate\.b.*gaol/);
    await assert.rejects(makeEnv('Reach', { subgoals: { stages: [] } }), /stages/);
  });

  it('takeEpisodeStats() equals a recount from the step results, in modes pbrs and sparse', async () => {
    const pbrs = await statsAndRecount('pbrs');
    // Push truncates at 50 steps: 8 envs × 2 episodes in 120 steps.
    assert.equal(pbrs.want.count, 16);
    assert.deepEqual(pbrs.got, pbrs.want); // numbers compared with Object.is: bit for bit
    // The run covers what the recount checks: successes and failures, every maxStage, every term.
    const w = pbrs.want;
    assert.ok(w.successCount > 0 && w.successCount < w.count, `${w.successCount} successes`);
    assert.ok(w.maxStageCounts.every((c) => c > 0), `maxStageCounts ${w.maxStageCounts}`);
    assert.ok(w.termSums.pbrs !== 0 && w.termSums.dense < 0 && w.termSums.bonus > 0 && w.termSums.gated < 0, 'shaping terms were summed');
    assert.equal(pbrs.again.count, 0, 'take cleared the statistics');
    assert.deepEqual(pbrs.again.maxStageCounts, [0, 0, 0]);
    const sparse = await statsAndRecount('sparse');
    assert.deepEqual(sparse.got, sparse.want);
    // The mode changes only the shaped reward: the same trajectories, the same terms, and shaped = sparse.
    assert.equal(sparse.got.sumShapedReturn, sparse.got.sumReturn);
    assert.deepEqual({ ...sparse.got, sumShapedReturn: 0 }, { ...pbrs.got, sumShapedReturn: 0 });
    assert.notEqual(pbrs.got.sumShapedReturn, pbrs.got.sumReturn);
  });

  it('gives the same shaping outputs with 1 and 2 workers (Reach has no contacts, so physics agrees too)', async () => {
    const run = async (numWorkers: number) => {
      const N = 10;
      const env = await makeEnv('Reach', { numEnvs: N, seed: 4, numWorkers, shaping: { mode: 'gated', gamma: 0.99 } });
      let r = env.reset();
      const ctl = new ScriptedReach(N), act = new Float32Array(N * 4);
      const trace: number[] = [];
      for (let t = 0; t < 70; t++) {
        ctl.act(r.obs, r.desiredGoal, env.batch.episodeStep, act);
        for (let i = 0; i < N; i++) act[4 * i] *= i % 3 === 0 ? -1 : 1;
        r = env.step(act);
        trace.push(...r.shapedReward, ...r.stage, ...r.potential);
      }
      const summary = env.takeEpisodeSummary();
      await env.close();
      return { trace, summary };
    };
    const one = await run(1), two = await run(2);
    assert.deepEqual(two.trace, one.trace);
    assert.deepEqual(two.summary, one.summary);
    assert.equal(one.summary.episodes, 10);
  });
});
