// CaRL's termination on an infraction: with terminateOnInfraction an object that falls off the table ends the episode
// as a true termination (terminated = 1, Φ(s') = 0, no time-limit flag), costed by the 'infraction' term 1 / (1 − γ)
// (T − t at γ = 1); off by default; the same with workers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEnv } from '../../index.ts';
import { MAX_REWARD_TERMS } from '../../engine/batch.ts';
import { PENALTY_TERM_INDEX, REWARD_TERM_NAMES } from '../../engine/shaping/stats.ts';

const INFRACTION = PENALTY_TERM_INDEX + 2;

/** Steps `steps` times with zero actions, then drops env 1's cube 30 cm below the table and steps once more. */
async function dropCube(terminateOnInfraction: boolean, numWorkers: number, gamma = 0.98, steps = 7) {
  const N = 3, env = await makeEnv('Push', { numEnvs: N, numWorkers, seed: 5, shaping: { mode: 'pbrs', gamma, weight: 20 }, terminateOnInfraction });
  try {
    const act = new Float32Array(N * 4);
    env.reset();
    for (let t = 0; t < steps; t++) env.step(act);
    const rows = env.getState([1]);
    const [po] = rows.layout.fields.bodyPose;
    rows.data[po + 7 + 2] -= 0.3; // body 1 (the cube): z
    env.setState(rows, [1]);
    const phiBefore = env.batch.potential[1];
    env.takeEpisodeStats();
    const r = env.step(act);
    const out = {
      terminated: [...r.terminated], truncated: [...r.truncated], done: [...env.batch.done], infractionCost: r.penalties[3 + 2],
      infractionTerm: r.rewardTerms[MAX_REWARD_TERMS + INFRACTION], pbrsTerm: r.rewardTerms[MAX_REWARD_TERMS + REWARD_TERM_NAMES.indexOf('pbrs')],
      phiBefore, episodeStep: [...env.batch.episodeStep], summary: env.takeEpisodeSummary(), finalLength: env.batch.finalEpisodeLength[1],
    };
    return out;
  } finally {
    await env.close();
  }
}

test('an object off the table ends the episode as a termination, costed 1 / (1 − γ), only with terminateOnInfraction', async () => {
  assert.equal(REWARD_TERM_NAMES[INFRACTION], 'infraction');
  assert.equal(REWARD_TERM_NAMES.length + 3, MAX_REWARD_TERMS, "three spare term slots");
  const on = await dropCube(true, 1);
  assert.deepEqual(on.terminated, [0, 1, 0]);
  assert.deepEqual(on.truncated, [0, 0, 0]);
  assert.deepEqual(on.done, [0, 1, 0]);
  // Terminated at step 8 of 50, γ = 0.98: the cost is the discounted return of failing forever, 1 / 0.02 = 50 (the
  // learner bootstraps the time limit, so the 42 steps left would undercharge it).
  assert.equal(on.finalLength, 8);
  assert.equal(on.infractionCost, 1 / (1 - 0.98));
  assert.equal(on.infractionTerm, Math.fround(-1 / (1 - 0.98)));
  // PBRS with Φ(s') = 0 at a termination: F = −Φ(s).
  assert.ok(on.phiBefore > 0);
  assert.equal(on.pbrsTerm, Math.fround(-on.phiBefore));
  // Autoreset: env 1 starts its next episode; the finished one is counted with its infraction term.
  assert.deepEqual(on.episodeStep, [8, 0, 8]);
  assert.equal(on.summary.episodes, 1);
  assert.equal(on.summary.successRate, 0);
  assert.equal(on.summary.meanTerms.infraction, Math.fround(-1 / (1 - 0.98)));
  // Undiscounted (γ = 1), the steps left: 42.
  const flat = await dropCube(true, 1, 1);
  assert.deepEqual([flat.infractionCost, flat.infractionTerm], [42, -42]);
  assert.equal(on.summary.meanReturn, -8);
  const off = await dropCube(false, 1);
  assert.deepEqual(off.terminated, [0, 0, 0]);
  assert.deepEqual(off.done, [0, 0, 0]);
  assert.equal(off.infractionCost, 0);
  assert.equal(off.infractionTerm, 0);
  assert.deepEqual(off.episodeStep, [8, 8, 8]);
  // Workers run the same slice code on the shared batch.
  const workers = await dropCube(true, 2);
  assert.deepEqual({ ...workers, summary: null }, { ...on, summary: null });
  await assert.rejects(makeEnv('Push', { terminateOnInfraction: 'yes' as never }), /terminateOnInfraction must be a boolean/);
  // Per-step shaping costs would make ending early pay: refused at creation and at a mode change.
  await assert.rejects(makeEnv('Push', { terminateOnInfraction: true, shaping: { mode: 'dense' } }), /makeEnv: terminateOnInfraction goes with the sparse, pbrs, bonus or progress shaping modes, not 'dense'/);
  const env = await makeEnv('Push', { terminateOnInfraction: true, shaping: { mode: 'bonus' }, penalties: { bound: 1 } });
  try {
    assert.equal(env.terminateOnInfraction, true);
    assert.throws(() => env.setShaping({ mode: 'gated' }), /setShaping: terminateOnInfraction goes with .* not 'gated'/);
    env.setShaping({ mode: 'pbrs' });
    env.reset();
    env.step(new Float32Array(4).fill(3));
    assert.ok(env.batch.penalties[1] > 0);
    assert.deepEqual([...env.reset().penalties], [0, 0, 0], 'a reset clears the last step\'s penalties');
  } finally {
    await env.close();
  }
});
