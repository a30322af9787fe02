import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getTask, listTasks, makeEnv } from '../../index.ts';
import { EpisodeRng } from '../../engine/rng.ts';
import { INITIAL_GRIP } from '../../engine/physics/fetch-scene.ts';

describe('every registered task', () => {
  for (const name of listTasks()) {
    it(`${name}: reset, zero action, shapes, no NaN`, async () => {
      const N = 5;
      const env = await makeEnv(name, { numEnvs: N, seed: 1 });
      const task = getTask(name);
      assert.equal(env.obsDim, task.obsDim);
      assert.equal(env.actDim, 4);
      assert.equal(env.goalDim, task.goalDim);
      assert.equal(task.obsLayout[task.obsLayout.length - 1][2], task.obsDim, 'the documented layout covers obs');
      let r = env.reset();
      for (let t = 0; t < 60; t++) r = env.step(new Float32Array(N * env.actDim));
      assert.equal(r.obs.length, N * env.obsDim);
      assert.equal(r.finalObs.length, N * env.obsDim);
      assert.equal(r.achievedGoal.length, N * task.goalDim);
      assert.equal(r.desiredGoal.length, N * task.goalDim);
      for (const v of [r.reward, r.terminated, r.truncated, r.success]) assert.equal(v.length, N);
      for (const v of [r.obs, r.finalObs, r.achievedGoal, r.desiredGoal, r.reward]) assert.ok(v.every(Number.isFinite));
      await env.close();
    });
  }
});

describe('episode sampling', () => {
  it('Push puts the cube 0.1-0.212 m from the gripper and the goal within 0.15 m, on the table', () => {
    const push = getTask('Push');
    const out = { tableTop: 0.4, objectHalfHeight: new Float64Array([0.025]), objects: new Float64Array(3), goal: new Float64Array(3) };
    const rng = new EpisodeRng(0, 0, 0);
    for (let e = 0; e < 500; e++) {
      rng.reset(9, e, 0);
      push.sampleEpisode(rng, out);
      const d = Math.hypot(out.objects[0] - INITIAL_GRIP[0], out.objects[1] - INITIAL_GRIP[1]);
      assert.ok(d >= 0.1 && d <= 0.15 * Math.SQRT2, `cube at ${d} m`);
      for (let k = 0; k < 2; k++) assert.ok(Math.abs(out.goal[k] - INITIAL_GRIP[k]) <= 0.15);
      // Table top 0.40 m + cube half-size 0.025 m.
      assert.ok(Math.abs(out.goal[2] - 0.425) < 1e-12);
      assert.ok(Math.abs(out.objects[2] - 0.425) < 1e-12);
    }
  });

  it('Reach goals lie within 0.15 m of the start on every axis', () => {
    const reach = getTask('reach');
    const out = { tableTop: 0.4, objectHalfHeight: new Float64Array([0.025]), objects: new Float64Array(3), goal: new Float64Array(3) };
    const rng = new EpisodeRng(0, 0, 0);
    let spread = 0;
    for (let e = 0; e < 500; e++) {
      rng.reset(1, e, 0);
      reach.sampleEpisode(rng, out);
      for (let k = 0; k < 3; k++) {
        assert.ok(Math.abs(out.goal[k] - INITIAL_GRIP[k]) <= 0.15);
        spread = Math.max(spread, Math.abs(out.goal[k] - INITIAL_GRIP[k]));
      }
    }
    assert.ok(spread > 0.14, 'samples cover the range');
  });

  it('the scripted push moves the cube to the goal (physics fidelity smoke)', async () => {
    const { ScriptedPush } = await import('../../tasks/scripted.ts');
    const N = 32;
    const env = await makeEnv('Push', { numEnvs: N, seed: 123 });
    const ctl = new ScriptedPush(N);
    const act = new Float32Array(N * 4);
    let r = env.reset();
    let successes = 0;
    for (let t = 0; t < 50; t++) {
      ctl.act(r.obs, r.desiredGoal, env.batch.episodeStep, act);
      r = env.step(act);
    }
    for (let i = 0; i < N; i++) successes += r.success[i];
    // The benchmark gets ~96% over 2048 episodes; 32 episodes at that rate fall under 26 with tiny probability.
    assert.ok(successes >= 26, `${successes}/${N} pushes succeeded`);
    await env.close();
  });
});
