/** Gymnasium-style descriptions of what one env takes and returns (an env of N batches them as [N, ...shape]). */
import type { TaskDef } from '../tasks/task.ts';

/** A box of float32 values: shape, dtype and per-space bounds (±Infinity where unbounded). */
export interface BoxSpace {
  kind: 'box';
  shape: readonly number[];
  dtype: 'float32';
  low: number;
  high: number;
  /** Named slices of the vector, [name, start, end), where it has them (the observation's fields). */
  fields?: readonly (readonly [string, number, number])[];
}

/** Fetch's goal-conditioned observation: a Dict of the observation, the achieved goal and the desired goal. */
export interface GoalObservationSpace {
  kind: 'dict';
  spaces: { observation: BoxSpace; achieved_goal: BoxSpace; desired_goal: BoxSpace };
}

/** What a Gymnasium EnvSpec says of a task. */
export interface EnvSpec {
  /** Task name, as makeEnv takes it. */
  id: string;
  /** Control steps per episode; every episode ends by truncation there. */
  maxEpisodeSteps: number;
  /** The per-step sparse reward of a success (Fetch's −1/0 reward: 0). */
  rewardThreshold: number;
  /** Success radius of each goal part, metres. */
  distanceThreshold: number;
  /** 'same-step': a finished env is reset inside step() (README, API). */
  autoresetMode: 'same-step';
}

/** The observation space of a task. */
export function observationSpaceOf(task: TaskDef): GoalObservationSpace {
  const box = (n: number, fields?: BoxSpace['fields']): BoxSpace => ({ kind: 'box', shape: [n], dtype: 'float32', low: -Infinity, high: Infinity, ...(fields ? { fields } : {}) });
  return { kind: 'dict', spaces: { observation: box(task.obsDim, task.obsLayout), achieved_goal: box(task.goalDim), desired_goal: box(task.goalDim) } };
}

/** The action space of a task: Δ grip position (x, y, z) and the finger command, each in [−1, 1]. */
export function actionSpaceOf(task: TaskDef): BoxSpace {
  return { kind: 'box', shape: [task.actDim], dtype: 'float32', low: -1, high: 1 };
}

/** The spec of a task. */
export function specOf(task: TaskDef): EnvSpec {
  return { id: task.name, maxEpisodeSteps: task.maxEpisodeSteps, rewardThreshold: 0, distanceThreshold: task.distanceThreshold, autoresetMode: 'same-step' };
}
