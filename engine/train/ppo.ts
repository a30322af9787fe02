/**
 * PPO on a cairn vector env (cleanrl's ppo_continuous_action, batched): collect T steps of N envs with
 * the policy backend, bootstrap truncated episodes from the value of `finalObs`, GAE(λ), then several
 * epochs of shuffled minibatch updates (clipped surrogate, clipped value loss, entropy, Adam with global
 * gradient-norm clipping, linear learning-rate annealing), with running observation normalization.
 */
import type { StepResult, VecEnv } from '../env.ts';
import type { ShapingMode } from '../shaping/spec.ts';
import type { TaskPpoDefaults } from '../../tasks/task.ts';
import { counterUniform } from '../rng.ts';
import { DEFAULT_PPO_HYPERPARAMS, type PolicyBackend, type PpoHyperparams, type PpoStats } from '../nn/backend.ts';
import { computeGae } from './gae.ts';
import { RunningNormalizer } from '../nn/normalizer.ts';
import { policyInputDim, writePolicyInput } from '../nn/policy-input.ts';
import { createMinibatch, RolloutStorage } from './rollout-storage.ts';

/** PPO settings (defaults tuned for the Fetch-style tasks at N = 1024 on a CPU). */
export interface PpoConfig {
  /** Steps per env per iteration, T. */
  numSteps: number;
  /** Discount γ, the one γ of a run: the trainer sets the env's shaping γ to it (PBRS keeps the optimal policy only then). */
  gamma: number;
  /** GAE λ. */
  gaeLambda: number;
  /** Minibatches per epoch. */
  numMinibatches: number;
  /** Passes over the rollout per iteration. */
  updateEpochs: number;
  /** Anneal the learning rate linearly to 0 over the run. */
  annealLr: boolean;
  /** Multiplies the learner's reward before GAE (0.02 = 1 − γ keeps returns within [−1, 0], so the value loss does not swamp the global gradient-norm clip). */
  rewardScale: number;
  /** Normalize observations with running statistics. */
  normObs: boolean;
  /** The env's 'action' penalty term (engine/penalties.ts), set by the trainer: cost per step of Σ_j a_j² of the raw sampled action; 0 = off. */
  actionPenalty: number;
  /**
   * The env's 'bound' penalty term (engine/penalties.ts), set by the trainer: cost per step of Σ_j max(|a_j| − 1, 0)²
   * of the raw sampled action. The env clips actions to [−1, 1], so once the Gaussian mean drifts past ±1 every
   * sample acts the same, the policy gradient on the mean vanishes and nothing pulls it back (the gripper then rams
   * the workspace edge). Costing only the part beyond the clip restores that pull without shrinking exploration
   * inside the box; 0 = off.
   */
  boundPenalty: number;
  /**
   * Which reward the critic learns: 'shaped' (the reward the policy gets) or 'task' (the env's own reward, before
   * shaping). With 'task' the policy's advantages are GAE of the shaped reward over the task critic: under PBRS a
   * critic of the shaped reward converges to V − Φ, which cancels F from every advantage (PBRS acts only as a
   * value initialization), while over the task critic the advantage keeps Σ (γλ)^k F_{t+k}, a bias toward rising Φ
   * that vanishes as λ → 1. 'auto' is 'task' in shaping mode pbrs and 'shaped' in every other mode.
   */
  criticReward: CriticReward | 'auto';
  /**
   * Append the one-hot [K + 1] of the latched subgoal stage to the policy input (Words as Beacons; engine/nn/policy-input.ts):
   * the policy and critic see which subgoal they are on. Checkpoints record it, and evaluation builds the same input.
   */
  stageInObs: boolean;
  /** Per-step PPO hyperparameters. */
  hp: PpoHyperparams;
}

/** The rewards a critic can learn. */
export const CRITIC_REWARDS = ['shaped', 'task'] as const;
export type CriticReward = (typeof CRITIC_REWARDS)[number];

export const DEFAULT_PPO_CONFIG: Readonly<PpoConfig> = Object.freeze({
  numSteps: 16,
  gamma: 0.98,
  gaeLambda: 0.9,
  numMinibatches: 4,
  updateEpochs: 4,
  annealLr: true,
  rewardScale: 0.02,
  normObs: true,
  actionPenalty: 0,
  boundPenalty: 1,
  criticReward: 'auto',
  stageInObs: false,
  hp: { ...DEFAULT_PPO_HYPERPARAMS, lr: 1e-3, entCoef: 0 },
});

/** The PPO config a task's runs start from: DEFAULT_PPO_CONFIG under the task's ppoDefaults (lr and entCoef go into hp). */
export function taskPpoConfig(defaults: Readonly<TaskPpoDefaults> = {}): PpoConfig {
  const { lr, entCoef, ...top } = defaults;
  return { ...DEFAULT_PPO_CONFIG, ...top, hp: { ...DEFAULT_PPO_CONFIG.hp, ...(lr !== undefined && { lr }), ...(entCoef !== undefined && { entCoef }) } };
}

/** The critic's reward for a configured choice under a shaping mode ('auto': 'task' for pbrs, else 'shaped'). */
export function resolveCriticReward(choice: CriticReward | 'auto', mode: ShapingMode): CriticReward {
  return choice === 'auto' ? (mode === 'pbrs' ? 'task' : 'shaped') : choice;
}

/** Checks a config and returns it; names the bad field. */
export function validatePpoConfig(c: PpoConfig): PpoConfig {
  const posInt = (k: 'numSteps' | 'numMinibatches' | 'updateEpochs') => {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`ppo.${k} must be a positive integer, got ${c[k]}`);
  };
  posInt('numSteps'); posInt('numMinibatches'); posInt('updateEpochs');
  if (!(c.gamma > 0 && c.gamma <= 1)) throw new Error(`ppo.gamma must be in (0, 1], got ${c.gamma}`);
  if (!(c.gaeLambda >= 0 && c.gaeLambda <= 1)) throw new Error(`ppo.gaeLambda must be in [0, 1], got ${c.gaeLambda}`);
  if (!(Number.isFinite(c.rewardScale) && c.rewardScale > 0)) throw new Error(`ppo.rewardScale must be a positive number, got ${c.rewardScale}`);
  if (!(Number.isFinite(c.actionPenalty) && c.actionPenalty >= 0)) throw new Error(`ppo.actionPenalty must be a number ≥ 0, got ${c.actionPenalty}`);
  if (!(Number.isFinite(c.boundPenalty) && c.boundPenalty >= 0)) throw new Error(`ppo.boundPenalty must be a number ≥ 0, got ${c.boundPenalty}`);
  if (typeof c.stageInObs !== 'boolean') throw new Error(`ppo.stageInObs must be a boolean, got ${JSON.stringify(c.stageInObs)}`);
  if (c.criticReward !== 'auto' && !CRITIC_REWARDS.includes(c.criticReward)) throw new Error(`ppo.criticReward must be auto, ${CRITIC_REWARDS.join(' or ')}, got ${JSON.stringify(c.criticReward)}`);
  return c;
}

/** What one iteration measured. */
export interface IterationMetrics {
  iteration: number;
  envSteps: number;
  /** Env-steps/s of the whole iteration (collection and update). */
  sps: number;
  collectSeconds: number;
  updateSeconds: number;
  /** Seconds inside env.step during collection. */
  envSeconds: number;
  /** Seconds inside the network (act, values, ppoStep). */
  networkSeconds: number;
  lr: number;
  /** Episodes finished during the iteration. */
  episodes: number;
  /** Fraction of those whose last state was a success (NaN when none). */
  successRate: number;
  /** Mean sparse return of those episodes. */
  sparseReturn: number;
  /** Mean length of those episodes, control steps (NaN when none finished). */
  episodeLength: number;
  /** Mean shaped return of those episodes. */
  shapedReturn: number;
  /** Fraction of those episodes that reached each subgoal stage. */
  stageReached: number[];
  /** Mean per-term sums of those episodes (sparse, dense, pbrs, bonus, gated). */
  terms: Record<string, number>;
  loss: PpoStats;
  /** With demonstration starts (train --starts): the start's steps back from success, and the demo-started episodes of the iteration. */
  starts?: { back: number; demoEpisodes: number; demoSuccessRate: number };
}

/** Deterministic Fisher-Yates permutation of [0, n) for (seed, iteration, epoch). */
export function shuffledIndices(n: number, seed: number, iteration: number, epoch: number, out: Uint32Array): Uint32Array {
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(counterUniform(seed ^ 0x7f4a7c15, iteration, epoch, i) * (i + 1));
    const t = out[i]; out[i] = out[j]; out[j] = t;
  }
  return out;
}

export class PpoTrainer {
  readonly env: VecEnv;
  readonly backend: PolicyBackend;
  readonly config: PpoConfig;
  readonly normalizer: RunningNormalizer;
  readonly seed: number;
  readonly totalIterations: number;
  iteration = 0;
  envSteps = 0;
  private readonly storage: RolloutStorage;
  private readonly mb: ReturnType<typeof createMinibatch>;
  private readonly perm: Uint32Array;
  /** Width of the policy input: observation then desired goal. */
  readonly inputDim: number;
  private readonly rawInput: Float32Array;
  private readonly normObs: Float32Array;
  private readonly finalValues: Float32Array;
  private readonly nextValue: Float32Array;
  private readonly lr0: number;
  /** The env's views after the last reset or step (null before the first iteration resets it). */
  private last: StepResult | null = null;
  /** Called right after every env.step of a rollout (e.g. to restart finished episodes from chosen states). */
  onStep: ((env: VecEnv) => void) | null = null;

  /**
   * The env and backend are owned by the caller; totalSteps fixes the annealing schedule. The config is the one source
   * of the run's γ and penalties: the trainer sets the env's shaping γ and penalty terms from it.
   */
  constructor(env: VecEnv, backend: PolicyBackend, config: PpoConfig, seed: number, totalSteps: number) {
    this.config = validatePpoConfig(config);
    const inDim = policyInputDim(env, config.stageInObs);
    if (backend.obsDim !== inDim || backend.actDim !== env.actDim) throw new Error(`ppo: backend is ${backend.obsDim}→${backend.actDim}, the env's policy input is ${inDim}→${env.actDim}`);
    env.setShaping({ gamma: config.gamma });
    env.setPenalties({ action: config.actionPenalty, bound: config.boundPenalty });
    this.env = env;
    this.backend = backend;
    this.seed = seed;
    const N = env.numEnvs, T = config.numSteps;
    this.totalIterations = Math.max(1, Math.ceil(totalSteps / (N * T)));
    this.inputDim = inDim;
    this.normalizer = new RunningNormalizer(inDim);
    this.storage = new RolloutStorage(T, N, inDim, env.actDim);
    const mbSize = Math.ceil((T * N) / config.numMinibatches);
    this.mb = createMinibatch(mbSize, inDim, env.actDim);
    this.perm = new Uint32Array(T * N);
    this.rawInput = new Float32Array(N * inDim);
    this.normObs = new Float32Array(N * inDim);
    this.finalValues = new Float32Array(N);
    this.nextValue = new Float32Array(N);
    this.lr0 = config.hp.lr;
  }

  /** The last iteration's rollout [T, N] (observations, actions, learner rewards, flags, values, advantages, returns), read-only. */
  get rollout(): Readonly<RolloutStorage> {
    return this.storage;
  }

  /** [N] value estimates of the observations after the last rollout step (GAE's bootstrap), read-only. */
  get bootstrapValues(): Readonly<Float32Array> {
    return this.nextValue;
  }

  /** Rows of one minibatch. */
  get minibatchSize(): number {
    return this.mb.obs.length / this.inputDim;
  }

  /** Builds policy inputs [N, inputDim] from obs, desired goals and stages, optionally updates the statistics, and normalizes into out. */
  private prepareInput(obs: Float32Array, goal: Float32Array, stage: Int32Array, update: boolean, out: Float32Array): void {
    const { env } = this;
    writePolicyInput(obs, goal, env.numEnvs, env.obsDim, env.goalDim, this.rawInput, this.config.stageInObs ? { values: stage, numStages: env.stageNames.length } : undefined);
    if (!this.config.normObs) {
      out.set(this.rawInput);
      return;
    }
    if (update) this.normalizer.update(this.rawInput, this.env.numEnvs);
    this.normalizer.normalize(this.rawInput, this.env.numEnvs, out);
  }

  /** Collects one rollout and updates the networks; returns the iteration's metrics. */
  async runIteration(): Promise<IterationMetrics> {
    const { env, backend, config, storage: st } = this;
    const N = env.numEnvs, O = this.inputDim, A = env.actDim, T = config.numSteps;
    const tStart = performance.now();
    let envMs = 0, netMs = 0;
    let r = this.last ?? env.reset();
    const lr = config.annealLr ? this.lr0 * (1 - this.iteration / this.totalIterations) : this.lr0;
    env.takeEpisodeStats();
    const progressMode = env.shaping.mode === 'progress';
    for (let t = 0; t < T; t++) {
      const obsT = st.obs.subarray(t * N * O, (t + 1) * N * O);
      this.prepareInput(r.obs, r.desiredGoal, r.stage, true, obsT);
      const t0 = performance.now();
      await backend.act(obsT, N, { step: (this.iteration * T + t) >>> 0, seed: this.seed }, {
        action: st.actions.subarray(t * N * A, (t + 1) * N * A), logProb: st.logProbs.subarray(t * N, (t + 1) * N), value: st.values.subarray(t * N, (t + 1) * N),
      });
      const t1 = performance.now();
      r = env.step(st.actions.subarray(t * N * A, (t + 1) * N * A));
      this.onStep?.(env);
      const t2 = performance.now();
      envMs += t2 - t1;
      netMs += t1 - t0;
      let anyTrunc = false;
      for (let i = 0; i < N; i++) {
        const k = t * N + i;
        // The learner's reward: the env's (shaped) reward less its penalty terms, in f64 before the scale. The task
        // critic's reward keeps the penalties on the task, not those that are shares of the progress term (mode 'progress').
        const penalty = r.penalties[3 * i] + r.penalties[3 * i + 1] + r.penalties[3 * i + 2];
        st.rewards[k] = (r.shapedReward[i] - penalty) * config.rewardScale;
        st.taskRewards[k] = (r.reward[i] - (progressMode ? r.penalties[3 * i + 2] : penalty)) * config.rewardScale;
        st.terminated[k] = r.terminated[i];
        st.truncated[k] = r.truncated[i];
        st.truncValues[k] = 0;
        if (r.truncated[i] && !r.terminated[i]) anyTrunc = true;
      }
      if (anyTrunc) {
        // Time-limit bootstrap: V(finalObs) for the truncated envs (Fetch episodes only end this way).
        this.prepareInput(r.finalObs, r.finalDesiredGoal, r.finalStage, false, this.normObs);
        const t3 = performance.now();
        await backend.value(this.normObs, N, this.finalValues);
        netMs += performance.now() - t3;
        for (let i = 0; i < N; i++) if (r.truncated[i] && !r.terminated[i]) st.truncValues[t * N + i] = this.finalValues[i];
      }
    }
    this.last = r;
    this.prepareInput(r.obs, r.desiredGoal, r.stage, false, this.normObs);
    const t4 = performance.now();
    await backend.value(this.normObs, N, this.nextValue);
    netMs += performance.now() - t4;
    const gae = (rewards: Float32Array, out: { advantages: Float32Array; returns: Float32Array }) => computeGae({
      numSteps: T, numEnvs: N, rewards, values: st.values, terminated: st.terminated, truncated: st.truncated, truncValue: st.truncValues,
      nextValue: this.nextValue, gamma: config.gamma, lambda: config.gaeLambda,
    }, out);
    if (resolveCriticReward(config.criticReward, env.shaping.mode) === 'task') {
      // Returns (the critic's targets) from the task reward; the policy's advantages from the shaped reward.
      gae(st.taskRewards, { advantages: st.scratch, returns: st.returns });
      gae(st.rewards, { advantages: st.advantages, returns: st.scratch });
    } else gae(st.rewards, st);
    const tCollected = performance.now();
    // UPDATE
    const hp: PpoHyperparams = { ...config.hp, lr };
    const rows = T * N, mbSize = this.minibatchSize;
    const sums = { loss: 0, pgLoss: 0, vLoss: 0, entropy: 0, approxKl: 0, clipFrac: 0, gradNorm: 0 };
    let updates = 0;
    for (let epoch = 0; epoch < config.updateEpochs; epoch++) {
      shuffledIndices(rows, this.seed, this.iteration, epoch, this.perm);
      for (let from = 0; from < rows; from += mbSize) {
        st.gather(this.perm, from, Math.min(rows, from + mbSize), this.mb);
        const s = await backend.ppoStep(this.mb, hp);
        for (const k of Object.keys(sums) as (keyof typeof sums)[]) sums[k] += s[k];
        updates++;
      }
    }
    const tEnd = performance.now();
    netMs += tEnd - tCollected;
    for (const k of Object.keys(sums) as (keyof typeof sums)[]) sums[k] /= updates;
    const ep = env.takeEpisodeSummary();
    this.iteration++;
    this.envSteps += rows;
    return {
      iteration: this.iteration, envSteps: this.envSteps, sps: rows / ((tEnd - tStart) / 1000), collectSeconds: (tCollected - tStart) / 1000,
      updateSeconds: (tEnd - tCollected) / 1000, envSeconds: envMs / 1000, networkSeconds: netMs / 1000, lr, episodes: ep.episodes,
      successRate: ep.successRate, sparseReturn: ep.meanReturn, shapedReturn: ep.meanShapedReturn, episodeLength: ep.meanLength, stageReached: ep.stageReached, terms: ep.meanTerms, loss: sums,
    };
  }

  /** Tells the trainer the env was already reset by the caller (a resumed run restarts episodes itself), with the views that reset returned. */
  markStarted(r: StepResult): void {
    this.last = r;
  }

  /** Restores the counters of a checkpoint (the trainer resumes at an iteration boundary). */
  restoreCounters(iteration: number, envSteps: number): void {
    this.iteration = iteration;
    this.envSteps = envSteps;
  }
}
