/**
 * Push (FetchPush-v4): push the cube to a goal on the table, fingers closed. The cube starts within
 * 0.15 m of the initial grip site (x, y) and at least 0.1 m from it; the goal lies within 0.15 m, on the
 * table. Observation [25]: grip_pos [3], object_pos [3], object_rel_pos [3], gripper_state [2],
 * object_rot [3] (XYZ Euler), object_velp [3] (relative to the grip, × control dt), object_velr [3]
 * (× control dt), grip_velp [3] (× control dt), gripper_vel [2].
 */
import { CUBE_REST_Z, INITIAL_GRIP } from '../engine/physics/fetch-scene.ts';
import type { SubgoalSpec } from '../engine/shaping/spec.ts';
import {
  copy3, quatToEuler, S_FINGERS, S_FINGER_VEL, S_GOAL, S_GRIP, S_GRIP_VEL, S_OBJ_ANGVEL, S_OBJ_LINVEL, S_OBJ_POS, S_OBJ_QUAT, type TaskDef,
} from './task.ts';

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
export const PUSH_SUBGOALS: SubgoalSpec = {
  description: 'Get behind the cube as seen from the goal, then push the cube to the goal.',
  points: { behindObject: { from: 'object', awayFrom: 'goal', offset: 0.06, xy: true } },
  stages: [
    {
      name: 'behind-object',
      predicate: { kind: 'distance', a: 'grip', b: 'behindObject', below: 0.03 },
      progress: { a: 'grip', b: 'behindObject', sigma: 0.25 },
    },
    {
      name: 'object-at-goal',
      predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.05 },
      progress: { a: 'object', b: 'goal', sigma: 0.2 },
    },
  ],
};

export const push: TaskDef = {
  name: 'Push',
  description: 'Push a 5 cm cube to a goal on the table (FetchPush-v4 semantics).',
  obsDim: 25,
  actDim: 4,
  goalDim: 3,
  hasObject: true,
  blockGripper: true,
  maxEpisodeSteps: 50,
  distanceThreshold: 0.05,
  pointNames: ['grip', 'object', 'goal'],
  subgoals: PUSH_SUBGOALS,
  obsLayout: [
    ['grip_pos', 0, 3], ['object_pos', 3, 6], ['object_rel_pos', 6, 9], ['gripper_state', 9, 11], ['object_rot', 11, 14],
    ['object_velp', 14, 17], ['object_velr', 17, 20], ['grip_velp', 20, 23], ['gripper_vel', 23, 25],
  ],
  sampleEpisode(rng, out) {
    // Rejection sampling as Fetch does; each try consumes two draws of the episode's stream.
    let dx = 0, dy = 0;
    do {
      dx = rng.uniform(-PUSH_OBJ_RANGE, PUSH_OBJ_RANGE);
      dy = rng.uniform(-PUSH_OBJ_RANGE, PUSH_OBJ_RANGE);
    } while (Math.hypot(dx, dy) < PUSH_MIN_OBJ_DIST);
    out.object[0] = INITIAL_GRIP[0] + dx;
    out.object[1] = INITIAL_GRIP[1] + dy;
    out.object[2] = CUBE_REST_Z;
    out.goal[0] = INITIAL_GRIP[0] + rng.uniform(-PUSH_TARGET_RANGE, PUSH_TARGET_RANGE);
    out.goal[1] = INITIAL_GRIP[1] + rng.uniform(-PUSH_TARGET_RANGE, PUSH_TARGET_RANGE);
    out.goal[2] = CUBE_REST_Z;
  },
  writeObs(s, obs, o, controlDt) {
    copy3(s, S_GRIP, obs, o);
    copy3(s, S_OBJ_POS, obs, o + 3);
    for (let k = 0; k < 3; k++) obs[o + 6 + k] = s[S_OBJ_POS + k] - s[S_GRIP + k];
    obs[o + 9] = s[S_FINGERS]; obs[o + 10] = s[S_FINGERS + 1];
    quatToEuler(s, S_OBJ_QUAT, obs, o + 11);
    for (let k = 0; k < 3; k++) {
      obs[o + 14 + k] = (s[S_OBJ_LINVEL + k] - s[S_GRIP_VEL + k]) * controlDt;
      obs[o + 17 + k] = s[S_OBJ_ANGVEL + k] * controlDt;
      obs[o + 20 + k] = s[S_GRIP_VEL + k] * controlDt;
    }
    obs[o + 23] = s[S_FINGER_VEL] * controlDt; obs[o + 24] = s[S_FINGER_VEL + 1] * controlDt;
  },
  writeAchievedGoal(s, out, o) {
    copy3(s, S_OBJ_POS, out, o);
  },
  writePoints(s, out, o) {
    copy3(s, S_GRIP, out, o);
    copy3(s, S_OBJ_POS, out, o + 3);
    copy3(s, S_GOAL, out, o + 6);
  },
};
