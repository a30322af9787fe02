/**
 * Push (FetchPush-v4): push the cube to a goal on the table, fingers closed. The cube starts within
 * 0.15 m of the initial grip site (x, y) and at least 0.1 m from it; the goal lies within 0.15 m, on the
 * table. Observation [25]: grip_pos [3], object_pos [3], object_rel_pos [3], gripper_state [2],
 * object_rot [3] (XYZ Euler), object_velp [3] (relative to the grip, × control dt), object_velr [3]
 * (× control dt), grip_velp [3] (× control dt), gripper_vel [2].
 */
import { CUBE_HALF, CUBE_MASS, FETCH_TABLE, FRICTION, INITIAL_GRIP } from '../engine/physics/fetch-scene.ts';
import type { SceneObjectDef } from '../engine/physics/scene-def.ts';
import type { SubgoalSpec } from '../engine/shaping/spec.ts';
import { FETCH_OBJECT_OBS, sampleFetchEpisode, writeFetchObjectObs, writeGripObjectGoalPoints, writeObjectAchievedGoal, type TaskDef, type TaskPpoDefaults } from './task.ts';

/** Fetch's 5 cm, 2 kg cube. */
export const FETCH_CUBE: SceneObjectDef = { name: 'object', shape: 'box', halfExtents: [CUBE_HALF, CUBE_HALF, CUBE_HALF], mass: CUBE_MASS, friction: FRICTION };

/** Cube start box half-size around the initial grip site, metres (Fetch's obj_range). */
export const PUSH_OBJ_RANGE = 0.15;
/** Goal box half-size around the initial grip site, metres (Fetch's target_range). */
export const PUSH_TARGET_RANGE = 0.15;
/** Least horizontal distance between the cube and the initial grip site, metres. */
export const PUSH_MIN_OBJ_DIST = 0.1;

/**
 * Push (points 'grip', 'object', 'goal'): first bring the grip site within 3 cm of a point 6 cm behind the
 * cube's centre on the far side from the goal (horizontal direction, at the cube's centre height, where the
 * closed fingers, which reach 5 cm up from the grip site, meet the cube's face), then the cube within 5 cm of
 * the goal (Fetch's success). The scales σ = 0.25 and 0.2 m keep 1 − tanh(d/σ) sloped over the whole start
 * range (the grip starts about 0.15–0.3 m from the first point, the cube up to 0.4 m from the goal); with
 * σ = 0.1 it is flat beyond 0.2 m (tuning runs G and H in bench/results/push-pbrs-tuning-*.json: first stage
 * reached in 90% against 86% of episodes).
 */
export const PUSH_SUBGOALS: SubgoalSpec = pushToGoalSpec('cube', 0.06, 0.2);

/**
 * The two-stage spec of pushing and sliding (points 'grip', 'object', 'goal'): the grip site within 3 cm of a
 * point `behind` metres behind the object on the far side from the goal (horizontally, at the object's height),
 * then the object within 5 cm of the goal; progress scales σ 0.25 m and `goalSigma`.
 */
export function pushToGoalSpec(object: string, behind: number, goalSigma: number): SubgoalSpec {
  return {
    description: `Get behind the ${object} as seen from the goal, then push the ${object} to the goal.`,
    points: { behindObject: { from: 'object', awayFrom: 'goal', offset: behind, xy: true } },
    stages: [
      {
        name: 'behind-object',
        predicate: { kind: 'distance', a: 'grip', b: 'behindObject', below: 0.03 },
        progress: { a: 'grip', b: 'behindObject', sigma: 0.25 },
      },
      {
        name: 'object-at-goal',
        predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.05 },
        progress: { a: 'object', b: 'goal', sigma: goalSigma },
      },
    ],
  };
}

/**
 * Push's PPO settings, found by the 2M-step sweeps (README, Push in 2M env steps): lr 2e-3, 8 minibatches and an
 * entropy coefficient of 0.05 reach 93.6 / 93.8 / 97.8% eval success at 2M env steps, where the trainer's defaults
 * (lr 1e-3, 4 minibatches, no entropy bonus) reach 64.6–76.0% and need 5M.
 */
export const PUSH_PPO: TaskPpoDefaults = { lr: 2e-3, numMinibatches: 8, entCoef: 0.05 };

export const push: TaskDef = {
  name: 'Push',
  description: 'Push a 5 cm cube to a goal on the table (FetchPush-v4 semantics).',
  obsDim: 25,
  actDim: 4,
  goalDim: 3,
  scene: { table: FETCH_TABLE, blockGripper: true, objects: [FETCH_CUBE] },
  maxEpisodeSteps: 50,
  distanceThreshold: 0.05,
  pointNames: ['grip', 'object', 'goal'],
  subgoals: PUSH_SUBGOALS,
  ppoDefaults: PUSH_PPO,
  obsLayout: FETCH_OBJECT_OBS,
  cell: { goalCell: 0.05, gripCell: 0.2 },
  sampleEpisode(rng, out) {
    sampleFetchEpisode(rng, out, INITIAL_GRIP, { objRange: PUSH_OBJ_RANGE, minObjDist: PUSH_MIN_OBJ_DIST, targetRange: PUSH_TARGET_RANGE, targetOffsetX: 0, airRange: 0 });
  },
  writeObs: writeFetchObjectObs,
  writeAchievedGoal: writeObjectAchievedGoal,
  writePoints: writeGripObjectGoalPoints,
};
