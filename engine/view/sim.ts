/**
 * The view's simulation: a vector env of the real engine (makeEnv, Rapier WASM in the tab's main thread,
 * numWorkers = 1), an action source (scripted, random, or a loaded checkpoint's network: engine/view/policy.ts),
 * the finished-episode tracker and each env's stage target, stepped by the page's frame loop.
 */
import { makeEnv, type StepResult, type VecEnv } from '../env.ts';
import { randomSource, scriptedSource, type ActionSource } from '../rollout.ts';
import type { ShapingMode } from '../shaping/spec.ts';
import { EpisodeTracker } from './episode-tracker.ts';
import { policyActionSource, type LoadedPolicy } from './policy.ts';
import type { SceneFrame } from './scene.ts';
import { SubgoalTargets } from './subgoal-targets.ts';

/** Where a ViewSim's actions come from: a built-in source or the loaded checkpoint's network. */
export type ActionKind = 'random' | 'scripted' | 'policy';

/** Options of ViewSim.create. */
export interface ViewSimOptions {
  task: string;
  numEnvs: number;
  seed: number;
  policy: ActionKind;
  /** The checkpoint policy; needed when policy is 'policy'. The sim does not own it (the page destroys it). */
  loaded?: LoadedPolicy | null;
  shaping: ShapingMode;
  /** A subgoal spec replacing the task's own (a checkpoint's: its stages make the stage one-hot of stageInObs). */
  subgoals?: unknown;
}

export class ViewSim {
  readonly env: VecEnv;
  readonly tracker: EpisodeTracker;
  /** Stage targets of the spec the env shapes with. */
  readonly targets: SubgoalTargets;
  /** Stage count K. */
  readonly numStages: number;
  readonly stageNames: readonly string[];
  /** [N, 3] target of each env's current stage (env-local metres). */
  readonly stageTargets: Float32Array;
  /** [K + 1] envs per current stage, after the last update. */
  readonly stageCounts: Int32Array;
  /** [K + 1] finished episodes by the highest stage they latched (from the env's shaping statistics). */
  readonly maxStageCounts: Float64Array;
  /** The subgoal spec the sim was created with, as JSON ('null': the task's own). */
  readonly subgoalsKey: string;
  /** Control steps since the last reset. */
  steps = 0;
  private source: ActionSource;
  /** The kind of `source` (its name is the rollout's, e.g. 'mlp (mean action)' for a checkpoint's network). */
  private kind: ActionKind;
  private readonly actions: Float32Array;
  private readonly seed: number;
  private last: StepResult;

  private constructor(env: VecEnv, opts: ViewSimOptions) {
    this.env = env;
    this.seed = opts.seed;
    this.subgoalsKey = JSON.stringify(opts.subgoals ?? null);
    this.actions = new Float32Array(env.numEnvs * env.actDim);
    this.tracker = new EpisodeTracker(env.numEnvs, Math.max(100, env.numEnvs));
    this.targets = new SubgoalTargets(env.subgoals, env.task.pointNames);
    this.numStages = this.targets.numStages;
    this.stageNames = this.targets.stageNames;
    this.stageTargets = new Float32Array(env.numEnvs * 3);
    this.stageCounts = new Int32Array(this.numStages + 1);
    this.maxStageCounts = new Float64Array(this.numStages + 1);
    this.source = this.makeSource(opts.policy, opts.loaded ?? null);
    this.kind = opts.policy;
    env.setShaping({ mode: opts.shaping });
    this.last = env.reset({ seed: opts.seed });
    this.updateTargets();
  }

  /** Creates the env (one thread: the view steps a few envs per frame, too few to pay for workers) and resets it with the seed. */
  static async create(opts: ViewSimOptions): Promise<ViewSim> {
    const env = await makeEnv(opts.task, { numEnvs: opts.numEnvs, seed: opts.seed, numWorkers: 1, subgoals: opts.subgoals });
    try {
      return new ViewSim(env, opts);
    } catch (e) {
      await env.close();
      throw e;
    }
  }

  /** Where the actions come from now. */
  get policy(): ActionKind {
    return this.kind;
  }

  private makeSource(kind: ActionKind, loaded: LoadedPolicy | null): ActionSource {
    if (kind === 'policy') {
      if (!loaded) throw new Error('view: the policy action source needs a loaded checkpoint');
      return policyActionSource(loaded, this.env);
    }
    return kind === 'random' ? randomSource(this.seed) : scriptedSource(this.env);
  }

  /** Switches the action source between steps ('policy' needs the loaded checkpoint). */
  setPolicy(kind: ActionKind, loaded: LoadedPolicy | null = null): void {
    this.source = this.makeSource(kind, loaded);
    this.kind = kind;
  }

  /** The shaping mode the env reports it shapes with. */
  get shaping(): ShapingMode {
    return this.env.shaping.mode;
  }

  /** Switches the env's shaping mode between steps. */
  setShaping(mode: ShapingMode): void {
    this.env.setShaping({ mode });
  }

  /** One control step of every env: act, step, record finished episodes, recompute stage targets. */
  async step(): Promise<void> {
    const pending = this.source.act(this.last, this.env, this.steps, this.actions);
    if (pending) await pending;
    const r = this.env.step(this.actions);
    this.last = r;
    this.steps++;
    this.tracker.record({
      reward: r.reward, shapedReward: this.env.batch.shapedReward, success: r.success, terminated: r.terminated, truncated: r.truncated,
    });
    this.updateTargets();
  }

  /**
   * Adds the env's finished-episode stage histogram since the last call to maxStageCounts (the env's
   * statistics are taken, i.e. cleared: the view must be their only reader).
   */
  collectStageStats(): void {
    const h = this.env.takeEpisodeStats().maxStageCounts;
    for (let k = 0; k < Math.min(h.length, this.maxStageCounts.length); k++) this.maxStageCounts[k] += h[k];
  }

  /** Starts new episodes everywhere with the seed and forgets the statistics. */
  reset(): void {
    this.last = this.env.reset({ seed: this.seed });
    this.steps = 0;
    this.tracker.clear();
    this.env.takeEpisodeStats(); // discards the statistics of the episodes so far
    this.maxStageCounts.fill(0);
    this.updateTargets();
  }

  /** What the scene draws: views of the batch (valid for the sim's life) and of the stage targets. */
  frame(): SceneFrame {
    const b = this.env.batch;
    return {
      bodyPose: b.bodyPose, fingerPos: b.fingerPos, desiredGoal: b.desiredGoal, achievedGoal: b.achievedGoal, sceneParams: b.sceneParams,
      stageTargets: this.stageTargets, stage: b.stage,
    };
  }

  private updateTargets(): void {
    const b = this.env.batch, N = this.env.numEnvs;
    this.targets.compute(b.points, b.stage, N, this.stageTargets);
    this.stageCounts.fill(0);
    const K = this.numStages;
    for (let i = 0; i < N; i++) {
      const k = b.stage[i];
      this.stageCounts[k < 0 ? 0 : k > K ? K : k]++;
    }
  }

  /** Frees the env's WASM objects; MUST be called before the sim is dropped. */
  close(): Promise<void> {
    return this.env.close();
  }
}
