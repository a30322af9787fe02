/**
 * One thread's share of a vector env: envs [lo, hi) of the batch, held by SceneWorlds of at most
 * physics.envsPerWorld envs each, and the control step PHYSICS → READBACK → SHAPING → EPISODE END → AUTORESET
 * over that slice. PHYSICS and READBACK run World by World (all substeps of one World, then the next): a
 * World's cost per env grows with its size, and stepping one small World at a time keeps it in cache
 * (README, Physics). Used in the main thread when numWorkers = 1 and inside each worker otherwise; both read
 * and write the same batch layout.
 *
 * Every env's state lives in the batch's state block (engine/batch.ts). A reset samples a state into the
 * block (the task's episode start, the scene parameters of domain randomization) and then writes it into the
 * World; `writeState` does the second half for any state put into the block.
 */
import { MAX_REWARD_TERMS, type Batch } from './batch.ts';
import { drawSceneParams, objectParam, P_ACTION_NOISE, P_OBS_NOISE, P_TABLE_DZ, PO_SCALE, type DomainRandomization } from './domain-randomization.ts';
import type { PhysicsConfig } from './physics/config.ts';
import { INITIAL_GRIP } from './physics/fetch-scene.ts';
import type { Rapier } from './physics/rapier.ts';
import { VEL_WIDTH } from './physics/scene-def.ts';
import { SceneWorld } from './physics/scene-world.ts';
import { counterGaussian, EpisodeRng } from './rng.ts';
import { packRow, stateLayout, type StateLayout } from './state.ts';
import { PENALTY_TERM_INDEX, REWARD_TERM_NAMES } from './shaping/stats.ts';
import type { ShapingMode } from './shaping/spec.ts';
import { infractionCost, multiplyPenalties, PENALTY_WIDTH } from './penalties.ts';
import { goalReached, poseAt, sparseReward, velAt, type EpisodeStart, type TaskDef } from '../tasks/task.ts';

/** Salts that separate the action-noise and observation-noise streams from the episode stream. */
const ACTION_NOISE_SALT = 0x5a17ac71;
const OBS_NOISE_SALT = 0x0b5e7e5d;
/** Index of the progress term in rewardTerms rows. */
const PROGRESS_TERM = REWARD_TERM_NAMES.indexOf('progress');

/** Shaping over a slice, run after readback and again after autoreset (engine/shaping glue implements it). */
export interface SliceShaping {
  step(lo: number, hi: number): void;
  reset(lo: number, hi: number, onlyDone: boolean): void;
  /** Recomputes Φ of envs [lo, hi) at their latched stage from their points. */
  refreshPotential(lo: number, hi: number): void;
  /** The config in effect (its mode says whether the penalties multiply the progress term; γ prices an infraction). */
  readonly config: { mode: ShapingMode; gamma: number };
}

/** How far below its table's top an object counts as fallen off the table (an infraction), m. */
export const OFF_TABLE_DROP = 0.05;

export class SimSlice {
  readonly lo: number;
  readonly hi: number;
  /** The Worlds of the slice: world w holds batch envs [worldLo[w], worldLo[w] + worlds[w].numEnvs). */
  readonly worlds: SceneWorld[] = [];
  private readonly worldLo: number[] = [];
  private readonly task: TaskDef;
  private readonly batch: Batch;
  private readonly controlDt: number;
  private readonly followOmega: number;
  private readonly dr: DomainRandomization | null;
  private seed: number;
  shaping: SliceShaping | null = null;
  private readonly rng = new EpisodeRng(0, 0, 0);
  private readonly start: EpisodeStart;
  /** Layout of the snapshot rows written into batch.finalState. */
  private readonly rowLayout: StateLayout;
  /** End an episode where an object falls off the table (terminated = 1, the infraction penalty term). */
  private readonly terminateOnInfraction: boolean;
  /** [4] the action of the env being stepped, with its episode's action noise. */
  private readonly act = new Float64Array(4);
  /** Control steps this slice has run; its parity sets the order in which the Worlds are stepped. */
  private controlSteps = 0;

  constructor(R: Rapier, task: TaskDef, batch: Batch, lo: number, hi: number, seed: number, cfg: PhysicsConfig, dr: DomainRandomization | null = null, terminateOnInfraction = false) {
    this.terminateOnInfraction = terminateOnInfraction;
    this.task = task;
    this.batch = batch;
    this.lo = lo;
    this.hi = hi;
    this.seed = seed;
    this.dr = dr;
    this.controlDt = cfg.dt * cfg.substeps;
    this.followOmega = cfg.followOmega;
    this.rowLayout = stateLayout(task.name, batch.layout);
    try {
      for (let a = lo; a < hi; a += cfg.envsPerWorld) {
        this.worldLo.push(a);
        this.worlds.push(new SceneWorld(R, Math.min(cfg.envsPerWorld, hi - a), task.scene, cfg));
      }
    } catch (e) {
      this.free();
      throw e;
    }
    const K = task.scene.objects.length;
    this.start = { tableTop: 0, objectHalfHeight: new Float64Array(K), objects: new Float64Array(3 * K), goal: new Float64Array(task.goalDim) };
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
    if (this.shaping) this.shaping.reset(this.lo, this.hi, false);
    else this.clearAccumulators(this.lo, this.hi, false);
  }

  /** Runs one control step on the slice; actions in batch.action are already validated and clipped. */
  step(): void {
    const { batch: b, task, lo, hi } = this;
    const A = task.actDim, G = task.goalDim, O = task.obsDim, S = b.layout.widths.sceneParams;
    // PHYSICS and READBACK of the state block, World by World, in alternating order: the World stepped last in one
    // control step comes first in the next, while its memory is still in cache (Worlds are independent: same results)
    const nw = this.worlds.length, backward = (this.controlSteps++ & 1) === 1;
    for (let i = 0; i < nw; i++) {
      const w = backward ? nw - 1 - i : i;
      const world = this.worlds[w], wlo = this.worldLo[w];
      for (let g = wlo; g < wlo + world.numEnvs; g++) {
        const a = g * A, std = b.sceneParams[g * S + P_ACTION_NOISE], act = this.act;
        for (let k = 0; k < 4; k++) {
          act[k] = b.action[a + k];
          if (std > 0) act[k] = clip1(act[k] + std * counterGaussian(this.seed ^ ACTION_NOISE_SALT, g, b.episodeIndex[g], 4 * b.episodeStep[g] + k));
        }
        world.setTargetFromAction(g - wlo, act[0], act[1], act[2], act[3]);
      }
      world.simulate();
      world.readState(b, wlo);
    }
    // OUTPUTS, reward, success and time limit
    const shaping = this.shaping?.config;
    const gamma = shaping?.gamma ?? 1;
    for (let g = lo; g < hi; g++) {
      const t = ++b.episodeStep[g];
      this.writeOutputs(g);
      const ok = goalReached(b.achievedGoal, g * G, b.desiredGoal, g * G, G, task.distanceThreshold);
      b.reward[g] = sparseReward(ok);
      b.success[g] = ok ? 1 : 0;
      // An infraction (an object fell off the table) ends the episode where terminateOnInfraction is on (CaRL).
      const infraction = this.terminateOnInfraction && this.objectOffTable(g);
      b.terminated[g] = infraction ? 1 : 0;
      b.truncated[g] = t >= task.maxEpisodeSteps ? 1 : 0;
      b.done[g] = b.terminated[g] | b.truncated[g];
      b.penalties[PENALTY_WIDTH * g + 2] = infraction ? infractionCost(gamma, task.maxEpisodeSteps - t) : 0;
    }
    b.finalObs.set(b.obs.subarray(lo * O, hi * O), lo * O);
    b.finalAchievedGoal.set(b.achievedGoal.subarray(lo * G, hi * G), lo * G);
    b.finalDesiredGoal.set(b.desiredGoal.subarray(lo * G, hi * G), lo * G);
    // SHAPING (without a shaper the learner's reward is the task reward and the slice keeps the episode sums)
    if (this.shaping) this.shaping.step(lo, hi);
    else {
      b.shapedReward.set(b.reward.subarray(lo, hi), lo);
      for (let g = lo; g < hi; g++) {
        b.episodeReturn[g] += b.reward[g];
        b.episodeShapedReturn[g] += b.reward[g];
        b.episodeTermSums[g * MAX_REWARD_TERMS] += b.reward[g];
      }
    }
    // PENALTIES: the action terms env.step costed from the raw actions (in mode 'progress', as the shares of the progress
    // term their factors remove) and the infraction's, logged and summed as reward terms
    const multiplicative = shaping?.mode === 'progress';
    for (let g = lo; g < hi; g++) {
      if (multiplicative) multiplyPenalties(b.penalties, g, b.rewardTerms[g * MAX_REWARD_TERMS + PROGRESS_TERM]);
      const t = g * MAX_REWARD_TERMS + PENALTY_TERM_INDEX;
      for (let j = 0; j < PENALTY_WIDTH; j++) {
        const term = 0 - b.penalties[PENALTY_WIDTH * g + j];
        b.rewardTerms[t + j] = term;
        b.episodeTermSums[t + j] += term;
      }
    }
    // EPISODE END (the finished episode's statistics, before the reset clears the running sums)
    let anyDone = false;
    for (let g = lo; g < hi; g++) {
      if (!b.done[g]) continue;
      anyDone = true;
      b.finalEpisodeReturn[g] = b.episodeReturn[g];
      b.finalEpisodeShapedReturn[g] = b.episodeShapedReturn[g];
      b.finalEpisodeTermSums.set(b.episodeTermSums.subarray(g * MAX_REWARD_TERMS, (g + 1) * MAX_REWARD_TERMS), g * MAX_REWARD_TERMS);
      b.finalEpisodeLength[g] = b.episodeStep[g];
      b.finalEpisodeMaxStage[g] = b.maxStage[g];
      b.finalEpisodeSuccess[g] = b.success[g];
      packRow(b, this.rowLayout, g, b.finalState, g * this.rowLayout.rowWidth);
    }
    // AUTORESET (same-step: the returned obs starts the next episode; finalObs keeps the last one)
    if (!anyDone) return;
    for (let g = lo; g < hi; g++) if (b.done[g]) this.resetEnv(g);
    if (this.shaping) this.shaping.reset(lo, hi, true);
    else this.clearAccumulators(lo, hi, true);
  }

  /**
   * Samples env g's next episode from (seed, g, episodeIndex) into the state block (scene parameters, gripper at
   * its start, fingers closed, objects at rest, goal), then writes it into the World and the derived views.
   */
  private resetEnv(g: number): void {
    const { batch: b, task, start } = this;
    const scene = task.scene, S = b.layout.widths.sceneParams, K = scene.objects.length;
    const ep = b.episodeIndex[g];
    drawSceneParams(scene, this.followOmega, this.dr, this.seed, g, ep, b.sceneParams, g * S);
    start.tableTop = scene.table.topZ + b.sceneParams[g * S + P_TABLE_DZ];
    for (let k = 0; k < K; k++) start.objectHalfHeight[k] = scene.objects[k].halfExtents[2] * b.sceneParams[g * S + objectParam(k) + PO_SCALE];
    this.rng.reset(this.seed, g, ep);
    task.sampleEpisode(this.rng, start);
    for (let body = 0; body <= K; body++) {
      const p = poseAt(b, g, body), v = velAt(b, g, body);
      for (let c = 0; c < 3; c++) b.bodyPose[p + c] = body === 0 ? INITIAL_GRIP[c] : start.objects[3 * (body - 1) + c];
      b.bodyPose[p + 3] = 0; b.bodyPose[p + 4] = 0; b.bodyPose[p + 5] = 0; b.bodyPose[p + 6] = 1;
      b.bodyVel.fill(0, v, v + VEL_WIDTH);
    }
    for (let c = 0; c < 3; c++) b.mocapTarget[3 * g + c] = INITIAL_GRIP[c];
    b.fingerPos.fill(0, 2 * g, 2 * g + 2);
    b.fingerVel.fill(0, 2 * g, 2 * g + 2);
    b.fingerTarget.fill(0, 2 * g, 2 * g + 2);
    b.desiredGoal.set(start.goal, g * task.goalDim);
    b.episodeIndex[g] = ep + 1;
    b.episodeStep[g] = 0;
    this.writeState(g);
  }

  /** Puts env g's state-block row into its World and recomputes its obs, achieved goal, points and gripper opening. */
  writeState(g: number): void {
    const { world, lo } = this.worldOf(g);
    world.writeState(this.batch, lo, g);
    this.writeOutputs(g);
  }

  /**
   * Takes the rows setState flagged in batch.pendingWrite: puts each into its World, recomputes the derived views
   * and Φ (at the row's latched stage), and clears the flag.
   */
  writePending(): void {
    const b = this.batch;
    for (let g = this.lo; g < this.hi; g++) {
      if (!b.pendingWrite[g]) continue;
      this.writeState(g);
      if (this.shaping) this.shaping.refreshPotential(g, g + 1);
      b.pendingWrite[g] = 0;
    }
  }

  /** The World holding batch env g, the batch index of that World's first env, and g's index inside it. */
  worldOf(g: number): { world: SceneWorld; lo: number; i: number } {
    const w = Math.floor((g - this.lo) / this.worlds[0].numEnvs);
    return { world: this.worlds[w], lo: this.worldLo[w], i: g - this.worldLo[w] };
  }

  /** Whether an object of env g lies more than OFF_TABLE_DROP below its table's top (it fell off the table). */
  private objectOffTable(g: number): boolean {
    const b = this.batch, scene = this.task.scene;
    const top = scene.table.topZ + b.sceneParams[g * b.layout.widths.sceneParams + P_TABLE_DZ];
    for (let k = 1; k <= scene.objects.length; k++) if (b.bodyPose[poseAt(b, g, k) + 2] < top - OFF_TABLE_DROP) return true;
    return false;
  }

  /** Writes obs (with the episode's observation noise), achieved goal, points and gripper opening of env g from the state block. */
  private writeOutputs(g: number): void {
    const { batch: b, task } = this;
    const O = task.obsDim, G = task.goalDim, S = b.layout.widths.sceneParams;
    task.writeObs(b, g, b.obs, g * O, this.controlDt);
    const std = b.sceneParams[g * S + P_OBS_NOISE];
    if (std > 0) {
      const ep = b.episodeIndex[g], t = b.episodeStep[g] * O;
      for (let k = 0; k < O; k++) b.obs[g * O + k] += std * counterGaussian(this.seed ^ OBS_NOISE_SALT, g, ep, t + k);
    }
    task.writeAchievedGoal(b, g, b.achievedGoal, g * G);
    task.writePoints(b, g, b.points, g * task.pointNames.length * 3);
    b.gripperOpening[g] = b.fingerPos[2 * g] + b.fingerPos[2 * g + 1];
  }

  /** Zeroes the running episode sums (and, for a full reset, the transition's shaped reward and terms) when no shaper keeps them. */
  private clearAccumulators(lo: number, hi: number, onlyDone: boolean): void {
    const b = this.batch, T = MAX_REWARD_TERMS;
    for (let g = lo; g < hi; g++) {
      if (onlyDone && !b.done[g]) continue;
      b.episodeReturn[g] = 0;
      b.episodeShapedReturn[g] = 0;
      b.episodeTermSums.fill(0, g * T, g * T + T);
      b.maxStage[g] = 0;
      if (!onlyDone) {
        b.shapedReward[g] = 0;
        b.rewardTerms.fill(0, g * T, g * T + T);
      }
    }
  }

  /** Frees the slice's Worlds; MUST be called once. */
  free(): void {
    for (const w of this.worlds) w.free();
  }
}

function clip1(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}
