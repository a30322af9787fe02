/**
 * The view's simulation: a vector env of the real engine (makeEnv, Rapier WASM in the tab's main thread,
 * numWorkers = 1), an action source (scripted, random, or a loaded checkpoint's network: engine/view/policy.ts),
 * the finished-episode tracker and each env's stage target, stepped by the page's frame loop.
 */
import { makeEnv, type StepResult, type VecEnv } from '../env.ts';
import { randomSource, scriptedSource, type ActionSource } from '../rollout.ts';
import { DEFAULT_SUBGOALS } from '../shaping/specs.ts';
import type { ShapingConfig, ShapingMode, SubgoalSpec } from '../shaping/spec.ts';
import type { EpisodeStats } from '../shaping/stats.ts';
import { EpisodeTracker } from './episode-tracker.ts';
import { policyActionSource, type LoadedPolicy } from './policy.ts';
import { SubgoalTargets } from './subgoal-targets.ts';

/**
 * What the view uses of an env's shaping (engine/env.ts: setShaping, subgoals, takeEpisodeStats), looked up
 * at run time so that the page also runs on an engine build without shaping (then the mode selector is
 * disabled, stages stay 0 and the task's default spec only places the markers).
 */
interface ShapingEnv {
  setShaping(config: Partial<ShapingConfig>): void;
  readonly shaping?: ShapingConfig;
  readonly subgoals?: SubgoalSpec;
  takeEpisodeStats?(): EpisodeStats;
}

function shapingEnv(env: VecEnv): ShapingEnv | null {
  const e = env as unknown as Partial<ShapingEnv>;
  return typeof e.setShaping === 'function' ? (e as ShapingEnv) : null;
}

/** The spec the env shapes with, else the task's own default spec, else null (no stage markers). */
function specOf(env: VecEnv): SubgoalSpec | null {
  return shapingEnv(env)?.subgoals ?? env.task.subgoals ?? DEFAULT_SUBGOALS[env.task.name]?.spec ?? null;
}

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
}

export class ViewSim {
  readonly env: VecEnv;
  readonly tracker: EpisodeTracker;
  /** Stage targets of the task's spec, or null when it has none. */
  readonly targets: SubgoalTargets | null;
  /** Stage count K (0 without a spec). */
  readonly numStages: number;
  readonly stageNames: readonly string[];
  /** [N, 3] target of each env's current stage (env-local metres); the desired goal without a spec. */
  readonly stageTargets: Float32Array;
  /** [K + 1] envs per current stage, after the last update. */
  readonly stageCounts: Int32Array;
  /** [K + 1] finished episodes by the highest stage they latched (from the env's shaping statistics). */
  readonly maxStageCounts: Float64Array;
  /** Whether the env takes a shaping mode (setShaping); otherwise the mode is shown but not applied. */
  readonly shapingSupported: boolean;
  /** The shaping mode asked for (applied only when shapingSupported). */
  shaping: ShapingMode;
  /** Control steps since the last reset. */
  steps = 0;
  /** Seconds spent in act + step + bookkeeping, summed (for steps/s). */
  simSeconds = 0;
  private source: ActionSource;
  private readonly actions: Float32Array;
  private readonly seed: number;
  private last: StepResult;

  private constructor(env: VecEnv, opts: ViewSimOptions) {
    this.env = env;
    this.seed = opts.seed;
    this.actions = new Float32Array(env.numEnvs * env.actDim);
    this.tracker = new EpisodeTracker(env.numEnvs, Math.max(100, env.numEnvs));
    const spec = specOf(env);
    this.targets = spec ? new SubgoalTargets(spec, env.task.pointNames) : null;
    this.numStages = this.targets?.numStages ?? 0;
    this.stageNames = this.targets?.stageNames ?? [];
    this.stageTargets = new Float32Array(env.numEnvs * 3);
    this.stageCounts = new Int32Array(this.numStages + 1);
    this.maxStageCounts = new Float64Array(this.numStages + 1);
    this.shapingSupported = shapingEnv(env) !== null;
    this.shaping = opts.shaping;
    this.source = this.makeSource(opts.policy, opts.loaded ?? null);
    if (this.shapingSupported) shapingEnv(env)!.setShaping({ mode: opts.shaping });
    this.last = env.reset({ seed: opts.seed });
    this.updateTargets();
  }

  /** Creates the env (one thread: the browser has no worker_threads) and resets it with the seed. */
  static async create(opts: ViewSimOptions): Promise<ViewSim> {
    const env = await makeEnv(opts.task, { numEnvs: opts.numEnvs, seed: opts.seed, numWorkers: 1 });
    try {
      return new ViewSim(env, opts);
    } catch (e) {
      await env.close();
      throw e;
    }
  }

  get policy(): ActionKind {
    return this.source.name as ActionKind;
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
  }

  /** The mode the env reports it shapes with, or null without shaping. */
  get shapingInEffect(): ShapingMode | null {
    return shapingEnv(this.env)?.shaping?.mode ?? null;
  }

  /** Switches the shaping mode; returns false (and only records the choice) when the env has no shaping. */
  setShaping(mode: ShapingMode): boolean {
    this.shaping = mode;
    const e = shapingEnv(this.env);
    if (!e) return false;
    e.setShaping({ mode });
    return true;
  }

  /** One control step of every env: act, step, record finished episodes, recompute stage targets. */
  async step(): Promise<void> {
    const t0 = performance.now();
    const pending = this.source.act(this.last, this.env, this.steps, this.actions);
    if (pending) await pending;
    const r = this.env.step(this.actions);
    this.last = r;
    this.steps++;
    this.tracker.record({
      reward: r.reward, shapedReward: this.shapingSupported ? this.env.batch.shapedReward : null, success: r.success, terminated: r.terminated, truncated: r.truncated,
    });
    this.updateTargets();
    this.simSeconds += (performance.now() - t0) / 1000;
  }

  /**
   * Adds the env's finished-episode stage histogram since the last call to maxStageCounts (the env's
   * statistics are taken, i.e. cleared: the view must be their only reader).
   */
  collectStageStats(): void {
    const e = shapingEnv(this.env);
    if (!e?.takeEpisodeStats) return;
    const h = e.takeEpisodeStats().maxStageCounts;
    for (let k = 0; k < Math.min(h.length, this.maxStageCounts.length); k++) this.maxStageCounts[k] += h[k];
  }

  /** Starts new episodes everywhere with the seed and forgets the statistics. */
  reset(): void {
    this.last = this.env.reset({ seed: this.seed });
    this.steps = 0;
    this.simSeconds = 0;
    this.tracker.clear();
    shapingEnv(this.env)?.takeEpisodeStats?.();
    this.maxStageCounts.fill(0);
    this.updateTargets();
  }

  /** The views of the last reset or step. */
  get result(): StepResult {
    return this.last;
  }

  private updateTargets(): void {
    const b = this.env.batch, N = this.env.numEnvs;
    if (this.targets) this.targets.compute(b.points, b.stage, N, this.stageTargets);
    else this.stageTargets.set(b.desiredGoal.subarray(0, 3 * N));
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
