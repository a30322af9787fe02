import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEnv, type VecEnv } from '../../index.ts';
import { counterUniform } from '../../engine/rng.ts';
import { poseAt, velAt } from '../../tasks/task.ts';

const REST_Z = 0.425;

/** Drives env 0's grip site toward (tx, ty, tz) with finger action ag for `steps` control steps; returns the last cube z. */
function driveTo(env: VecEnv, tx: number, ty: number, tz: number, ag: number, steps: number): number {
  const b = env.batch, a = new Float32Array(env.numEnvs * 4);
  for (let t = 0; t < steps; t++) {
    const p = poseAt(b, 0, 0);
    a[0] = Math.max(-1, Math.min(1, 10 * (tx - b.bodyPose[p])));
    a[1] = Math.max(-1, Math.min(1, 10 * (ty - b.bodyPose[p + 1])));
    a[2] = Math.max(-1, Math.min(1, 10 * (tz - b.bodyPose[p + 2])));
    a[3] = ag;
    env.step(a);
  }
  return b.bodyPose[poseAt(b, 0, 1) + 2];
}

/** A PickAndPlace env whose single episode lasts long enough for a scripted sequence, with the cube where it starts. */
async function pickEnv(): Promise<{ env: VecEnv; cx: number; cy: number }> {
  const env = await makeEnv('PickAndPlace', { numEnvs: 1, seed: 4 });
  env.reset();
  const p = poseAt(env.batch, 0, 1);
  return { env, cx: env.batch.bodyPose[p], cy: env.batch.bodyPose[p + 1] };
}

describe('grasping (honest: contact and friction only)', () => {
  it('a closed grasp lifts the cube against gravity and carries it', async () => {
    const { env, cx, cy } = await pickEnv();
    driveTo(env, cx, cy, 0.5, 1, 8); // above, opening
    driveTo(env, cx, cy, 0.405, 1, 6); // down around the cube
    driveTo(env, cx, cy, 0.405, -1, 4); // close on it
    const z = driveTo(env, cx, cy, 0.55, -1, 10); // lift 14.5 cm
    const b = env.batch, g = poseAt(b, 0, 0), c = poseAt(b, 0, 1);
    assert.ok(z > REST_Z + 0.1, `cube lifted to ${z.toFixed(3)} m`);
    assert.ok(Math.abs(b.bodyPose[c] - b.bodyPose[g]) < 0.02 && Math.abs(b.bodyPose[c + 1] - b.bodyPose[g + 1]) < 0.02, 'the cube stays between the fingers');
    // The fingers rest on the cube's faces: opening = 5 cm − 2 × 0.7 cm (closed gap) − the squeeze (1.5 mm a side
    // while closing, more where the cube's inertia presses it into a finger that holds its place).
    assert.ok(b.gripperOpening[0] > 0.025 && b.gripperOpening[0] < 0.034, `opening ${b.gripperOpening[0]}`);
    assert.ok(env.batch.episodeStep[0] === 28, 'all in one episode');
    await env.close();
  });

  it('open fingers never lift the cube more than 1 cm', async () => {
    const { env, cx, cy } = await pickEnv();
    let highest = 0;
    driveTo(env, cx, cy, 0.5, 1, 8);
    driveTo(env, cx, cy, 0.405, 1, 6);
    for (let t = 0; t < 10; t++) highest = Math.max(highest, driveTo(env, cx, cy, 0.6, 1, 1));
    assert.ok(highest < REST_Z + 0.01, `cube rose to ${highest}`);
    await env.close();
  });

  it('opening in the air drops the cube back to the table', async () => {
    const { env, cx, cy } = await pickEnv();
    driveTo(env, cx, cy, 0.5, 1, 8);
    driveTo(env, cx, cy, 0.405, 1, 6);
    driveTo(env, cx, cy, 0.405, -1, 4);
    const held = driveTo(env, cx, cy, 0.52, -1, 6);
    assert.ok(held > REST_Z + 0.07, `held at ${held}`);
    const z = driveTo(env, cx, cy, 0.52, 1, 15);
    assert.ok(Math.abs(z - REST_Z) < 0.004, `cube back on the table at ${z}`);
    await env.close();
  });
});

describe('scene physics', () => {
  it('a stack of two cubes stands for 50 steps without the gripper', async () => {
    const env = await makeEnv('Stack', { numEnvs: 2, seed: 1 });
    env.reset();
    const b = env.batch;
    for (let g = 0; g < 2; g++) {
      const a = poseAt(b, g, 1), c = poseAt(b, g, 2);
      b.bodyPose.set([1.3, 0.75, REST_Z, 0, 0, 0, 1], a);
      b.bodyPose.set([1.3 + 0.004 * g, 0.75, REST_Z + 0.05, 0, 0, 0, 1], c);
      env.localSlice!.writeState(g);
    }
    const act = new Float32Array(2 * 4); // the gripper stays 13 cm above the table, far from the stack's top
    act[2] = 1; act[6] = 1;
    for (let t = 0; t < 50; t++) env.step(act);
    for (let g = 0; g < 2; g++) {
      const a = poseAt(b, g, 1), c = poseAt(b, g, 2);
      assert.ok(Math.abs(b.bodyPose[c + 2] - (b.bodyPose[a + 2] + 0.05)) < 0.003, `env ${g}: B rests on A (z ${b.bodyPose[c + 2]})`);
      assert.ok(Math.hypot(b.bodyPose[c] - b.bodyPose[a], b.bodyPose[c + 1] - b.bodyPose[a + 1]) < 0.01, `env ${g}: B stays over A`);
      assert.ok(Math.abs(b.bodyPose[a + 2] - REST_Z) < 0.003);
    }
    await env.close();
  });

  it("a puck launched at v on Slide's table stops within 15% of v²/(2μg)", async () => {
    const env = await makeEnv('Slide', { numEnvs: 3, seed: 2 });
    env.reset();
    const b = env.batch, speeds = [0.6, 0.9, 1.2];
    const start: number[] = [];
    for (let g = 0; g < 3; g++) {
      // Puck at x = 1.0 on the long table, gripper at its start well away; launched along +x.
      b.bodyPose.set([1.0, 0.5 + 0.2 * g, 0.42, 0, 0, 0, 1], poseAt(b, g, 1));
      b.bodyPose.set([1.342, 1.1, 0.6], poseAt(b, g, 0));
      b.mocapTarget.set([1.342, 1.1, 0.6], 3 * g);
      b.bodyVel.set([speeds[g], 0, 0, 0, 0, 0], velAt(b, g, 1));
      env.localSlice!.writeState(g);
      start.push(1.0);
    }
    for (let t = 0; t < 45; t++) env.step(new Float32Array(12));
    for (let g = 0; g < 3; g++) {
      const v = speeds[g], expected = (v * v) / (2 * 0.1 * 9.81);
      const moved = b.bodyPose[poseAt(b, g, 1)] - start[g];
      assert.ok(Math.abs(moved - expected) < 0.15 * expected, `v ${v}: slid ${moved.toFixed(3)} m, expected ${expected.toFixed(3)}`);
      assert.ok(Math.abs(b.bodyVel[velAt(b, g, 1)]) < 1e-3, 'stopped');
    }
    await env.close();
  });
});

describe('bounded gripper force', () => {
  for (const [task, mode] of [['Push', 'all -1'], ['Push', 'random ±1'], ['PickAndPlace', 'all -1'], ['PickAndPlace', 'random ±1']] as const) {
    it(`${task}, ${mode} for 1500 steps: no object launched, none pressed into the table`, async () => {
      const N = 32;
      const env = await makeEnv(task, { numEnvs: N, seed: 3 });
      env.reset();
      const b = env.batch, act = new Float32Array(N * 4);
      let worstSpeedExcess = 0, deepest = 0, leftFast = 0;
      // The gripper's speed during a control step lies between its speeds at the step's start and end.
      const gripBefore = new Float64Array(N);
      for (let t = 0; t < 1500; t++) {
        for (let k = 0; k < act.length; k++) act[k] = mode === 'all -1' ? -1 : counterUniform(9, k, t, 0) < 0.5 ? -1 : 1;
        env.step(act);
        for (let i = 0; i < N; i++) {
          const gv = velAt(b, i, 0), ov = velAt(b, i, 1), p = poseAt(b, i, 1);
          const gripNow = Math.hypot(b.bodyVel[gv], b.bodyVel[gv + 1], b.bodyVel[gv + 2]);
          const grip = Math.max(gripNow, gripBefore[i]);
          gripBefore[i] = b.episodeStep[i] === 0 ? 0 : gripNow;
          // Speed without the fall: an object pushed over the table's edge gains speed downward by gravity.
          const speed = Math.hypot(b.bodyVel[ov], b.bodyVel[ov + 1], Math.max(0, b.bodyVel[ov + 2]));
          const x = b.bodyPose[p], y = b.bodyPose[p + 1], z = b.bodyPose[p + 2];
          const onTable = x > 1.05 && x < 1.55 && y > 0.4 && y < 1.1 && z > 0.39;
          if (onTable) worstSpeedExcess = Math.max(worstSpeedExcess, speed - Math.max(1.5, grip));
          // Well inside the table (no tipping over an edge): the centre height tells the sink.
          if (x > 1.08 && x < 1.52 && y > 0.43 && y < 1.07 && z > 0.39) deepest = Math.max(deepest, REST_Z - z);
          if (!onTable && z > 0.3 && Math.hypot(b.bodyVel[ov], b.bodyVel[ov + 1]) > Math.max(1.5, grip) + 0.15) leftFast++;
        }
      }
      // The cap acts after each substep; the solver can add up to ~0.1 m/s before an object leaves the capped margin.
      assert.ok(worstSpeedExcess < 0.15, `an object on the table moved ${worstSpeedExcess.toFixed(2)} m/s faster than max(1.5, gripper)`);
      assert.ok(deepest < 0.005, `an object sank ${(deepest * 1000).toFixed(1)} mm into the table`);
      assert.equal(leftFast, 0, 'objects leave the table only at pushing speed');
      await env.close();
    });
  }
});

describe('fingers on a carried cube', () => {
  it('press at most 7 mm into it (a 1.5 mm squeeze a side, 3 mm where its inertia pushes it into one finger, more while it tilts)', async () => {
    const { scriptedController } = await import('../../tasks/scripted.ts');
    const N = 32;
    const env = await makeEnv('PickAndPlace', { numEnvs: N, seed: 0 });
    const ctl = scriptedController('PickAndPlace', N);
    const act = new Float32Array(N * 4);
    let r = env.reset();
    const b = env.batch;
    let worst = 0, carried = 0, successes = 0;
    for (let t = 0; t < 50; t++) {
      ctl.act(r.obs, r.desiredGoal, b.episodeStep, act);
      r = env.step(act);
      for (let i = 0; i < N; i++) {
        const g = poseAt(b, i, 0), c = poseAt(b, i, 1);
        const dx = b.bodyPose[c] - b.bodyPose[g], dy = b.bodyPose[c + 1] - b.bodyPose[g + 1], dz = b.bodyPose[c + 2] - b.bodyPose[g + 2];
        if (Math.abs(dx) > 0.02 || Math.abs(dy) > 0.02 || dz < 0 || dz > 0.03 || b.bodyPose[c + 2] < REST_Z + 0.01) continue;
        carried++;
        // The cube's half extent along y from its rotation (row 1 of R times the half sizes).
        const [x, y, z, w] = [3, 4, 5, 6].map((k) => b.bodyPose[c + k]);
        const ay = 0.025 * (Math.abs(2 * (x * y + z * w)) + Math.abs(1 - 2 * (x * x + z * z)) + Math.abs(2 * (y * z - x * w)));
        const plus = 0.007 + b.fingerPos[2 * i], minus = 0.007 + b.fingerPos[2 * i + 1];
        worst = Math.max(worst, dy + ay - plus, -dy + ay - minus);
      }
    }
    for (let i = 0; i < N; i++) successes += r.success[i];
    assert.ok(carried > 200, `${carried} env-steps with a cube carried`);
    assert.ok(worst < 0.007, `a finger pressed ${(worst * 1000).toFixed(1)} mm into the carried cube`);
    assert.ok(successes >= 30, `${successes}/${N} scripted picks succeeded`);
    await env.close();
  });
});
