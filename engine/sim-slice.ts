/**
 * One thread's share of a vector env: envs [lo, hi) of the batch, one FetchWorld holding them, and the
 * control step PHYSICS → READBACK → SHAPING → AUTORESET over that slice. Used in the main thread when
 * numWorkers = 1 and inside each worker otherwise; both read and write the same batch layout.
 */
import type { Batch } from './batch.ts';
import type { PhysicsConfig } from './physics/config.ts';
import { INITIAL_GRIP } from './physics/fetch-scene.ts';
import { FetchWorld, type ObjectReadback } from './physics/fetch-world.ts';
import type { Rapier } from './physics/rapier.ts';
import { EpisodeRng } from './rng.ts';
import {
  S_FINGERS, S_FINGER_VEL, S_GOAL, S_GRIP, S_GRIP_VEL, S_OBJ_ANGVEL, S_OBJ_LINVEL, S_OBJ_POS, S_OBJ_QUAT, STATE_SIZE, sparseReward,
  type EpisodeStart, type TaskDef,
} from '../tasks/task.ts';

/** Euclidean distance between a[ao..ao+dim] and b[bo..bo+dim]; the one formula for step and computeReward. */
export function goalDistance(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) {
    const d = a[ao + k] - b[bo + k];
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Shaping over a slice, run after readback and again after autoreset (engine/shaping glue implements it). */
export interface SliceShaping {
  step(lo: number, hi: number): void;
  reset(lo: number, hi: number, onlyDone: boolean): void;
}

export class SimSlice {
  readonly lo: number;
  readonly hi: number;
  readonly world: FetchWorld;
  private readonly task: TaskDef;
  private readonly batch: Batch;
  private readonly controlDt: number;
  private seed: number;
  shaping: SliceShaping | null = null;
  /** [n, 3] desired goal of each env's running episode (env-local), m. */
  private readonly goals: Float64Array;
  private readonly state = new Float64Array(STATE_SIZE);
  private readonly rng = new EpisodeRng(0, 0, 0);
  private readonly start: EpisodeStart = { object: new Float64Array(3), goal: new Float64Array(3) };
  private readonly readback: ObjectReadback;

  constructor(R: Rapier, task: TaskDef, batch: Batch, lo: number, hi: number, seed: number, cfg: PhysicsConfig) {
    this.task = task;
    this.batch = batch;
    this.lo = lo;
    this.hi = hi;
    this.seed = seed;
    this.controlDt = cfg.dt * cfg.substeps;
    this.world = new FetchWorld(R, hi - lo, task.hasObject, cfg);
    this.goals = new Float64Array((hi - lo) * 3);
    const s = this.state;
    this.readback = { pos: s.subarray(S_OBJ_POS, S_OBJ_POS + 3), quat: s.subarray(S_OBJ_QUAT, S_OBJ_QUAT + 4), linvel: s.subarray(S_OBJ_LINVEL, S_OBJ_LINVEL + 3), angvel: s.subarray(S_OBJ_ANGVEL, S_OBJ_ANGVEL + 3) };
  }

  /** Starts a new episode in every env of the slice; with a seed, episode counters restart from startEpisode first. */
  resetAll(seed?: number, startEpisode = 0): void {
    const b = this.batch;
    if (seed !== undefined) {
      this.seed = seed;
      b.episodeIndex.fill(startEpisode, this.lo, this.hi);
    }
    for (let g = this.lo; g < this.hi; g++) this.resetEnv(g);
    b.reward.fill(0, this.lo, this.hi);
    b.terminated.fill(0, this.lo, this.hi);
    b.truncated.fill(0, this.lo, this.hi);
    b.done.fill(0, this.lo, this.hi);
    b.success.fill(0, this.lo, this.hi);
    this.shaping?.reset(this.lo, this.hi, false);
  }

  /** Runs one control step on the slice; actions in batch.action are already validated and clipped. */
  step(): void {
    const { batch: b, world, task, lo, hi } = this;
    const A = task.actDim, G = task.goalDim, O = task.obsDim;
    // PHYSICS
    for (let g = lo; g < hi; g++) world.setTargetFromAction(g - lo, b.action[g * A], b.action[g * A + 1], b.action[g * A + 2]);
    world.simulate();
    // READBACK
    for (let g = lo; g < hi; g++) {
      this.writeState(g);
      const d = goalDistance(b.achievedGoal, g * G, b.desiredGoal, g * G, G);
      b.reward[g] = sparseReward(d, task.distanceThreshold);
      b.success[g] = d < task.distanceThreshold ? 1 : 0;
      const t = ++b.episodeStep[g];
      b.terminated[g] = 0;
      b.truncated[g] = t >= task.maxEpisodeSteps ? 1 : 0;
      b.done[g] = b.truncated[g];
      b.finalObs.set(b.obs.subarray(g * O, g * O + O), g * O);
      b.finalAchievedGoal.set(b.achievedGoal.subarray(g * G, g * G + G), g * G);
      b.finalDesiredGoal.set(b.desiredGoal.subarray(g * G, g * G + G), g * G);
    }
    // SHAPING (without a shaper the learner's reward is the task reward)
    if (this.shaping) this.shaping.step(lo, hi);
    else b.shapedReward.set(b.reward.subarray(lo, hi), lo);
    // AUTORESET (same-step: the returned obs starts the next episode; finalObs keeps the last one)
    let anyDone = false;
    for (let g = lo; g < hi; g++) {
      if (b.done[g]) {
        this.resetEnv(g);
        anyDone = true;
      }
    }
    if (anyDone) this.shaping?.reset(lo, hi, true);
  }

  /** Samples env g's next episode from (seed, g, episodeIndex), puts the scene there and writes its observation. */
  private resetEnv(g: number): void {
    const { batch: b, task, start } = this;
    const i = g - this.lo;
    this.rng.reset(this.seed, g, b.episodeIndex[g]);
    task.sampleEpisode(this.rng, start);
    this.world.resetEnv(i, INITIAL_GRIP, task.hasObject ? start.object : null);
    this.goals.set(start.goal, 3 * i);
    b.episodeIndex[g]++;
    b.episodeStep[g] = 0;
    const s = this.state;
    s.fill(0);
    for (let k = 0; k < 3; k++) {
      s[S_GRIP + k] = INITIAL_GRIP[k];
      s[S_OBJ_POS + k] = start.object[k];
      s[S_GOAL + k] = start.goal[k];
    }
    s[S_OBJ_QUAT + 3] = 1;
    this.writeOutputs(g);
  }

  /** Fills the scene state of env g from the world after a step, then writes its outputs. */
  private writeState(g: number): void {
    const i = g - this.lo, s = this.state, w = this.world;
    for (let k = 0; k < 3; k++) {
      s[S_GRIP + k] = w.gripPos[3 * i + k];
      s[S_GRIP_VEL + k] = w.gripVel[3 * i + k];
      s[S_GOAL + k] = this.goals[3 * i + k];
    }
    if (this.task.hasObject) w.readObject(i, this.readback);
    s[S_FINGERS] = 0; s[S_FINGERS + 1] = 0; s[S_FINGER_VEL] = 0; s[S_FINGER_VEL + 1] = 0;
    this.writeOutputs(g);
  }

  /** Writes obs, goals, points and gripper opening of env g from the scene state. */
  private writeOutputs(g: number): void {
    const { batch: b, task, state: s } = this;
    const G = task.goalDim;
    task.writeObs(s, b.obs, g * task.obsDim, this.controlDt);
    task.writeAchievedGoal(s, b.achievedGoal, g * G);
    for (let k = 0; k < G; k++) b.desiredGoal[g * G + k] = s[S_GOAL + k];
    task.writePoints(s, b.points, g * task.pointNames.length * 3);
    b.gripperOpening[g] = s[S_FINGERS] + s[S_FINGERS + 1];
  }

  /** Frees the slice's World; MUST be called once. */
  free(): void {
    this.world.free();
  }
}
