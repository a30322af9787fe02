/**
 * Stack (after panda-gym's Stack): put cube A on a target on the table and cube B on top of A. Two 5 cm, 2 kg
 * cubes start within 0.15 m of the initial grip site (x, y), at least 0.1 m from it and 0.08 m from each other;
 * the target lies within 0.15 m, at least 0.08 m from cube B. Goal [6]: A's target, then B's (5 cm above A's).
 * Success when each cube is within 5 cm of its own target. 100-step episodes. The fingers move.
 * Observation [40]: grip_pos [3], gripper_state [2], grip_velp [3], gripper_vel [2], then for A and B each
 * pos [3], rel_pos [3], rot [3], velp [3] (relative to the grip), velr [3] (velocities × control dt).
 */
import { FETCH_TABLE, INITIAL_GRIP } from '../engine/physics/fetch-scene.ts';
import type { SubgoalSpec } from '../engine/shaping/spec.ts';
import { FETCH_CUBE } from './push.ts';
import { graspStage } from './pick-and-place.ts';
import { copy3, poseAt, writeGripperObs, writeObjectObs, type ObsField, type TaskDef } from './task.ts';

/** Cube and target box half-size around the initial grip site, metres. */
export const STACK_RANGE = 0.15;
/** Least horizontal distance between a cube and the initial grip site, metres. */
export const STACK_MIN_GRIP_DIST = 0.1;
/** Least horizontal distance between the cubes, and between the target and cube B, metres. */
export const STACK_MIN_SPACING = 0.08;

/** A within 4 cm of its target: place A's predicate, and a condition of every later stage. */
const A_ON_TARGET = { kind: 'distance', a: 'cubeA', b: 'goalA', below: 0.04 } as const;

/**
 * Stack (points 'grip', 'cubeA', 'cubeB', 'goalA', 'goalB', and 'aboveA' 6 cm above A): pick A (grip site within
 * 2 cm of A's centre, fingers closed on it), place A (A within 4 cm of its target), release A (grip site within
 * 3 cm of aboveA, fingers open, A on its target), pick B (with A on its target), place B (B within 4 cm of its
 * target on A, A on its target). The stages latch, so without the release stage and the A-on-target conditions
 * nothing paid for leaving A in place (README, Learning: Stack).
 */
export const STACK_SUBGOALS: SubgoalSpec = {
  description: 'Pick cube A, place it on the target and let go of it above, pick cube B, place it on A, leaving A in place.',
  points: { aboveA: { from: 'cubeA', shift: [0, 0, 0.06] } },
  stages: [
    graspStage('pick-a', 'cubeA', 0.1),
    { name: 'place-a', predicate: A_ON_TARGET, progress: { a: 'cubeA', b: 'goalA', sigma: 0.2 } },
    {
      name: 'release-a',
      predicate: { kind: 'all', of: [{ kind: 'distance', a: 'grip', b: 'aboveA', below: 0.03 }, { kind: 'gripper', state: 'open', threshold: 0.06 }, A_ON_TARGET] },
      progress: { a: 'grip', b: 'aboveA', sigma: 0.1 },
    },
    graspStage('pick-b', 'cubeB', 0.1, [A_ON_TARGET]),
    {
      name: 'place-b',
      predicate: { kind: 'all', of: [{ kind: 'distance', a: 'cubeB', b: 'goalB', below: 0.04 }, A_ON_TARGET] },
      progress: { a: 'cubeB', b: 'goalB', sigma: 0.2 },
    },
  ],
};

/** Stack's PPO defaults: an entropy bonus, and the latched stage in the policy input (README, Learning: Stack). */
export const STACK_PPO = { entCoef: 0.03, stageInObs: true } as const;

const OBJECT_FIELDS = ['pos', 'rel_pos', 'rot', 'velp', 'velr'];
const STACK_OBS: ObsField[] = [['grip_pos', 0, 3], ['gripper_state', 3, 5], ['grip_velp', 5, 8], ['gripper_vel', 8, 10]];
for (const [c, name] of ['a', 'b'].entries()) OBJECT_FIELDS.forEach((f, j) => STACK_OBS.push([`cube_${name}_${f}`, 10 + 15 * c + 3 * j, 13 + 15 * c + 3 * j]));

/** Draws (x, y) within STACK_RANGE of the initial grip, at least `minGrip` from it and STACK_MIN_SPACING from (ax, ay) when given. */
function drawXY(rng: Parameters<TaskDef['sampleEpisode']>[0], minGrip: number, away: number[]): [number, number] {
  for (;;) {
    const x = INITIAL_GRIP[0] + rng.uniform(-STACK_RANGE, STACK_RANGE);
    const y = INITIAL_GRIP[1] + rng.uniform(-STACK_RANGE, STACK_RANGE);
    if (Math.hypot(x - INITIAL_GRIP[0], y - INITIAL_GRIP[1]) < minGrip) continue;
    let ok = true;
    for (let j = 0; j < away.length; j += 2) if (Math.hypot(x - away[j], y - away[j + 1]) < STACK_MIN_SPACING) ok = false;
    if (ok) return [x, y];
  }
}

export const stack: TaskDef = {
  name: 'Stack',
  description: 'Stack two 5 cm cubes: A on a table target, B on top of A (panda-gym Stack semantics).',
  obsDim: 40,
  actDim: 4,
  goalDim: 6,
  scene: { table: FETCH_TABLE, blockGripper: false, objects: [{ ...FETCH_CUBE, name: 'cubeA' }, { ...FETCH_CUBE, name: 'cubeB' }] },
  maxEpisodeSteps: 100,
  distanceThreshold: 0.05,
  pointNames: ['grip', 'cubeA', 'cubeB', 'goalA', 'goalB'],
  subgoals: STACK_SUBGOALS,
  ppoDefaults: STACK_PPO,
  obsLayout: STACK_OBS,
  sampleEpisode(rng, out) {
    const [ax, ay] = drawXY(rng, STACK_MIN_GRIP_DIST, []);
    const [bx, by] = drawXY(rng, STACK_MIN_GRIP_DIST, [ax, ay]);
    const [gx, gy] = drawXY(rng, 0, [bx, by]);
    const za = out.tableTop + out.objectHalfHeight[0], zb = out.tableTop + out.objectHalfHeight[1];
    out.objects.set([ax, ay, za, bx, by, zb]);
    out.goal.set([gx, gy, za, gx, gy, za + out.objectHalfHeight[0] + out.objectHalfHeight[1]]);
  },
  writeObs(b, g, obs, o, controlDt) {
    writeGripperObs(b, g, obs, o, controlDt);
    writeObjectObs(b, g, 1, obs, o + 10, controlDt);
    writeObjectObs(b, g, 2, obs, o + 25, controlDt);
  },
  writeAchievedGoal(b, g, out, o) {
    copy3(b.bodyPose, poseAt(b, g, 1), out, o);
    copy3(b.bodyPose, poseAt(b, g, 2), out, o + 3);
  },
  writePoints(b, g, out, o) {
    copy3(b.bodyPose, poseAt(b, g, 0), out, o);
    copy3(b.bodyPose, poseAt(b, g, 1), out, o + 3);
    copy3(b.bodyPose, poseAt(b, g, 2), out, o + 6);
    copy3(b.desiredGoal, 6 * g, out, o + 9);
    copy3(b.desiredGoal, 6 * g + 3, out, o + 12);
  },
};
