/**
 * Slide (FetchSlide-v4): strike a low-friction puck so that it slides to a goal beyond the gripper's reach, on a
 * longer table, fingers closed. The puck (radius 2.5 cm, 4 cm tall, 2 kg, friction 0.1 with the table) starts
 * within 0.1 m of the initial grip site (x, y) and at least 0.1 m from it; the goal lies 0.4 m further in +x,
 * within 0.3 m. The gripper reaches x ≤ 1.7 m; goals reach x = 2.04 m. Observation [25]: Fetch's one-object
 * layout (tasks/task.ts FETCH_OBJECT_OBS).
 */
import { INITIAL_GRIP, TABLE_TOP_Z } from '../engine/physics/fetch-scene.ts';
import type { SceneObjectDef, SceneTableDef } from '../engine/physics/scene-def.ts';
import type { SubgoalSpec } from '../engine/shaping/spec.ts';
import { pushToGoalSpec } from './push.ts';
import { FETCH_OBJECT_OBS, sampleFetchEpisode, writeFetchObjectObs, writeGripObjectGoalPoints, writeObjectAchievedGoal, type TaskDef } from './task.ts';

/** Puck start box half-size around the initial grip site, metres (FetchSlide's obj_range). */
export const SLIDE_OBJ_RANGE = 0.1;
/** Goal box half-size, metres (FetchSlide's target_range), around the grip site shifted by SLIDE_TARGET_OFFSET in x. */
export const SLIDE_TARGET_RANGE = 0.3;
export const SLIDE_TARGET_OFFSET = 0.4;
/** Least horizontal distance between the puck and the initial grip site, metres. */
export const SLIDE_MIN_OBJ_DIST = 0.1;

/** The longer table: x from 0.9 to 2.15 m, y from 0.3 to 1.2 m, top at 0.40 m. */
export const SLIDE_TABLE: SceneTableDef = { center: [1.525, 0.75], half: [0.625, 0.45, 0.2], topZ: TABLE_TOP_Z };
/** FetchSlide's puck. */
export const SLIDE_PUCK: SceneObjectDef = { name: 'object', shape: 'cylinder', halfExtents: [0.025, 0.025, 0.02], mass: 2, friction: 0.1 };

/** Slide (points 'grip', 'object', 'goal'): 5 cm behind the puck as seen from the goal, then the puck at the goal (σ 0.3 m: goals lie up to 0.8 m away). */
export const SLIDE_SUBGOALS: SubgoalSpec = pushToGoalSpec('puck', 0.05, 0.3);

export const slide: TaskDef = {
  name: 'Slide',
  description: 'Slide a low-friction puck to a goal out of the gripper\'s reach (FetchSlide-v4 semantics).',
  obsDim: 25,
  actDim: 4,
  goalDim: 3,
  scene: { table: SLIDE_TABLE, blockGripper: true, objects: [SLIDE_PUCK] },
  maxEpisodeSteps: 50,
  distanceThreshold: 0.05,
  pointNames: ['grip', 'object', 'goal'],
  subgoals: SLIDE_SUBGOALS,
  obsLayout: FETCH_OBJECT_OBS,
  sampleEpisode(rng, out) {
    sampleFetchEpisode(rng, out, INITIAL_GRIP, { objRange: SLIDE_OBJ_RANGE, minObjDist: SLIDE_MIN_OBJ_DIST, targetRange: SLIDE_TARGET_RANGE, targetOffsetX: SLIDE_TARGET_OFFSET, airRange: 0 });
  },
  writeObs: writeFetchObjectObs,
  writeAchievedGoal: writeObjectAchievedGoal,
  writePoints: writeGripObjectGoalPoints,
};
