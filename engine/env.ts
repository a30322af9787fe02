/**
 * The vector env: N goal-conditioned Fetch-style envs stepped together, Gymnasium-style, with
 * same-step autoreset. `step()` and `reset()` return typed-array views of the batch (the same objects
 * every call, overwritten by the next call); nothing is allocated per step on cairn's side.
 */
import { createBatch, MAX_REWARD_TERMS, type Batch } from './batch.ts';
import { checkIntIn } from './numeric.ts';
import { checkInfractionMode, costActions, NO_PENALTIES, resolvePenalties, type Penalties } from './penalties.ts';
import { resolvePhysicsConfig, type PhysicsConfig } from './physics/config.ts';
import { loadRapier } from './physics/rapier.ts';
import { SimSlice } from './sim-slice.ts';
import { canShareMemory } from './threads/host.ts';
import { actionSpaceOf, observationSpaceOf, specOf, type BoxSpace, type EnvSpec, type GoalObservationSpace } from './spaces.ts';
import { getTask } from '../tasks/registry.ts';
import { goalReached, sparseReward, type TaskDef } from '../tasks/task.ts';
import { numSceneParams, validateDomainRandomization, type DomainRandomization } from './domain-randomization.ts';
import { numBodies, validateScene } from './physics/scene-def.ts';
import type { WorkerPool } from './workers/worker-pool.ts';
import { ShapingKernel } from './shaping/kernel.ts';
import type { ShapingConfig, SubgoalSpec } from './shaping/spec.ts';
import { recordEpisode, SLOT_STAT_WORDS, statsFromWords, summarizeEpisodeStats, type EpisodeStats, type EpisodeSummary } from './shaping/stats.ts';
import { CMD_RESET, CMD_RESET_SEEDED, CMD_STEP, CMD_WRITE_STATE } from './workers/protocol.ts';
import { checkEnvIds, checkPackable, checkRow, checkSameLayout, packRow, stateLayout, unpackRow, type StateLayout, type StateRows } from './state.ts';
import { FINGER_MAX_OPEN, FINGER_TARGET_MIN } from './physics/fetch-scene.ts';

/** Most envs one vector env may hold (a batch of this size is ~100 MB). */
/** Most env physics steps one step() may take (numEnvs × substeps): 65,536 envs at 16 substeps. */
export const MAX_ENV_SUBSTEPS = 2 ** 20;
export const MAX_ENVS = 65536;
/** Most worker threads one vector env may use. */
export const MAX_WORKERS = 64;

/** Options of makeEnv. */
export interface EnvOptions {
  /** Number of envs stepped together (default 1). */
  numEnvs?: number;
  /** Seed of every episode's sampling (uint32; default 0). */
  seed?: number;
  /** Worker threads (default 1 = no workers; > 1 splits envs across worker threads: Node, or a cross-origin isolated page). */
  numWorkers?: number;
  /** Physics settings over DEFAULT_PHYSICS. */
  physics?: Partial<PhysicsConfig>;
  /** Reward shaping: mode ('sparse' | 'dense' | 'pbrs' | 'bonus' | 'gated' | 'progress'), gamma (the learner's discount), weight, bonus. */
  shaping?: Partial<ShapingConfig>;
  /** A subgoal spec (JSON) replacing the task's own (engine/shaping/spec.ts documents the format). */
  subgoals?: unknown;
  /** Ranges of scene parameters drawn per env at every reset (engine/domain-randomization.ts); off by default. */
  domainRandomization?: DomainRandomization;
  /** Coefficients of the action penalty terms (engine/penalties.ts); both 0 (off) by default. */
  penalties?: Partial<Penalties>;
  /**
   * End an episode where an object falls off the table (CaRL's termination on an infraction): terminated = 1, so
   * Φ(s′) = 0 and no bootstrap, with the 'infraction' penalty term 1 / (1 − γ) (the discounted return of failing forever, engine/penalties.ts); default false.
   */
  terminateOnInfraction?: boolean;
}

/** The views returned by reset() and step(); see engine/batch.ts for shapes and meaning. */
export interface StepResult {
  /** [N, obsDim] observation; after an episode ended, the first observation of the next one. */
  obs: Float32Array;
  /** [N, goalDim] achieved goal of obs. */
  achievedGoal: Float32Array;
  /** [N, goalDim] desired goal of obs. */
  desiredGoal: Float32Array;
  /** [N] task reward of the transition (−1 or 0). */
  reward: Float32Array;
  /** [N] 1 where the episode reached a terminal state (never for Fetch tasks). */
  terminated: Uint8Array;
  /** [N] 1 where the episode hit its time limit. */
  truncated: Uint8Array;
  /** [N] 1 where the state reached by the transition is a success. */
  success: Uint8Array;
  /** [N, obsDim] observation reached by the transition before any autoreset (= obs where not done). */
  finalObs: Float32Array;
  /** [N, goalDim] achieved goal of finalObs. */
  finalAchievedGoal: Float32Array;
  /** [N, goalDim] desired goal of finalObs. */
  finalDesiredGoal: Float32Array;
  /** [N] reward plus the shaping term of the mode in effect (a learner also subtracts the penalties). */
  shapedReward: Float32Array;
  /** [N] latched subgoal stage of obs (0 … number of stages). */
  stage: Int32Array;
  /** [N] latched stage of finalObs where an episode ended at this step (its highest; the latch never drops); stale elsewhere. */
  finalStage: Int32Array;
  /** [N] potential Φ of obs, after any reset. */
  potential: Float32Array;
  /** [N, 12] every reward term of the transition (engine/shaping REWARD_TERM_NAMES: sparse, dense, pbrs, bonus, gated, progress, action, bound, infraction; the rest 0). */
  rewardTerms: Float32Array;
  /** [N, 3] the action, bound and infraction penalties of the transition (costs ≥ 0, f64): a learner's reward is shapedReward − their sum. */
  penalties: Float64Array;
}

/** Splits [0, n) into k contiguous slices whose sizes differ by at most one. */
export function splitRange(n: number, k: number): [number, number][] {
  const out: [number, number][] = [];
  for (let w = 0; w < k; w++) out.push([Math.floor((w * n) / k), Math.floor(((w + 1) * n) / k)]);
  return out;
}

function checkInt(name: string, v: unknown, lo: number, hi: number): number {
  return checkIntIn(`makeEnv: ${name}`, v, lo, hi);
}

export class VecEnv {
  readonly task: TaskDef;
  readonly numEnvs: number;
  readonly numWorkers: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly goalDim: number;
  readonly physics: PhysicsConfig;
  /** Control period, seconds (dt × substeps). */
  readonly controlDt: number;
  /** 'same-step': a finished env is reset inside step(); its last observation is in finalObs. */
  readonly autoresetMode = 'same-step' as const;
  readonly batch: Batch;
  private readonly slice: SimSlice | null;
  private readonly pool: WorkerPool | null;
  private readonly result: StepResult;
  private readonly shaper: ShapingKernel;
  /** Sums over the episodes finished since the last take, from the batch's finalEpisode* fields (shaping/stats.ts words). */
  private readonly finished = new Float64Array(SLOT_STAT_WORDS);
  private closed = false;
  private started = false;
  private penaltyCoefs: Penalties;
  /** Episodes end where an object falls off the table (EnvOptions.terminateOnInfraction). */
  readonly terminateOnInfraction: boolean;
  /** Layout of the rows getState returns and setState takes. */
  readonly stateLayout: StateLayout;
  /** One env's observation: a Dict of observation [obsDim] (named fields), achieved_goal and desired_goal [goalDim]. */
  readonly observationSpace: GoalObservationSpace;
  /** One env's action: a float32 box [actDim] in [−1, 1]; step() takes [N × actDim]. */
  readonly actionSpace: BoxSpace;
  /** Task name, episode length, success reward and radius, autoreset mode. */
  readonly spec: EnvSpec;

  /** Use makeEnv(). */
  constructor(task: TaskDef, batch: Batch, physics: PhysicsConfig, shaper: ShapingKernel, slice: SimSlice | null, pool: WorkerPool | null, rewards: { penalties: Penalties; terminateOnInfraction: boolean } = { penalties: NO_PENALTIES, terminateOnInfraction: false }) {
    this.penaltyCoefs = { ...rewards.penalties };
    this.terminateOnInfraction = rewards.terminateOnInfraction;
    this.task = task;
    this.shaper = shaper;
    this.batch = batch;
    this.physics = physics;
    this.slice = slice;
    this.pool = pool;
    this.numEnvs = batch.numEnvs;
    this.numWorkers = pool ? pool.numWorkers : 1;
    this.obsDim = task.obsDim;
    this.actDim = task.actDim;
    this.goalDim = task.goalDim;
    this.controlDt = physics.dt * physics.substeps;
    this.stateLayout = stateLayout(task.name, batch.layout);
    this.observationSpace = observationSpaceOf(task);
    this.actionSpace = actionSpaceOf(task);
    this.spec = specOf(task);
    const b = batch;
    this.result = {
      obs: b.obs, achievedGoal: b.achievedGoal, desiredGoal: b.desiredGoal, reward: b.reward, terminated: b.terminated, truncated: b.truncated,
      success: b.success, finalObs: b.finalObs, finalAchievedGoal: b.finalAchievedGoal, finalDesiredGoal: b.finalDesiredGoal,
      shapedReward: b.shapedReward, stage: b.stage, finalStage: b.finalEpisodeMaxStage, potential: b.potential, rewardTerms: b.rewardTerms, penalties: b.penalties,
    };
  }

  /**
   * Starts a new episode in every env. With a seed, reseeds and restarts every env's episode counter at
   * `startEpisode` (default 0), so episode k of env i is the one a run from that seed meets k-th.
   */
  reset(opts: { seed?: number; startEpisode?: number } = {}): StepResult {
    this.checkOpen();
    if (opts === null || typeof opts !== 'object') throw new Error(`reset: options must be an object like { seed: 1 }, got ${opts === null ? 'null' : typeof opts}`);
    const { seed, startEpisode = 0 } = opts;
    if (seed !== undefined) checkInt('seed', seed, 0, 0xffffffff);
    checkInt('startEpisode', startEpisode, 0, 0x7fffffff);
    if (startEpisode !== 0 && seed === undefined) throw new Error('reset: startEpisode needs a seed');
    this.started = true;
    // No transition yet: no penalty (as the slices zero the reward terms).
    this.batch.penalties.fill(0);
    if (this.slice) this.slice.resetAll(seed, startEpisode);
    else if (seed === undefined) this.pool!.run(CMD_RESET);
    else this.pool!.run(CMD_RESET_SEEDED, JSON.stringify({ seed, startEpisode }));
    return this.result;
  }

  /**
   * Steps every env with actions [N, actDim] in [-1, 1]. Values outside are clipped (±Infinity too, as
   * Fetch clips); a NaN or a wrong length throws before any env moves.
   */
  step(actions: ArrayLike<number>): StepResult {
    this.checkOpen();
    if (!this.started) throw new Error('step: call reset() before the first step()');
    const n = this.numEnvs * this.actDim;
    if (!actions || typeof actions.length !== 'number' || actions.length !== n) {
      throw new Error(`step: expected ${n} actions (${this.numEnvs} envs × ${this.actDim}), got ${actions?.length}`);
    }
    const a = this.batch.action;
    for (let k = 0; k < n; k++) {
      const x = actions[k];
      if (x !== x || typeof x !== 'number') throw new Error(`step: action[${k}] (env ${Math.floor(k / this.actDim)}, dim ${k % this.actDim}) is ${x}; actions must be numbers`);
    }
    for (let k = 0; k < n; k++) {
      const x = actions[k];
      a[k] = x > 1 ? 1 : x < -1 ? -1 : x;
    }
    // The penalty terms cost the raw actions; the slices log them with the shaping terms.
    costActions(actions, this.numEnvs, this.actDim, this.penaltyCoefs, this.batch.penalties);
    if (this.slice) this.slice.step();
    else this.pool!.run(CMD_STEP);
    // EPISODE STATISTICS, in env order, from the final-episode fields the slices wrote at done.
    const b = this.batch;
    for (let i = 0; i < this.numEnvs; i++) {
      if (b.done[i]) recordEpisode(this.finished, b.finalEpisodeSuccess[i], b.finalEpisodeReturn[i], b.finalEpisodeShapedReturn[i], b.finalEpisodeTermSums, i * MAX_REWARD_TERMS, b.finalEpisodeMaxStage[i], b.finalEpisodeLength[i]);
    }
    return this.result;
  }

  /**
   * Snapshot: the state-block rows of envs `envIds` (default all, in order) as [M, rowWidth] f32 with their
   * layout (engine/state.ts). `setState` puts them back, into the same envs or others.
   */
  getState(envIds?: ArrayLike<number>): StateRows {
    this.checkOpen();
    if (!this.started) throw new Error('getState: call reset() first');
    const ids = envIds === undefined ? null : checkEnvIds(envIds, this.numEnvs, 'getState');
    const m = ids ? ids.length : this.numEnvs;
    const data = new Float32Array(m * this.stateLayout.rowWidth);
    for (let r = 0; r < m; r++) {
      const g = ids ? ids[r] : r;
      checkPackable(this.batch, g);
      packRow(this.batch, this.stateLayout, g, data, r * this.stateLayout.rowWidth);
    }
    return { layout: this.stateLayout, data };
  }

  /**
   * Restore: puts row r of `rows` into env envIds[r] (default: row i into env i), goal, episode step, scene
   * parameters and the shaping latch included, and recomputes that env's obs, achieved goal, points and Φ, so the
   * next `step` continues from the restored state. Rows are checked first (layout, finite values, unit
   * quaternions, counters and fingers in range); a bad row throws before any env changes. The returned views
   * hold the restored envs' new obs; the transition fields (reward, done, …) keep the last step's values.
   */
  setState(rows: StateRows | Float32Array, envIds?: ArrayLike<number>): StepResult {
    this.checkOpen();
    if (!this.started) throw new Error('setState: call reset() first');
    const L = this.stateLayout;
    let data: Float32Array;
    if (rows instanceof Float32Array) data = rows;
    else {
      if (!rows || typeof rows !== 'object' || !(rows.data instanceof Float32Array)) throw new Error('setState: rows must be a Float32Array or { layout, data: Float32Array } from getState');
      checkSameLayout(rows.layout, L, 'setState');
      data = rows.data;
    }
    if (data.length % L.rowWidth !== 0) throw new Error(`setState: ${data.length} floats is not a whole number of ${L.rowWidth}-float rows`);
    const m = data.length / L.rowWidth;
    const ids = envIds === undefined ? null : checkEnvIds(envIds, this.numEnvs, 'setState');
    if (ids ? ids.length !== m : m !== this.numEnvs) throw new Error(`setState: ${m} rows for ${ids ? ids.length : this.numEnvs} envs`);
    const lim = { maxEpisodeSteps: this.task.maxEpisodeSteps, numStages: this.shaper.numStages, maxFingerOpening: FINGER_MAX_OPEN, minFingerTarget: FINGER_TARGET_MIN };
    for (let r = 0; r < m; r++) checkRow(data, L, r, lim, 'setState');
    const b = this.batch;
    for (let r = 0; r < m; r++) {
      const g = ids ? ids[r] : r;
      unpackRow(data, L, r, b, g);
      b.pendingWrite[g] = 1;
    }
    if (this.slice) this.slice.writePending();
    else this.pool!.run(CMD_WRITE_STATE);
    return this.result;
  }

  /**
   * Fetch's batched reward: for goals [M, goalDim], 0 where every 3-D part of the achieved goal is within the
   * task's threshold of its desired part (each cube of Stack on its own target), else −1. NaN is never a success.
   */
  computeReward(achieved: ArrayLike<number>, desired: ArrayLike<number>, out?: Float32Array): Float32Array {
    const r = this.goalBatch('computeReward', achieved, desired, out, Float32Array);
    for (let i = 0; i < r.length; i++) r[i] = sparseReward(goalReached(achieved, i * this.goalDim, desired, i * this.goalDim, this.goalDim, this.task.distanceThreshold));
    return r;
  }

  /** Batched success for goals [M, goalDim]: 1 where computeReward gives 0, else 0. */
  isSuccess(achieved: ArrayLike<number>, desired: ArrayLike<number>, out?: Uint8Array): Uint8Array {
    const r = this.goalBatch('isSuccess', achieved, desired, out, Uint8Array);
    for (let i = 0; i < r.length; i++) r[i] = goalReached(achieved, i * this.goalDim, desired, i * this.goalDim, this.goalDim, this.task.distanceThreshold) ? 1 : 0;
    return r;
  }

  /** Checks goal batches [M, goalDim] and returns the output array [M] (out when given). */
  private goalBatch<T extends Float32Array | Uint8Array>(name: string, achieved: ArrayLike<number>, desired: ArrayLike<number>, out: T | undefined, make: new (n: number) => T): T {
    const G = this.goalDim;
    if (!achieved || !desired || achieved.length !== desired.length || achieved.length % G !== 0) {
      throw new Error(`${name}: achieved (${achieved?.length}) and desired (${desired?.length}) must both hold M × ${G} values`);
    }
    const m = achieved.length / G;
    const r = out ?? new make(m);
    if (r.length !== m) throw new Error(`${name}: out holds ${r.length} values, expected ${m}`);
    return r;
  }

  /** The subgoal spec in effect (validated). */
  get subgoals(): SubgoalSpec {
    return this.shaper.spec;
  }

  /** The shaping config in effect. */
  get shaping(): ShapingConfig {
    return this.shaper.config;
  }

  /** Names of the subgoal stages, in order. */
  get stageNames(): readonly string[] {
    return this.shaper.stageNames;
  }

  /** The coefficients of the action penalty terms in effect (engine/penalties.ts). */
  get penalties(): Readonly<Penalties> {
    return this.penaltyCoefs;
  }

  /** Changes the action penalty coefficients between steps (missing fields keep their value). */
  setPenalties(p: Partial<Penalties>): void {
    this.checkOpen();
    this.penaltyCoefs = resolvePenalties(p, this.penaltyCoefs);
  }

  /** Changes the shaping mode, gamma, weight or bonus between steps (missing fields keep their value). */
  setShaping(config: Partial<ShapingConfig>): void {
    this.checkOpen();
    if (this.terminateOnInfraction && config?.mode !== undefined) checkInfractionMode(config.mode, 'setShaping');
    this.shaper.setConfig(config);
  }

  /** Raw statistics of the episodes finished since the last take (returns, term sums, stage histogram). */
  takeEpisodeStats(): EpisodeStats {
    const s = statsFromWords(this.finished, this.shaper.numStages);
    this.finished.fill(0);
    return s;
  }

  /** Means of the episodes finished since the last take: success rate, sparse and shaped return, per-term sums, stages reached. */
  takeEpisodeSummary(): EpisodeSummary {
    return summarizeEpisodeStats(this.takeEpisodeStats());
  }

  /** Frees every Rapier object and WASM kernel and stops the workers; the env is unusable afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.slice) this.slice.free();
    if (this.pool) await this.pool.close();
    this.shaper.free();
  }

  /** The in-thread slice (numWorkers = 1), for tests and tools that poke at the scene. */
  get localSlice(): SimSlice | null {
    return this.slice;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('env: used after close()');
  }
}


/** Creates a vector env of a registered task, e.g. `await makeEnv('Push', { numEnvs: 1024, seed: 1 })`. */
export async function makeEnv(taskName: string, opts: EnvOptions = {}): Promise<VecEnv> {
  const task = getTask(taskName);
  if (opts === null || typeof opts !== 'object') throw new Error('makeEnv: options must be an object');
  const numEnvs = checkInt('numEnvs', opts.numEnvs ?? 1, 1, MAX_ENVS);
  const numWorkers = checkInt('numWorkers', opts.numWorkers ?? 1, 1, Math.min(MAX_WORKERS, numEnvs));
  // Before the batch is allocated in shared memory, which a page without it cannot make.
  if (numWorkers > 1 && !canShareMemory()) throw new Error('makeEnv: numWorkers > 1 needs shared memory, which a page has only when cross-origin isolated (COOP: same-origin, COEP: require-corp); use numWorkers: 1');
  const seed = checkInt('seed', opts.seed ?? 0, 0, 0xffffffff);
  const physics = resolvePhysicsConfig(opts.physics);
  if (numEnvs * physics.substeps > MAX_ENV_SUBSTEPS) {
    throw new Error(`makeEnv: numEnvs × physics.substeps is ${numEnvs} × ${physics.substeps} = ${numEnvs * physics.substeps}, more than the ${MAX_ENV_SUBSTEPS} physics steps one step() may take (it would run for minutes); lower one of them`);
  }
  const dr = opts.domainRandomization === undefined ? null : validateDomainRandomization(opts.domainRandomization);
  const penalties = resolvePenalties(opts.penalties);
  const terminateOnInfraction = opts.terminateOnInfraction ?? false;
  if (typeof terminateOnInfraction !== 'boolean') throw new Error(`makeEnv: terminateOnInfraction must be a boolean, got ${JSON.stringify(terminateOnInfraction)}`);
  if (terminateOnInfraction && opts.shaping?.mode !== undefined) checkInfractionMode(opts.shaping.mode, 'makeEnv');
  const scene = validateScene(task.scene);
  const batch = createBatch({
    numEnvs, obsDim: task.obsDim, actDim: task.actDim, goalDim: task.goalDim, numPoints: task.pointNames.length,
    numBodies: numBodies(scene), numSceneParams: numSceneParams(scene),
  }, { shared: numWorkers > 1 });
  // The shaper writes the compiled spec into the batch memory before any worker attaches to it.
  const shaper = await ShapingKernel.create(batch, opts.subgoals ?? task.subgoals, task.pointNames, opts.shaping ?? {});
  try {
    if (numWorkers === 1) {
      const R = await loadRapier();
      const slice = new SimSlice(R, task, batch, 0, numEnvs, seed, physics, dr, terminateOnInfraction);
      slice.shaping = shaper;
      return new VecEnv(task, batch, physics, shaper, slice, null, { penalties, terminateOnInfraction });
    }
    const { WorkerPool } = await import('./workers/worker-pool.ts');
    const pool = await WorkerPool.start(batch, splitRange(numEnvs, numWorkers), task.name, seed, physics, shaper.spec, dr, terminateOnInfraction);
    return new VecEnv(task, batch, physics, shaper, null, pool, { penalties, terminateOnInfraction });
  } catch (e) {
    shaper.free();
    throw e;
  }
}
