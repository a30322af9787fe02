/**
 * Go-Explore phase 1 (Ecoffet et al., "First return, then explore") on a vector env: every env returns to a cell
 * chosen from the archive by restoring its state (env.setState), explores from there with sticky random actions for
 * `exploreSteps` steps (or until its episode ends or it succeeds), and reports each state it reaches to the archive.
 * An env whose episode ended explores its fresh start with probability `freshProb`, which brings new episodes (new
 * goals and object starts) into the archive. Only the sparse reward enters: the env runs with shaping 'sparse', a
 * cell's score is the episode's sparse return, and the stage in the cell key is the latch of the task's subgoal spec.
 */
import { makeEnv, type VecEnv } from '../env.ts';
import { counterUniform } from '../rng.ts';
import { checkIntIn } from '../numeric.ts';
import { goalReached } from '../../tasks/task.ts';
import { packReachedRow, packRow } from '../state.ts';
import { Archive } from './archive.ts';
import { cellKey, type CellSpec } from './cells.ts';
import type { ArchiveRunInfo } from './archive-file.ts';

/** Salts of the explorer's random streams. */
const ACTION_SALT = 0x6e7a1c0d;
const SELECT_SALT = 0x3c11b7a5;
const FRESH_SALT = 0x0f4e5b21;
/** A gripper counts as closed on something when its target is this much tighter than its opening, m. */
const SQUEEZE = 0.002;

/** Settings of an exploration run. */
export interface ExploreSettings {
  task: string;
  numEnvs: number;
  numWorkers: number;
  seed: number;
  cellSpec: CellSpec;
  /** Steps explored after each return. */
  exploreSteps: number;
  /** Probability of repeating the previous action (sticky random actions). */
  repeatProb: number;
  /** Probability of exploring a fresh episode start after an episode ends, instead of returning to a cell. */
  freshProb: number;
}

/** Checks the numeric settings; throws naming the first bad one. */
export function validateExploreSettings(s: ExploreSettings): ExploreSettings {
  const int = (k: keyof ExploreSettings, lo: number, hi: number) => checkIntIn(`explore: ${k}`, s[k], lo, hi);
  const prob = (k: 'repeatProb' | 'freshProb') => {
    if (typeof s[k] !== 'number' || !(s[k] >= 0 && s[k] <= 1)) throw new Error(`explore: ${k} must be a probability in [0, 1], got ${s[k]}`);
  };
  int('numEnvs', 1, 65536);
  int('numWorkers', 1, 64);
  int('seed', 0, 0xffffffff);
  int('exploreSteps', 1, 1000);
  prob('repeatProb');
  prob('freshProb');
  return s;
}

/** An exploration in progress: the env, the archive and each env's current path. */
export class Explorer {
  readonly env: VecEnv;
  readonly archive: Archive;
  readonly settings: ExploreSettings;
  envSteps: number;
  /** Control steps taken by this explorer (the random streams' counter). */
  private tick = 0;
  private readonly W: number;
  private readonly A: number;
  /** Per env: its episode's start row [W], its actions since then [maxSteps, A] and how many, the explore steps left, the cell it came from. */
  private readonly starts: Float32Array[];
  private readonly paths: Float32Array[];
  private readonly lens: Int32Array;
  private readonly left: Int32Array;
  private readonly origin: (string | null)[];
  /** Start rows whose state is already a success (episodes that start solved). */
  private readonly solvedStarts = new WeakSet<Float32Array>();
  private readonly act: Float32Array;
  /** Scratch snapshot row [W] of the env being reported. */
  private readonly row: Float32Array;

  private constructor(env: VecEnv, archive: Archive, settings: ExploreSettings, envSteps: number) {
    this.env = env;
    this.archive = archive;
    this.settings = settings;
    this.envSteps = envSteps;
    this.W = env.stateLayout.rowWidth;
    this.A = env.actDim;
    const N = env.numEnvs, T = env.task.maxEpisodeSteps;
    this.starts = Array.from({ length: N }, () => new Float32Array(this.W));
    // starts[g] is replaced, never written: the archive keeps start rows by reference.
    this.paths = Array.from({ length: N }, () => new Float32Array(T * this.A));
    this.lens = new Int32Array(N);
    this.left = new Int32Array(N);
    this.origin = new Array(N).fill(null);
    this.act = new Float32Array(N * this.A);
    this.row = new Float32Array(this.W);
  }

  /** Makes the env, resets it (episodes after those a resumed run has seen) and records every start in the archive. */
  static async start(settings: ExploreSettings, archive: Archive | null, resumed?: ArchiveRunInfo): Promise<Explorer> {
    const s = validateExploreSettings(settings);
    const env = await makeEnv(s.task, { numEnvs: s.numEnvs, numWorkers: s.numWorkers, seed: s.seed, shaping: { mode: 'sparse' } });
    const ex = new Explorer(env, archive ?? new Archive({ maxEpisodeSteps: env.task.maxEpisodeSteps }), s, resumed?.envSteps ?? 0);
    ex.tick = Math.ceil(ex.envSteps / s.numEnvs);
    // A resumed run starts episodes it has not met yet: skip as many per env as could have finished.
    env.reset({ seed: s.seed, startEpisode: Math.min(0x7fffffff, Math.ceil(ex.tick / env.task.maxEpisodeSteps) + 1) });
    for (let g = 0; g < s.numEnvs; g++) {
      packRow(env.batch, env.stateLayout, g, ex.row, 0);
      ex.beginFresh(g, ex.row);
      ex.report(g, ex.row, false);
    }
    return ex;
  }

  /** One control step of every env: act, step, report what was reached, then return some envs to chosen cells. */
  step(): void {
    const { env, archive, settings: s, A, W, row } = this;
    const N = env.numEnvs, b = env.batch, L = env.stateLayout;
    for (let g = 0; g < N; g++) {
      const fresh = this.lens[g] === 0 || counterUniform(s.seed ^ ACTION_SALT, g, this.tick, 0) >= s.repeatProb;
      if (fresh) for (let k = 0; k < A; k++) this.act[g * A + k] = 2 * counterUniform(s.seed ^ ACTION_SALT, g, this.tick, 1 + k) - 1;
    }
    env.step(this.act);
    this.envSteps += N;
    const restoreIds: number[] = [], restoreRows: Float32Array[] = [];
    archive.prepareSelection();
    for (let g = 0; g < N; g++) {
      const len = this.lens[g];
      if (len < env.task.maxEpisodeSteps) this.paths[g].set(this.act.subarray(g * A, g * A + A), len * A);
      this.lens[g] = len + 1;
      const done = b.done[g] === 1;
      const success = b.success[g] === 1;
      packReachedRow(b, L, g, row, 0);
      this.report(g, row, done, success);
      this.left[g]--;
      if (done) {
        // Same-step autoreset: the env holds a fresh episode start.
        if (counterUniform(s.seed ^ FRESH_SALT, g, this.tick, 0) < s.freshProb) {
          packRow(b, L, g, row, 0);
          this.beginFresh(g, row);
          this.report(g, row, false);
          continue;
        }
      } else if (!success && this.left[g] > 0) continue;
      const cell = archive.select(s.seed ^ SELECT_SALT, g, this.tick, 0);
      if (!cell) {
        if (done) {
          packRow(b, L, g, row, 0);
          this.beginFresh(g, row);
        }
        continue;
      }
      restoreIds.push(g);
      restoreRows.push(cell.row);
      this.starts[g] = cell.start;
      this.paths[g].set(cell.actions);
      this.lens[g] = cell.steps;
      this.left[g] = s.exploreSteps;
      this.origin[g] = cell.key;
    }
    if (restoreIds.length) {
      const rows = new Float32Array(restoreIds.length * W);
      restoreRows.forEach((r, k) => rows.set(r, k * W));
      env.setState(rows, restoreIds);
    }
    this.tick++;
  }

  /** Frees the env. */
  close(): Promise<void> {
    return this.env.close();
  }

  /** Makes env g's current state (its snapshot row [W]) the start of a new path. */
  private beginFresh(g: number, row: Float32Array): void {
    this.starts[g] = row.slice();
    const G = this.env.goalDim, b = this.env.batch;
    if (goalReached(b.achievedGoal, g * G, b.desiredGoal, g * G, G, this.env.task.distanceThreshold)) this.solvedStarts.add(this.starts[g]);
    this.lens[g] = 0;
    this.left[g] = this.settings.exploreSteps;
    this.origin[g] = null;
  }

  /** Reports the state env g reached (its snapshot row [W]; final views when the episode ended) to the archive. */
  private report(g: number, row: Float32Array, done: boolean, success = false): void {
    const { env, archive } = this;
    const b = env.batch, L = env.stateLayout.fields, G = env.goalDim;
    const achieved = done ? b.finalAchievedGoal : b.achievedGoal, desired = done ? b.finalDesiredGoal : b.desiredGoal;
    const fp = L.fingerPos[0], ft = L.fingerTarget[0];
    const opening = row[fp] + row[fp + 1];
    const closed = !env.task.scene.blockGripper && opening > SQUEEZE && row[ft] + row[ft + 1] < opening - SQUEEZE ? 1 : 0;
    const stage = row[L.stage[0]];
    const key = cellKey(this.settings.cellSpec, achieved, g * G, desired, g * G, G, row, L.bodyPose[0], stage, closed);
    const steps = row[L.episodeStep[0]];
    const actions = this.paths[g].subarray(0, Math.min(steps, this.lens[g]) * this.A);
    const res = archive.visit({ key, stage, row, steps, score: row[L.episodeReturn[0]], success, start: this.starts[g], actions }, this.envSteps);
    if (res !== 'seen' && this.origin[g] !== null) {
      const from = archive.cells.get(this.origin[g]!);
      if (from) from.chosenSinceNew = 0;
    }
    // An episode that starts solved teaches nothing: its trajectory is not kept.
    if (success && !this.solvedStarts.has(this.starts[g])) {
      const st = this.starts[g];
      const episode = `${st[L.episodeIndex[0]]}:${Array.from(st.subarray(L.desiredGoal[0], L.desiredGoal[0] + L.desiredGoal[1]), (x) => x.toFixed(4)).join(',')}`;
      archive.addSuccess({ start: st, actions, steps, episode });
    }
  }
}
