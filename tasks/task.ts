/**
 * What a task is: a goal-conditioned Fetch-style config (dims, episode length, success threshold), its scene
 * as data, episode sampling, and pure functions of the batch's state block (engine/batch.ts) for the
 * observation, the achieved goal and the named points.
 */
import type { Batch } from '../engine/batch.ts';
import type { EpisodeRng } from '../engine/rng.ts';
import type { SubgoalSpec } from '../engine/shaping/spec.ts';
import type { CellSpec } from '../engine/explore/cells.ts';
import { POSE_WIDTH, VEL_WIDTH, type SceneDef } from '../engine/physics/scene-def.ts';

/**
 * Where an episode starts, filled by `sampleEpisode`: the engine provides the episode's table top and object
 * sizes (after domain randomization); the task writes object positions (upright, at rest) and the goal.
 */
export interface EpisodeStart {
  /** Table top height of this episode, m. */
  tableTop: number;
  /** [K] half height of each object in this episode, m. */
  objectHalfHeight: Float64Array;
  /** [K, 3] object centres to start from, env-local m (written by the task). */
  objects: Float64Array;
  /** [goalDim] desired goal, env-local m (written by the task). */
  goal: Float64Array;
}

/** A named slice [start, end) of the observation vector. */
export type ObsField = readonly [name: string, start: number, end: number];

/** The PPO settings a task may tune (the fields of engine/train/ppo.ts PpoConfig with these names; lr and entCoef of its hp). */
export interface TaskPpoDefaults {
  /** Discount γ. */
  gamma?: number;
  /** GAE λ. */
  gaeLambda?: number;
  /** Steps per env per iteration. */
  numSteps?: number;
  /** Minibatches per epoch. */
  numMinibatches?: number;
  /** Adam learning rate at the start of the linear anneal (PpoConfig.hp.lr). */
  lr?: number;
  /** Entropy coefficient (PpoConfig.hp.entCoef). */
  entCoef?: number;
  /** Append the latched stage (one-hot) to the policy input (PpoConfig.stageInObs). */
  stageInObs?: boolean;
}

/** A goal-conditioned manipulation task. */
export interface TaskDef {
  /** Registry name, e.g. 'Push'. */
  name: string;
  description: string;
  obsDim: number;
  actDim: number;
  goalDim: number;
  /** The scene: table, gripper mode (blockGripper) and objects (bodies 1..K of the state block). */
  scene: SceneDef;
  /** Control steps per episode; the episode ends by truncation. */
  maxEpisodeSteps: number;
  /** Success when every 3-D part of the achieved goal is within this of its desired position, metres. */
  distanceThreshold: number;
  /** Names of the points written to `batch.points`, in order. */
  pointNames: readonly string[];
  /** The default subgoal decomposition (engine/shaping/spec.ts), over pointNames. */
  subgoals: SubgoalSpec;
  /** The observation layout, documented field by field. */
  obsLayout: readonly ObsField[];
  /** PPO settings tuned for this task, over the trainer's defaults and under a run's own options (README, Learning). */
  ppoDefaults?: Readonly<TaskPpoDefaults>;
  /** Grid of Go-Explore's cell function for this task (engine/explore/cells.ts), over the default. */
  cell?: Readonly<Partial<CellSpec>>;
  /** Samples the start of an episode from its counter-based stream. */
  sampleEpisode(rng: EpisodeRng, out: EpisodeStart): void;
  /** Writes env g's observation [obsDim] at obs[o] from the state block; velocities are scaled by controlDt like Fetch. */
  writeObs(b: Batch, g: number, obs: Float32Array, o: number, controlDt: number): void;
  /** Writes env g's achieved goal [goalDim] at out[o] from the state block. */
  writeAchievedGoal(b: Batch, g: number, out: Float32Array, o: number): void;
  /** Writes env g's named points [numPoints, 3] at out[o] from the state block and its desired goal. */
  writePoints(b: Batch, g: number, out: Float32Array, o: number): void;
}

/** Index of body `body`'s pose [7] of env g in batch.bodyPose. */
export function poseAt(b: Batch, g: number, body: number): number {
  return (g * (b.layout.widths.bodyPose / POSE_WIDTH) + body) * POSE_WIDTH;
}

/** Index of body `body`'s velocity [6] of env g in batch.bodyVel. */
export function velAt(b: Batch, g: number, body: number): number {
  return (g * (b.layout.widths.bodyVel / VEL_WIDTH) + body) * VEL_WIDTH;
}

/**
 * Whether every 3-D part of achieved[ao..ao+dim] lies strictly within `threshold` of the same part of
 * desired[do..do+dim] (one part for Reach/Push, one per cube for Stack). NaN anywhere is not a success.
 */
export function goalReached(achieved: ArrayLike<number>, ao: number, desired: ArrayLike<number>, dOff: number, dim: number, threshold: number): boolean {
  for (let p = 0; p < dim; p += 3) {
    let s = 0;
    for (let k = p; k < p + 3 && k < dim; k++) {
      const d = achieved[ao + k] - desired[dOff + k];
      s += d * d;
    }
    if (!(Math.sqrt(s) < threshold)) return false;
  }
  return true;
}

/** Fetch's sparse reward for one transition: 0 on success, else −1. */
export function sparseReward(success: boolean): number {
  return success ? 0 : -1;
}

/** Writes src[from..from+3] to out[o..o+3]. */
export function copy3(src: ArrayLike<number>, from: number, out: Float32Array, o: number): void {
  out[o] = src[from]; out[o + 1] = src[from + 1]; out[o + 2] = src[from + 2];
}

/** Writes the XYZ (roll, pitch, yaw) Euler angles of quaternion (x, y, z, w) at s[q] to out[o..o+3], radians. */
export function quatToEuler(s: ArrayLike<number>, q: number, out: Float32Array, o: number): void {
  const x = s[q], y = s[q + 1], z = s[q + 2], w = s[q + 3];
  out[o] = Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  const sp = 2 * (w * y - z * x);
  out[o + 1] = Math.abs(sp) >= 1 ? Math.sign(sp) * (Math.PI / 2) : Math.asin(sp);
  out[o + 2] = Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/** Writes the gripper part of an observation: grip_pos [3], gripper_state [2], grip_velp [3] (× dt), gripper_vel [2]; 10 values at obs[o]. */
export function writeGripperObs(b: Batch, g: number, obs: Float32Array, o: number, controlDt: number): void {
  const p = poseAt(b, g, 0), v = velAt(b, g, 0);
  copy3(b.bodyPose, p, obs, o);
  obs[o + 3] = b.fingerPos[2 * g]; obs[o + 4] = b.fingerPos[2 * g + 1];
  for (let k = 0; k < 3; k++) obs[o + 5 + k] = b.bodyVel[v + k] * controlDt;
  obs[o + 8] = b.fingerVel[2 * g] * controlDt; obs[o + 9] = b.fingerVel[2 * g + 1] * controlDt;
}

/**
 * Writes object `body`'s part of an observation: pos [3], rel_pos to the grip [3], rot (XYZ Euler) [3], velp
 * relative to the grip (× dt) [3], velr (× dt) [3]; 15 values at obs[o].
 */
export function writeObjectObs(b: Batch, g: number, body: number, obs: Float32Array, o: number, controlDt: number): void {
  const P = b.bodyPose, V = b.bodyVel;
  const gp = poseAt(b, g, 0), gv = velAt(b, g, 0), p = poseAt(b, g, body), v = velAt(b, g, body);
  copy3(P, p, obs, o);
  for (let k = 0; k < 3; k++) obs[o + 3 + k] = P[p + k] - P[gp + k];
  quatToEuler(P, p + 3, obs, o + 6);
  for (let k = 0; k < 3; k++) {
    obs[o + 9 + k] = (V[v + k] - V[gv + k]) * controlDt;
    obs[o + 12 + k] = V[v + 3 + k] * controlDt;
  }
}

/** The observation layout of Fetch's one-object tasks (Push, PickAndPlace, Slide): 25 values. */
export const FETCH_OBJECT_OBS: readonly ObsField[] = [
  ['grip_pos', 0, 3], ['object_pos', 3, 6], ['object_rel_pos', 6, 9], ['gripper_state', 9, 11], ['object_rot', 11, 14],
  ['object_velp', 14, 17], ['object_velr', 17, 20], ['grip_velp', 20, 23], ['gripper_vel', 23, 25],
];

/**
 * Fetch's one-object observation [25] in Fetch's order: grip_pos, object_pos, object_rel_pos, gripper_state,
 * object_rot, object_velp, object_velr, grip_velp, gripper_vel (velocities × control dt).
 */
export function writeFetchObjectObs(b: Batch, g: number, obs: Float32Array, o: number, controlDt: number): void {
  const P = b.bodyPose, V = b.bodyVel;
  const gp = poseAt(b, g, 0), gv = velAt(b, g, 0), p = poseAt(b, g, 1), v = velAt(b, g, 1);
  copy3(P, gp, obs, o);
  copy3(P, p, obs, o + 3);
  for (let k = 0; k < 3; k++) obs[o + 6 + k] = P[p + k] - P[gp + k];
  obs[o + 9] = b.fingerPos[2 * g]; obs[o + 10] = b.fingerPos[2 * g + 1];
  quatToEuler(P, p + 3, obs, o + 11);
  for (let k = 0; k < 3; k++) {
    obs[o + 14 + k] = (V[v + k] - V[gv + k]) * controlDt;
    obs[o + 17 + k] = V[v + 3 + k] * controlDt;
    obs[o + 20 + k] = V[gv + k] * controlDt;
  }
  obs[o + 23] = b.fingerVel[2 * g] * controlDt; obs[o + 24] = b.fingerVel[2 * g + 1] * controlDt;
}

/** Points 'grip', 'object', 'goal' of a one-object task: 9 values at out[o]. */
export function writeGripObjectGoalPoints(b: Batch, g: number, out: Float32Array, o: number): void {
  copy3(b.bodyPose, poseAt(b, g, 0), out, o);
  copy3(b.bodyPose, poseAt(b, g, 1), out, o + 3);
  copy3(b.desiredGoal, g * (b.layout.widths.desiredGoal), out, o + 6);
}

/** Ranges of a Fetch one-object episode start, metres (Fetch's obj_range, target_range, target_offset, target_in_the_air). */
export interface FetchSampling {
  /** Object start box half-size around the initial grip site (x, y). */
  objRange: number;
  /** Least horizontal distance between the object and the initial grip site. */
  minObjDist: number;
  /** Goal box half-size (x, y) around the initial grip site shifted by targetOffsetX in x. */
  targetRange: number;
  targetOffsetX: number;
  /** With probability 0.5 the goal rises by U(0, airRange) above the resting object (0: goals on the table). */
  airRange: number;
}

/**
 * Fetch's one-object episode start: the object by rejection sampling (two draws a try) until it lies at least
 * minObjDist from the grip site (x, y), resting on the table; then the goal's x and y, and, with airRange > 0,
 * one draw for whether it is in the air and one for its height. `grip` is the initial grip site [3].
 */
export function sampleFetchEpisode(rng: EpisodeRng, out: EpisodeStart, grip: readonly number[], s: FetchSampling): void {
  let dx = 0, dy = 0;
  do {
    dx = rng.uniform(-s.objRange, s.objRange);
    dy = rng.uniform(-s.objRange, s.objRange);
  } while (Math.hypot(dx, dy) < s.minObjDist);
  const z = out.tableTop + out.objectHalfHeight[0];
  out.objects[0] = grip[0] + dx;
  out.objects[1] = grip[1] + dy;
  out.objects[2] = z;
  out.goal[0] = grip[0] + s.targetOffsetX + rng.uniform(-s.targetRange, s.targetRange);
  out.goal[1] = grip[1] + rng.uniform(-s.targetRange, s.targetRange);
  out.goal[2] = z + (s.airRange > 0 && rng.next() < 0.5 ? rng.uniform(0, s.airRange) : 0);
}

/** Achieved goal of a one-object task: the object's position (body 1), 3 values at out[o]. */
export function writeObjectAchievedGoal(b: Batch, g: number, out: Float32Array, o: number): void {
  copy3(b.bodyPose, poseAt(b, g, 1), out, o);
}
