/**
 * PickAndPlace (FetchPickAndPlace-v4): grasp the cube and carry it to a goal on the table or, in half the
 * episodes, up to 0.45 m above it. The fingers move (action[3]: positive opens, negative closes). Sampling as
 * Push: the cube within 0.15 m of the initial grip site (x, y) and at least 0.1 m from it, the goal within
 * 0.15 m. Observation [25]: Fetch's one-object layout (tasks/task.ts FETCH_OBJECT_OBS).
 */
import { FETCH_TABLE, INITIAL_GRIP } from '../engine/physics/fetch-scene.ts';
import { P_TABLE_DZ } from '../engine/domain-randomization.ts';
import type { SubgoalSpec } from '../engine/shaping/spec.ts';
import { FETCH_CUBE, PUSH_MIN_OBJ_DIST, PUSH_OBJ_RANGE, PUSH_TARGET_RANGE } from './push.ts';
import { FETCH_OBJECT_OBS, poseAt, sampleFetchEpisode, writeFetchObjectObs, writeGripObjectGoalPoints, writeObjectAchievedGoal, type TaskDef } from './task.ts';

/** Highest goal above the resting cube, metres (Fetch's uniform(0, 0.45)). */
export const PICK_AIR_RANGE = 0.45;
/** Height above the resting cube centre of the 'lift' point, metres: stage 'lifted' holds within 6 cm of it. */
export const PICK_LIFT_HEIGHT = 0.1;

/**
 * PickAndPlace (points 'grip', 'object', 'goal', 'lift' = the cube's x, y at PICK_LIFT_HEIGHT above its resting
 * height): the grip site 4 cm above the cube with the fingers open; the cube between the fingers (grip site
 * within 2 cm of its centre) and the fingers closed on it (opening under 4.5 cm: a 5 cm cube stops them at
 * ~3.3 cm); the cube lifted at least 4 cm (within 6 cm of 'lift'); the cube within 5 cm of the goal.
 */
export const PICK_SUBGOALS: SubgoalSpec = {
  description: 'Hover above the cube with open fingers, grasp it, lift it, carry it to the goal.',
  points: { aboveObject: { from: 'object', shift: [0, 0, 0.04] } },
  stages: [
    {
      name: 'above-object',
      predicate: { kind: 'all', of: [{ kind: 'distance', a: 'grip', b: 'aboveObject', below: 0.02 }, { kind: 'gripper', state: 'open', threshold: 0.06 }] },
      progress: { a: 'grip', b: 'aboveObject', sigma: 0.2 },
    },
    {
      name: 'grasp',
      predicate: { kind: 'all', of: [{ kind: 'distance', a: 'grip', b: 'object', below: 0.02 }, { kind: 'gripper', state: 'closed', threshold: 0.045 }] },
      progress: { a: 'grip', b: 'object', sigma: 0.05 },
    },
    {
      name: 'lifted',
      predicate: { kind: 'distance', a: 'object', b: 'lift', below: 0.06 },
      progress: { a: 'object', b: 'lift', sigma: 0.1 },
    },
    {
      name: 'object-at-goal',
      predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.05 },
      progress: { a: 'object', b: 'goal', sigma: 0.2 },
    },
  ],
};

export const pickAndPlace: TaskDef = {
  name: 'PickAndPlace',
  description: 'Grasp a 5 cm cube and place it at a goal on the table or in the air (FetchPickAndPlace-v4 semantics).',
  obsDim: 25,
  actDim: 4,
  goalDim: 3,
  scene: { table: FETCH_TABLE, blockGripper: false, objects: [FETCH_CUBE] },
  maxEpisodeSteps: 50,
  distanceThreshold: 0.05,
  pointNames: ['grip', 'object', 'goal', 'lift'],
  subgoals: PICK_SUBGOALS,
  obsLayout: FETCH_OBJECT_OBS,
  sampleEpisode(rng, out) {
    sampleFetchEpisode(rng, out, INITIAL_GRIP, { objRange: PUSH_OBJ_RANGE, minObjDist: PUSH_MIN_OBJ_DIST, targetRange: PUSH_TARGET_RANGE, targetOffsetX: 0, airRange: PICK_AIR_RANGE });
  },
  writeObs: writeFetchObjectObs,
  writeAchievedGoal: writeObjectAchievedGoal,
  writePoints(b, g, out, o) {
    writeGripObjectGoalPoints(b, g, out, o);
    const p = poseAt(b, g, 1);
    const S = b.layout.widths.sceneParams;
    out[o + 9] = b.bodyPose[p];
    out[o + 10] = b.bodyPose[p + 1];
    out[o + 11] = FETCH_TABLE.topZ + b.sceneParams[g * S + P_TABLE_DZ] + FETCH_CUBE.halfExtents[2] + PICK_LIFT_HEIGHT;
  },
};
