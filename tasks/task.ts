/**
 * What a task is: a goal-conditioned Fetch-style config (dims, episode length, success threshold),
 * episode sampling, and how the scene state maps to observation, achieved goal and named points.
 */
import type { EpisodeRng } from '../engine/rng.ts';
import type { PpoConfig } from '../engine/train/ppo.ts';
import type { SubgoalSpec } from '../engine/shaping/spec.ts';

/** Offsets into the per-env scene state (Float64Array of STATE_SIZE), env-local frame, SI units. */
export const S_GRIP = 0; //          [3] grip site position, m
export const S_GRIP_VEL = 3; //      [3] grip site velocity, m/s
export const S_OBJ_POS = 6; //       [3] cube centre, m
export const S_OBJ_QUAT = 9; //      [4] cube orientation quaternion (x, y, z, w)
export const S_OBJ_LINVEL = 13; //   [3] cube linear velocity, m/s
export const S_OBJ_ANGVEL = 16; //   [3] cube angular velocity, rad/s
export const S_FINGERS = 19; //      [2] finger joint positions (half-openings), m
export const S_FINGER_VEL = 21; //   [2] finger joint velocities, m/s
export const S_GOAL = 23; //         [3] desired goal, m
export const STATE_SIZE = 26;

/** Where an episode starts: the cube position (ignored without an object) and the goal, metres. */
export interface EpisodeStart {
  object: Float64Array;
  goal: Float64Array;
}

/** A named slice [start, end) of the observation vector. */
export type ObsField = readonly [name: string, start: number, end: number];

/** A goal-conditioned manipulation task. */
export interface TaskDef {
  /** Registry name, e.g. 'Push'. */
  name: string;
  description: string;
  obsDim: number;
  actDim: number;
  goalDim: number;
  /** Whether the scene holds the cube. */
  hasObject: boolean;
  /** Whether the fingers are held closed and action[3] is ignored (Fetch's block_gripper). */
  blockGripper: boolean;
  /** Control steps per episode; the episode ends by truncation. */
  maxEpisodeSteps: number;
  /** Success when ‖achieved − desired‖ < this, metres. */
  distanceThreshold: number;
  /** Names of the points written to `batch.points`, in order. */
  pointNames: readonly string[];
  /** The default subgoal decomposition (engine/shaping/spec.ts), over pointNames. */
  subgoals: SubgoalSpec;
  /** The observation layout, documented field by field. */
  obsLayout: readonly ObsField[];
  /** PPO settings tuned for this task, over the trainer's defaults and under a run's own options (README, Learning). */
  ppoDefaults?: Readonly<Partial<Pick<PpoConfig, 'gamma' | 'gaeLambda'>>>;
  /** Samples the start of an episode from its counter-based stream. */
  sampleEpisode(rng: EpisodeRng, out: EpisodeStart): void;
  /** Writes obs [obsDim] at obs[o] from the scene state; velocities are scaled by controlDt like Fetch. */
  writeObs(s: Float64Array, obs: Float32Array, o: number, controlDt: number): void;
  /** Writes the achieved goal [goalDim] at out[o]. */
  writeAchievedGoal(s: Float64Array, out: Float32Array, o: number): void;
  /** Writes the named points [numPoints, 3] at out[o]. */
  writePoints(s: Float64Array, out: Float32Array, o: number): void;
}

/** Fetch's sparse reward for one transition: 0 when within the threshold, else −1. */
export function sparseReward(distance: number, threshold: number): number {
  return distance > threshold ? -1 : 0;
}

/** Writes s[from..from+3] to out[o..o+3]. */
export function copy3(s: Float64Array, from: number, out: Float32Array, o: number): void {
  out[o] = s[from]; out[o + 1] = s[from + 1]; out[o + 2] = s[from + 2];
}

/** Writes the XYZ (roll, pitch, yaw) Euler angles of quaternion (x, y, z, w) at s[q] to out[o..o+3], radians. */
export function quatToEuler(s: Float64Array, q: number, out: Float32Array, o: number): void {
  const x = s[q], y = s[q + 1], z = s[q + 2], w = s[q + 3];
  out[o] = Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  const sp = 2 * (w * y - z * x);
  out[o + 1] = Math.abs(sp) >= 1 ? Math.sign(sp) * (Math.PI / 2) : Math.asin(sp);
  out[o + 2] = Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}
