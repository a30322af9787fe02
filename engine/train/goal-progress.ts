/**
 * A dense, spec-independent measure of how far a policy moves its objects toward their goals: per episode and
 * object (each 3 numbers of the goal vector), (d₀ − d_T) / max(d₀, GOAL_PROGRESS_MIN_SCALE) clamped to [−1, 1],
 * where d₀ and d_T are the object's distances (m) to its goal at the episode's first and last state. 1 is at the
 * goal, 0 unmoved, negative pushed away. The spec search breaks ties in sparse success with it (engine/lab/search.ts).
 */
import type { StepResult } from '../env.ts';

/** Least distance (m) a progress is divided by: Fetch's 5 cm success threshold, so a start near the goal is not a huge ratio. */
export const GOAL_PROGRESS_MIN_SCALE = 0.05;

/** The progress of one object from start distance d0 to final distance dT (m). */
export function objectGoalProgress(d0: number, dT: number): number {
  return Math.max(-1, Math.min(1, (d0 - dT) / Math.max(d0, GOAL_PROGRESS_MIN_SCALE)));
}

/** Writes into out[o] each object's distance (m) between achieved[row] and desired[row] (both [N, G], object o at 3o … 3o + 2). */
function objectDistances(achieved: ArrayLike<number>, desired: ArrayLike<number>, goalDim: number, row: number, out: Float64Array): void {
  for (let o = 0; o < goalDim / 3; o++) {
    let s = 0;
    for (let k = 0; k < 3; k++) {
      const d = achieved[row * goalDim + 3 * o + k] - desired[row * goalDim + 3 * o + k];
      s += d * d;
    }
    out[o] = Math.sqrt(s);
  }
}

/** The fields of a step result (engine/env.ts StepResult) the meter reads. */
export type GoalStep = Pick<StepResult, 'terminated' | 'truncated' | 'finalAchievedGoal' | 'finalDesiredGoal' | 'achievedGoal' | 'desiredGoal'>;

/** Sums goal progress over the episodes of a batch of N envs: start() at reset, record() after every step. */
export class GoalProgressMeter {
  /** [N, objects] each env's start distances of its current episode (m). */
  private readonly start0: Float64Array;
  private readonly scratch: Float64Array;
  private readonly objects: number;
  private sum = 0;
  private count = 0;

  constructor(readonly numEnvs: number, readonly goalDim: number) {
    if (goalDim % 3 !== 0 || goalDim === 0) throw new Error(`goal progress: goalDim must be a positive multiple of 3, got ${goalDim}`);
    this.objects = goalDim / 3;
    this.start0 = new Float64Array(numEnvs * this.objects);
    this.scratch = new Float64Array(this.objects);
  }

  /** Takes every env's start distances from the goals of the first observations (after reset). */
  start(achieved: ArrayLike<number>, desired: ArrayLike<number>): void {
    for (let i = 0; i < this.numEnvs; i++) {
      objectDistances(achieved, desired, this.goalDim, i, this.scratch);
      this.start0.set(this.scratch, i * this.objects);
    }
  }

  /** Scores the episodes that ended at this step (terminated or truncated: their final goals) and takes the next episodes' start distances. */
  record(r: GoalStep): void {
    for (let i = 0; i < this.numEnvs; i++) {
      if (!r.terminated[i] && !r.truncated[i]) continue;
      objectDistances(r.finalAchievedGoal, r.finalDesiredGoal, this.goalDim, i, this.scratch);
      let p = 0;
      for (let o = 0; o < this.objects; o++) p += objectGoalProgress(this.start0[i * this.objects + o], this.scratch[o]);
      this.sum += p / this.objects;
      this.count++;
      objectDistances(r.achievedGoal, r.desiredGoal, this.goalDim, i, this.scratch);
      this.start0.set(this.scratch, i * this.objects);
    }
  }

  /** Episodes scored so far. */
  get episodes(): number {
    return this.count;
  }

  /** Mean progress over the scored episodes (NaN when none). */
  get mean(): number {
    return this.count ? this.sum / this.count : Number.NaN;
  }
}
