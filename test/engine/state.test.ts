import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEnv, type VecEnv } from '../../index.ts';
import { MAX_REWARD_TERMS } from '../../engine/batch.ts';
import { counterUniform } from '../../engine/rng.ts';
import { REWARD_TERM_NAMES } from '../../engine/shaping/index.ts';

/** Seeded actions in [-1, 1] for env j at step t (env j plays env from(j)'s actions). */
function actions(env: VecEnv, t: number, from: (j: number) => number = (j) => j): Float32Array {
  const A = env.actDim, out = new Float32Array(env.numEnvs * A);
  for (let j = 0; j < env.numEnvs; j++) for (let k = 0; k < A; k++) out[j * A + k] = 2 * counterUniform(21, from(j) * A + k, t, 0) - 1;
  return out;
}

/** Copies of the views that describe env g's returned state. */
function viewOf(env: VecEnv, g: number) {
  const b = env.batch, O = env.obsDim, G = env.goalDim, P = env.batch.layout.widths.points;
  return {
    obs: b.obs.slice(g * O, g * O + O), achievedGoal: b.achievedGoal.slice(g * G, g * G + G), desiredGoal: b.desiredGoal.slice(g * G, g * G + G),
    points: b.points.slice(g * P, g * P + P), stage: b.stage[g], potential: b.potential[g], episodeStep: b.episodeStep[g], gripperOpening: b.gripperOpening[g],
  };
}

const PBRS = REWARD_TERM_NAMES.indexOf('pbrs');

describe('getState / setState', () => {
  it('round-trips every env: the same obs, goal, points, stage and Φ, and the next F starts from the restored Φ', async () => {
    const env = await makeEnv('PickAndPlace', { numEnvs: 6, seed: 4, shaping: { mode: 'pbrs', gamma: 0.97 } });
    env.reset();
    for (let t = 0; t < 12; t++) env.step(actions(env, t));
    const snap = env.getState();
    assert.equal(snap.data.length, 6 * env.stateLayout.rowWidth);
    const before = Array.from({ length: 6 }, (_, g) => viewOf(env, g));
    for (let t = 12; t < 20; t++) env.step(actions(env, t));
    assert.notDeepEqual(viewOf(env, 0).obs, before[0].obs, 'the envs moved on');
    env.setState(snap);
    for (let g = 0; g < 6; g++) assert.deepEqual(viewOf(env, g), before[g], `env ${g} after restore`);
    assert.deepEqual(env.getState().data, snap.data, 'getState after setState gives the same rows');
    const phi0 = env.batch.potential.slice();
    env.step(actions(env, 12));
    for (let g = 0; g < 6; g++) {
      const f = env.batch.rewardTerms[g * MAX_REWARD_TERMS + PBRS];
      assert.equal(f, Math.fround(0.97 * env.batch.potential[g] - phi0[g]), `F of env ${g} uses the restored Φ`);
      assert.equal(env.batch.episodeStep[g], 13);
    }
    await env.close();
  });

  it('replays an episode bit for bit when its start is restored into the env it came from', async () => {
    const env = await makeEnv('Push', { numEnvs: 5, seed: 9 });
    env.reset();
    const start = env.getState();
    const trace: Float32Array[] = [];
    for (let t = 0; t < 30; t++) { env.step(actions(env, t)); trace.push(env.batch.obs.slice()); }
    env.setState(start);
    for (let t = 0; t < 30; t++) { env.step(actions(env, t)); assert.deepEqual(env.batch.obs, trace[t], `obs at step ${t}`); }
    await env.close();
  });

  it('restores env i into env j with the same obs, and the trajectories stay within the documented drift', async () => {
    const N = 8, env = await makeEnv('Push', { numEnvs: N, seed: 2, shaping: { mode: 'pbrs' } });
    env.reset();
    const start = env.getState();
    const trace: Float32Array[] = [];
    for (let t = 0; t < 25; t++) { env.step(actions(env, t)); trace.push(env.getState().data); }
    // Env j takes env (j + 3) mod N's start and plays its actions.
    const from = (j: number) => (j + 3) % N, W = env.stateLayout.rowWidth, [po] = env.stateLayout.fields.bodyPose;
    env.setState(start.data.subarray(0, W * 3), [5, 6, 7]);
    env.setState(start.data.subarray(W * 3), [0, 1, 2, 3, 4]);
    for (let j = 0; j < N; j++) assert.deepEqual(env.getState([j]).data, start.data.slice(from(j) * W, from(j) * W + W));
    const errs: number[] = [];
    for (let t = 0; t < 25; t++) {
      env.step(actions(env, t, from));
      const d = env.getState().data;
      for (let j = 0; j < N; j++) for (let k = 0; k < 14; k++) if (k % 7 < 3) errs.push(Math.abs(d[j * W + po + k] - trace[t][from(j) * W + po + k]));
    }
    errs.sort((a, b) => a - b);
    assert.ok(errs[errs.length >> 1] < 1e-4, `median position error ${errs[errs.length >> 1]} m`);
    await env.close();
  });

  it('restores across worker threads: a row from worker 0 continues in worker 1 as it did in worker 0', async () => {
    const env = await makeEnv('PickAndPlace', { numEnvs: 6, seed: 8, numWorkers: 2 });
    env.reset();
    for (let t = 0; t < 6; t++) env.step(actions(env, t));
    // Row of env 1 (worker 0) into env 4 (worker 1), and back into env 1; env 4 plays env 1's actions.
    const row = env.getState([1]);
    const before = viewOf(env, 1);
    env.setState(row, [4]);
    env.setState(row, [1]);
    assert.deepEqual(viewOf(env, 4), { ...before }, 'env 4 returns env 1\'s state');
    const from = (j: number) => (j === 4 ? 1 : j), [po] = env.stateLayout.fields.bodyPose;
    let worst = 0;
    for (let t = 6; t < 20; t++) {
      env.step(actions(env, t, from));
      const a = env.getState([1]).data, b = env.getState([4]).data;
      for (let k = 0; k < 21; k++) if (k % 7 < 3) worst = Math.max(worst, Math.abs(a[po + k] - b[po + k]));
    }
    assert.ok(worst < 0.01, `env 4 drifted ${worst} m from env 1`);
    await env.close();
  });

  it('writes the last state of a finished episode into finalState, as a row that matches finalObs', async () => {
    const env = await makeEnv('Push', { numEnvs: 3, seed: 12 });
    env.reset();
    for (let t = 0; t < 50; t++) env.step(actions(env, t));
    const b = env.batch, L = env.stateLayout, W = L.rowWidth, [po] = L.fields.bodyPose, [go] = L.fields.desiredGoal;
    for (let g = 0; g < 3; g++) {
      assert.equal(b.done[g], 1);
      const row = b.finalState.subarray(g * W, g * W + W);
      assert.equal(row[L.fields.episodeStep[0]], 50);
      for (let k = 0; k < 3; k++) {
        assert.equal(row[po + k], b.finalObs[g * 25 + k], 'grip position');
        assert.equal(row[po + 7 + k], b.finalObs[g * 25 + 3 + k], 'object position');
        assert.equal(row[go + k], b.finalDesiredGoal[g * 3 + k], 'goal');
      }
      assert.equal(env.getState([g]).data[L.fields.episodeStep[0]], 0, 'the block holds the next episode');
    }
    await env.close();
  });

  it('keeps domain-randomized scene parameters with the state', async () => {
    const dr = { objectMass: [0.5, 3] as [number, number], tableHeight: [-0.03, 0.03] as [number, number] };
    const env = await makeEnv('Push', { numEnvs: 4, seed: 1, domainRandomization: dr });
    env.reset();
    const [so, sw] = env.stateLayout.fields.sceneParams;
    const snap = env.getState();
    for (let t = 0; t < 50; t++) env.step(actions(env, t)); // a new episode draws new parameters
    const W = env.stateLayout.rowWidth;
    assert.notDeepEqual(env.getState([0]).data.subarray(so, so + sw), snap.data.subarray(so, so + sw));
    env.setState(snap);
    assert.deepEqual(env.getState().data, snap.data);
    assert.equal(env.getState([2]).data.length, W);
    await env.close();
  });

  it('refuses bad rows and ids with a message naming the problem, and changes no env', async () => {
    const env = await makeEnv('Push', { numEnvs: 3, seed: 6 });
    assert.throws(() => env.getState(), /getState: call reset\(\) first/);
    env.reset();
    const snap = env.getState(), W = env.stateLayout.rowWidth, F = env.stateLayout.fields;
    for (let t = 0; t < 5; t++) env.step(actions(env, t));
    const now = env.getState().data;
    const bad = (mutate: (d: Float32Array) => void) => {
      const d = snap.data.slice();
      mutate(d);
      return d;
    };
    const cases: [() => unknown, RegExp][] = [
      [() => env.setState(bad((d) => { d[W + F.bodyPose[0] + 9] = Number.NaN; })), /row 1 holds NaN at bodyPose\[9\]/],
      [() => env.setState(bad((d) => { d[F.bodyPose[0] + 10] = 2; })), /row 0 has a body quaternion of norm/],
      [() => env.setState(bad((d) => { d[2 * W + F.episodeStep[0]] = 50; })), /row 2 has episodeStep 50, expected an integer in \[0, 49\]/],
      [() => env.setState(bad((d) => { d[F.stage[0]] = 1.5; })), /row 0 has stage 1.5/],
      [() => env.setState(bad((d) => { d[F.fingerPos[0]] = 0.2; })), /fingerPos\[0\] = 0.2/],
      [() => env.setState(snap.data.subarray(0, W * 2)), /2 rows for 3 envs/],
      [() => env.setState(snap.data.subarray(0, W + 1), [0]), /not a whole number of \d+-float rows/],
      [() => env.setState(snap.data.subarray(0, W * 2), [1, 1]), /env 1 appears twice/],
      [() => env.setState(snap.data.subarray(0, W), [3]), /envIds\[0\] is 3, not an env index in \[0, 3\)/],
      [() => env.setState({ layout: { ...snap.layout, task: 'Reach' }, data: snap.data }), /rows are of task Reach, the env runs Push/],
      [() => env.setState({ layout: { ...snap.layout, rowWidth: W + 1 }, data: snap.data }), /rows are \d+ floats wide/],
      [() => env.setState(null as never), /rows must be a Float32Array/],
      [() => env.getState([0, 7]), /envIds\[1\] is 7/],
    ];
    for (const [call, msg] of cases) {
      assert.throws(call, msg);
      assert.deepEqual(env.getState().data, now, `no env changed after ${msg}`);
    }
    await env.close();
  });
});
