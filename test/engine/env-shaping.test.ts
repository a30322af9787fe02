import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEnv } from '../../index.ts';
import { ScriptedPush, ScriptedReach } from '../../tasks/scripted.ts';

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
        assert.ok(Math.abs(r.rewardTerms[i * 8 + 2] - (gamma * r.potential[i] - before[i])) < 1e-5);
        assert.equal(r.rewardTerms[i * 8], r.reward[i]);
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
    for (let i = 0; i < N; i++) assert.ok(Math.abs(r.shapedReward[i] - (r.reward[i] + r.rewardTerms[i * 8 + 1])) < 1e-6);
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
