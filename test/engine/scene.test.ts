import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEnv } from '../../index.ts';
import { DR_FIELDS, objectParam, P_ACTION_NOISE, P_FINGER_FRICTION, P_FOLLOW_OMEGA, P_OBS_NOISE, P_TABLE_DZ, PO_FRICTION, PO_MASS, PO_SCALE, validateDomainRandomization, type DomainRandomization } from '../../engine/domain-randomization.ts';
import { validateScene, type SceneDef } from '../../engine/physics/scene-def.ts';
import { poseAt } from '../../tasks/task.ts';
import { push } from '../../tasks/push.ts';

const DR: DomainRandomization = {
  objectMass: [0.5, 2], objectSize: [0.8, 1.2], objectFriction: [0.5, 1], fingerFriction: [0.8, 1.2],
  tableHeight: [-0.02, 0.02], gripperLag: [30, 80], actionNoise: [0, 0.1], observationNoise: [0, 0.01],
};

describe('domain randomization', () => {
  it('draws every parameter inside its range, spread over it, reproducibly from the seed', async () => {
    const N = 64;
    const a = await makeEnv('Stack', { numEnvs: N, seed: 5, domainRandomization: DR });
    const b = await makeEnv('Stack', { numEnvs: N, seed: 5, domainRandomization: DR });
    const c = await makeEnv('Stack', { numEnvs: N, seed: 6, domainRandomization: DR });
    a.reset(); b.reset(); c.reset();
    assert.deepEqual(a.batch.sceneParams, b.batch.sceneParams, 'same seed, same draws');
    assert.notDeepEqual(a.batch.sceneParams, c.batch.sceneParams, 'another seed, other draws');
    const S = a.batch.layout.widths.sceneParams;
    assert.equal(S, 5 + 3 * 2);
    const check = (at: number, [lo, hi]: readonly [number, number], scale = 1) => {
      const v = Array.from({ length: N }, (_, i) => a.batch.sceneParams[i * S + at] / scale);
      for (const x of v) assert.ok(x >= Math.fround(lo) - 1e-6 && x <= Math.fround(hi) + 1e-6, `param ${at}: ${x} outside [${lo}, ${hi}]`);
      assert.ok(Math.max(...v) - Math.min(...v) > 0.7 * (hi - lo), `param ${at} spreads over its range`);
    };
    check(P_TABLE_DZ, DR.tableHeight!);
    check(P_FOLLOW_OMEGA, DR.gripperLag!);
    check(P_ACTION_NOISE, DR.actionNoise!);
    check(P_OBS_NOISE, DR.observationNoise!);
    check(P_FINGER_FRICTION, DR.fingerFriction!);
    for (const k of [0, 1]) {
      check(objectParam(k) + PO_MASS, DR.objectMass!, 2); // × the 2 kg nominal mass
      check(objectParam(k) + PO_SCALE, DR.objectSize!);
      check(objectParam(k) + PO_FRICTION, DR.objectFriction!);
    }
    // Each cube starts at rest on its env's randomized table: centre = top + 2.5 cm × size scale.
    for (let i = 0; i < N; i++) {
      for (const k of [0, 1]) {
        const z = a.batch.bodyPose[poseAt(a.batch, i, 1 + k) + 2];
        const want = 0.4 + a.batch.sceneParams[i * S + P_TABLE_DZ] + 0.025 * a.batch.sceneParams[i * S + objectParam(k) + PO_SCALE];
        assert.ok(Math.abs(z - want) < 1e-6, `env ${i} cube ${k} at ${z}, expected ${want}`);
      }
    }
    // The next episode draws again.
    const before = a.batch.sceneParams.slice();
    for (let t = 0; t < 100; t++) a.step(new Float32Array(N * 4));
    assert.notDeepEqual(a.batch.sceneParams, before);
    // Cubes rest where they were put: after 100 steps with the gripper away, each lies on its table (no sinking, no jump).
    for (let i = 0; i < N; i++) {
      const z = a.batch.bodyPose[poseAt(a.batch, i, 1) + 2];
      assert.ok(Math.abs(z - (0.4 + a.batch.sceneParams[i * S + P_TABLE_DZ] + 0.025 * a.batch.sceneParams[i * S + objectParam(0) + PO_SCALE])) < 0.003);
    }
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('off by default: nominal values, and the same trajectory as an env without the option', async () => {
    const a = await makeEnv('PickAndPlace', { numEnvs: 4, seed: 2 });
    const b = await makeEnv('PickAndPlace', { numEnvs: 4, seed: 2, domainRandomization: {} });
    a.reset(); b.reset();
    const S = a.batch.layout.widths.sceneParams;
    assert.deepEqual(Array.from(a.batch.sceneParams.subarray(0, S)), [0, 50, 0, 0, 1, 2, 1, 1]);
    const act = new Float32Array(16).map((_, k) => Math.sin(k));
    for (let t = 0; t < 20; t++) { a.step(act); b.step(act); }
    assert.deepEqual(a.batch.obs, b.batch.obs);
    await a.close(); await b.close();
  });

  it('observation and action noise change what the agent sees and does, reproducibly', async () => {
    const noisy = { actionNoise: [0.2, 0.2], observationNoise: [0.01, 0.01] } as const;
    const run = async (dr?: DomainRandomization) => {
      const env = await makeEnv('Push', { numEnvs: 3, seed: 9, domainRandomization: dr });
      env.reset();
      for (let t = 0; t < 10; t++) env.step(new Float32Array(12).fill(0.3));
      const out = { obs: env.batch.obs.slice(), grip: env.batch.bodyPose.slice(0, 3) };
      await env.close();
      return out;
    };
    const clean = await run(), n1 = await run(noisy), n2 = await run(noisy);
    assert.deepEqual(n1, n2);
    assert.notDeepEqual(n1.grip, clean.grip, 'action noise moves the gripper elsewhere');
    // Observation noise: obs differs from the noiseless function of the same state by about σ = 1 cm.
    const env = await makeEnv('Push', { numEnvs: 1, seed: 9, domainRandomization: { observationNoise: [0.01, 0.01] } });
    env.reset();
    const p = env.batch.bodyPose;
    const dev = Array.from({ length: 3 }, (_, k) => env.batch.obs[k] - p[k]);
    assert.ok(dev.some((d) => Math.abs(d) > 1e-4) && dev.every((d) => Math.abs(d) < 0.05), `grip obs deviates ${dev}`);
    await env.close();
  });

  it('bad ranges are clear errors that name the field, in makeEnv too', async () => {
    const bad: [unknown, RegExp][] = [
      [{ objectMass: [2, 1] }, /domainRandomization\.objectMass: lo 2 is above hi 1/],
      [{ objectMass: [0, 1] }, /domainRandomization\.objectMass: \[0, 1\] leaves the physical range \[0\.05, 10\]/],
      [{ tableHeight: [-0.5, 0] }, /domainRandomization\.tableHeight: .* leaves the physical range \[-0\.1, 0\.1\] \(m\)/],
      [{ friction: [0, 1] }, /domainRandomization\.friction: unknown field \(known: objectMass/],
      [{ actionNoise: 0.1 }, /domainRandomization\.actionNoise: must be a range \[lo, hi\] of two finite numbers, got 0\.1/],
      [{ observationNoise: [0, NaN] }, /domainRandomization\.observationNoise: must be a range/],
      [[1, 2], /domainRandomization: expected an object of ranges, got an array/],
      [null, /domainRandomization: expected an object of ranges, got null/],
    ];
    for (const [json, re] of bad) assert.throws(() => validateDomainRandomization(json), re);
    await assert.rejects(makeEnv('Push', { domainRandomization: { objectSize: [0.1, 1] } as DomainRandomization }), /objectSize: \[0\.1, 1\] leaves the physical range \[0\.5, 1\.5\]/);
    assert.equal(DR_FIELDS.length, 8);
  });
});

describe('scenes as data', () => {
  it('a scene that makes no physical sense is a clear error', () => {
    const cube = push.scene.objects[0];
    const cases: [SceneDef, RegExp][] = [
      [{ ...push.scene, objects: [{ ...cube, mass: -1 }] }, /scene\.objects\[0\]\.mass: must be in \(0, 100\] kg, got -1/],
      [{ ...push.scene, objects: [{ ...cube, halfExtents: [0.025, 0.025, 0] }] }, /scene\.objects\[0\]\.halfExtents: must be 3 numbers in \[0\.005, 0\.2\] m/],
      [{ ...push.scene, objects: [cube, cube] }, /scene\.objects\[1\]\.name: must be a unique non-empty string/],
      [{ ...push.scene, objects: [{ ...cube, shape: 'sphere' as 'box' }] }, /scene\.objects\[0\]\.shape: must be 'box' or 'cylinder'/],
      [{ ...push.scene, objects: [{ ...cube, shape: 'cylinder', halfExtents: [0.02, 0.03, 0.02] }] }, /a cylinder needs equal radii/],
      [{ ...push.scene, table: { ...push.scene.table, topZ: 2 } }, /scene\.table\.topZ: must be in \(0, 1\) m, got 2/],
      [{ ...push.scene, objects: [cube, { ...cube, name: 'b' }, { ...cube, name: 'c' }, { ...cube, name: 'd' }, { ...cube, name: 'e' }] }, /scene\.objects: must be an array of at most 4 objects/],
    ];
    for (const [scene, re] of cases) assert.throws(() => validateScene(scene), re);
    assert.doesNotThrow(() => validateScene(push.scene));
  });
});

describe('rewards and success per task (hand-worked)', () => {
  it('PickAndPlace and Slide: 3-D distance under 5 cm', async () => {
    for (const task of ['PickAndPlace', 'Slide']) {
      const env = await makeEnv(task, { numEnvs: 1 });
      // Goal (1.3, 0.75, 0.6); achieved 4.9 cm below it, 5.1 cm, 3 cm + 4 cm off (5 cm: not strictly under), NaN.
      const desired = new Float32Array([1.3, 0.75, 0.6, 1.3, 0.75, 0.6, 1.3, 0.75, 0.6, 1.3, 0.75, 0.6]);
      const achieved = new Float32Array([1.3, 0.75, 0.551, 1.3, 0.75, 0.549, 1.33, 0.79, 0.6, NaN, 0.75, 0.6]);
      assert.deepEqual(Array.from(env.computeReward(achieved, desired)), [0, -1, -1, -1], task);
      assert.deepEqual(Array.from(env.isSuccess(achieved, desired)), [1, 0, 0, 0], task);
      await env.close();
    }
  });

  it('Stack: each cube within 5 cm of its own goal, not one norm over six numbers', async () => {
    const env = await makeEnv('Stack', { numEnvs: 1 });
    assert.equal(env.goalDim, 6);
    const desired = new Float32Array([1.3, 0.75, 0.425, 1.3, 0.75, 0.475, 1.3, 0.75, 0.425, 1.3, 0.75, 0.475, 1.3, 0.75, 0.425, 1.3, 0.75, 0.475]);
    const achieved = new Float32Array([
      1.33, 0.75, 0.425, 1.33, 0.75, 0.475, // 3 cm each: ‖6-vector‖ = 4.2 cm, both within: success
      1.3, 0.75, 0.425, 1.3, 0.81, 0.475, // A exact, B 6 cm off: ‖6-vector‖ = 6 cm, fails on B
      1.34, 0.75, 0.425, 1.3, 0.75, 0.432, // A 4 cm, B 4.3 cm below its goal (resting on the table beside A's): both within
    ]);
    assert.deepEqual(Array.from(env.computeReward(achieved, desired)), [0, -1, 0]);
    assert.deepEqual(Array.from(env.isSuccess(achieved, desired)), [1, 0, 1]);
    assert.throws(() => env.computeReward(new Float32Array(5), new Float32Array(5)), /computeReward: achieved \(5\) and desired \(5\) must both hold M × 6 values/);
    await env.close();
  });
});

describe('the state block', () => {
  it('writing a state back into the World leaves obs, goals and points as they were', async () => {
    const env = await makeEnv('PickAndPlace', { numEnvs: 5, seed: 3 });
    env.reset();
    const act = new Float32Array(20).map((_, k) => Math.cos(3 * k));
    for (let t = 0; t < 7; t++) env.step(act);
    const b = env.batch;
    const obs = b.obs.slice(), goal = b.achievedGoal.slice(), points = b.points.slice();
    for (let g = 0; g < 5; g++) env.localSlice!.writeState(g);
    assert.deepEqual(b.obs, obs);
    assert.deepEqual(b.achievedGoal, goal);
    assert.deepEqual(b.points, points);
    // And the episode continues from there without a jump: the next step moves the grip by at most a step's worth.
    const before = b.bodyPose.slice();
    env.step(new Float32Array(20));
    for (let g = 0; g < 5; g++) {
      const p = poseAt(b, g, 0);
      assert.ok(Math.hypot(b.bodyPose[p] - before[p], b.bodyPose[p + 1] - before[p + 1], b.bodyPose[p + 2] - before[p + 2]) < 0.05);
    }
    await env.close();
  });
});

describe('several Worlds per thread', () => {
  it('splits a slice into Worlds of physics.envsPerWorld envs, stepped one after another, deterministic and leak-free', async () => {
    const { liveSceneWorlds } = await import('../../engine/physics/scene-world.ts');
    const before = liveSceneWorlds();
    const run = async (envsPerWorld: number) => {
      const env = await makeEnv('PickAndPlace', { numEnvs: 10, seed: 8, physics: { envsPerWorld } });
      assert.equal(env.localSlice!.worlds.length, Math.ceil(10 / envsPerWorld));
      assert.equal(liveSceneWorlds(), before + Math.ceil(10 / envsPerWorld));
      env.reset();
      const act = new Float32Array(40).map((_, k) => Math.sin(0.7 * k));
      for (let t = 0; t < 30; t++) env.step(act);
      const out = env.batch.bodyPose.slice();
      // Env 7 lives in World 1 at index 3 when Worlds hold 4 envs.
      const where = env.localSlice!.worldOf(7);
      assert.equal(where.i, envsPerWorld === 4 ? 3 : 7);
      await env.close();
      return out;
    };
    const a = await run(4), b = await run(4), one = await run(128);
    assert.deepEqual(a, b, 'bit-identical for the same envsPerWorld');
    assert.equal(liveSceneWorlds(), before, 'every World freed');
    // Envs start the same whatever the split, and the gripper follows the same commands: after 30 steps every grip
    // site is where it is with one World, and every cube within 1 mm of it (contacts solved World by World differ a little).
    const W = a.length / 10; // bodyPose is [N, B, 7]: body 0 the grip site, body 1 the cube (x, y, z first)
    for (let i = 0; i < 10; i++) {
      const g = i * W, c = i * W + 7;
      assert.ok(Math.hypot(a[g] - one[g], a[g + 1] - one[g + 1], a[g + 2] - one[g + 2]) < 1e-6, `env ${i}: grip ${a.subarray(g, g + 3)} vs ${one.subarray(g, g + 3)}`);
      assert.ok(Math.hypot(a[c] - one[c], a[c + 1] - one[c + 1], a[c + 2] - one[c + 2]) < 1e-3, `env ${i}: cube ${a.subarray(c, c + 3)} vs ${one.subarray(c, c + 3)}`);
    }
    await assert.rejects(makeEnv('Push', { physics: { envsPerWorld: 0 } }), /physics\.envsPerWorld must be a finite positive number, got 0/);
    await assert.rejects(makeEnv('Push', { physics: { envsPerWorld: 2.5 } }), /must be integers/);
  });
});

describe('determinism and isolation on the grasping tasks', () => {
  for (const task of ['PickAndPlace', 'Stack', 'Slide']) {
    it(`${task}: the same seed gives bit-identical runs (2 workers too), and env i does not depend on its neighbours' actions`, async () => {
      const run = async (numWorkers: number, poke: boolean) => {
        const env = await makeEnv(task, { numEnvs: 6, seed: 21, numWorkers });
        env.reset();
        const { scriptedController } = await import('../../tasks/scripted.ts');
        const ctl = scriptedController(env.task.name, 6);
        const act = new Float32Array(24);
        let r = env.reset();
        const trace: number[] = [];
        for (let t = 0; t < 60; t++) {
          ctl.act(r.obs, r.desiredGoal, env.batch.episodeStep, act);
          if (poke) for (let k = 4; k < 24; k++) act[k] = Math.sin(t + k); // every env but env 0 does something else
          r = env.step(act);
          trace.push(...r.obs.subarray(0, env.obsDim));
        }
        const all = env.batch.obs.slice();
        await env.close();
        return { trace, all };
      };
      const a = await run(1, false), b = await run(1, false), w = await run(2, false), poked = await run(1, true);
      assert.deepEqual(a.all, b.all);
      assert.deepEqual(w.all, (await run(2, false)).all);
      assert.deepEqual(poked.trace, a.trace, "env 0's trajectory ignores what the others do");
    });
  }
});
