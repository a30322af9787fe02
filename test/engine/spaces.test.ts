import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listTasks, makeEnv } from '../../index.ts';

describe('spaces and spec', () => {
  for (const name of listTasks()) {
    it(`${name}: the spaces match what reset and step return, and the observation's fields tile it`, async () => {
      const env = await makeEnv(name, { numEnvs: 3, seed: 2 });
      try {
        const { observation, achieved_goal, desired_goal } = env.observationSpace.spaces;
        const r = env.reset({ seed: 2 });
        assert.equal(r.obs.length, 3 * observation.shape[0]);
        assert.equal(r.achievedGoal.length, 3 * achieved_goal.shape[0]);
        assert.equal(r.desiredGoal.length, 3 * desired_goal.shape[0]);
        assert.deepEqual(env.actionSpace, { kind: 'box', shape: [env.actDim], dtype: 'float32', low: -1, high: 1 });
        let at = 0;
        for (const [field, lo, hi] of observation.fields!) {
          assert.equal(lo, at, `${field} starts where the previous field ends`);
          assert.ok(hi > lo);
          at = hi;
        }
        assert.equal(at, env.obsDim);
        assert.deepEqual(env.spec, { id: name, maxEpisodeSteps: name === 'Stack' ? 100 : 50, rewardThreshold: 0, distanceThreshold: env.task.distanceThreshold, autoresetMode: 'same-step' });
        // An episode is spec.maxEpisodeSteps steps: the last one truncates.
        const a = new Float32Array(3 * env.actDim);
        for (let t = 1; t < env.spec.maxEpisodeSteps; t++) assert.equal(env.step(a).truncated[0], 0);
        assert.equal(env.step(a).truncated[0], 1);
      } finally {
        await env.close();
      }
    });
  }
});
