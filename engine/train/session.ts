/**
 * The platform-neutral core of a training run: checked options, the vector env, the policy backend and the PPO
 * trainer built from them, the fresh-run initialization, the checkpoint contents and the final evaluation. No Node
 * imports: `trainRun` (engine/train/run.ts) adds the run directory around it in Node, and the view's training
 * worker (engine/view/train-worker.ts) runs the same session in a browser tab.
 */
import { makeEnv, MAX_ENVS, type VecEnv } from '../env.ts';
import { checkIntIn, checkNumberIn } from '../numeric.ts';
import type { DomainRandomization } from '../domain-randomization.ts';
import { getTask } from '../../tasks/registry.ts';
import type { ShapingMode } from '../shaping/spec.ts';
import { validateHyperparams, type PolicyBackend, type PpoHyperparams } from '../nn/backend.ts';
import { encodeCheckpoint, type CheckpointArrays, type CheckpointManifest } from './checkpoint.ts';
import { evalSeed, evaluatePolicy, type EvalResult } from './evaluate.ts';
import { PpoTrainer, taskPpoConfig, validatePpoConfig, type PpoConfig } from './ppo.ts';
import { policyInputDim } from '../nn/policy-input.ts';
import { createBackend, type BackendKind } from '../nn/select-backend.ts';
import { paramLayout } from '../nn/param-layout.ts';
import { VALUE_OUT_GAIN } from '../nn/init.ts';

/** What a training session needs: the task, reward, envs, budget, network and PPO settings. */
export interface TrainSessionOptions {
  task: string;
  shaping: ShapingMode;
  /** Shaping weight w (Φ scale). */
  shapingWeight: number;
  numEnvs: number;
  numWorkers: number;
  /** Env steps to train for (rounded up to whole iterations). */
  totalSteps: number;
  seed: number;
  backend: BackendKind;
  /** Threads of the WASM backend: > 1 splits every batch across worker threads (ParallelWasmBackend); default 1. */
  threads?: number;
  hidden: number[];
  ppo: Partial<Omit<PpoConfig, 'hp'>> & { hp?: Partial<PpoHyperparams> };
  /** Episodes of the final evaluation (sizes the backend's batch). */
  evalEpisodes: number;
  /** A subgoal spec (JSON) replacing the task's own. */
  subgoals?: unknown;
  /** Domain-randomization ranges of the training envs (engine/domain-randomization.ts); evaluation runs without them. */
  domainRandomization?: DomainRandomization;
  /** Training episodes end where an object falls off the table (EnvOptions.terminateOnInfraction, CaRL); evaluation runs to the time limit. */
  terminateOnInfraction?: boolean;
  /** Gain of the value output layer's orthogonal init (cleanrl: 1); ignored on resume. */
  valueOutGain?: number;
  /** Initial log standard deviation of the policy (cleanrl: 0); ignored on resume. */
  initLogStd?: number;
}

/** Shaping weight w of a run when none is given (`cairn train --weight`, the view's training panel; Φ in [0, w·K]); 20 gave Push with PBRS ≥ 90% in 5M steps (README, Learning). */
export const DEFAULT_TRAIN_WEIGHT = 20;

/** Parses hidden widths like "64,64"; throws on anything but positive integers up to 4096. */
export function parseHidden(text: string): number[] {
  const hidden = text.split(',').map(Number);
  if (!text || !hidden.every((h) => Number.isInteger(h) && h > 0 && h <= 4096)) throw new Error(`--hidden must be comma-separated positive widths, got '${text}'`);
  return hidden;
}

/** Range of --init-log-std: σ from e^-5 ≈ 0.007 to e^2 ≈ 7.4 (actions are clipped to [-1, 1]). */
export const INIT_LOG_STD_RANGE: readonly [number, number] = [-5, 2];

/** The PPO config of the options (defaults, then the task's, then the options'), checked with every other option no deeper module checks; names the bad field. */
export function resolveSessionConfig(o: TrainSessionOptions): PpoConfig {
  if (!o || typeof o !== 'object') throw new Error(`train: options must be an object, got ${o === null ? 'null' : typeof o}`);
  const base = taskPpoConfig(getTask(o.task).ppoDefaults);
  const cfg = validatePpoConfig({ ...base, ...o.ppo, hp: { ...base.hp, ...o.ppo?.hp } });
  validateHyperparams(cfg.hp);
  checkNumberIn('train: totalSteps', o.totalSteps, 1, 1e13);
  checkIntIn('train: numEnvs', o.numEnvs, 1, MAX_ENVS);
  checkIntIn('train: evalEpisodes', o.evalEpisodes, 1, 1e6);
  if (o.threads !== undefined) checkIntIn('train: threads', o.threads, 1, 256);
  if (o.initLogStd !== undefined) checkNumberIn('train: initLogStd', o.initLogStd, INIT_LOG_STD_RANGE[0], INIT_LOG_STD_RANGE[1]);
  if (o.valueOutGain !== undefined) checkNumberIn('train: valueOutGain', o.valueOutGain, 1e-6, 100);
  if (cfg.numMinibatches > o.numEnvs * cfg.numSteps) {
    throw new Error(`train: ppo.numMinibatches ${cfg.numMinibatches} exceeds the ${o.numEnvs * cfg.numSteps} samples of an iteration (numEnvs ${o.numEnvs} × numSteps ${cfg.numSteps})`);
  }
  paramLayout(1, 1, o.hidden);
  return cfg;
}

/** The manifest fields a session's checkpoint carries besides the weights (encodeCheckpoint's meta). */
export type CheckpointMeta = Omit<CheckpointManifest, 'format' | 'version' | 'createdAt' | 'weights' | 'numParams'>;

/** An env, a backend and a PPO trainer over them, built from checked options. */
export class TrainSession {
  readonly env: VecEnv;
  readonly backend: PolicyBackend;
  readonly trainer: PpoTrainer;
  readonly cfg: PpoConfig;
  /** Why the backend was chosen (createBackend's reason). */
  readonly reason: string;
  /** Iterations after which every env starts a new episode at once (checkpoints are taken there). */
  readonly aligned: number;
  private readonly o: TrainSessionOptions;

  /** Builds the env and the backend (the env is closed again if the backend fails); cfg from resolveSessionConfig. */
  static async open(o: TrainSessionOptions, cfg: PpoConfig = resolveSessionConfig(o)): Promise<TrainSession> {
    const env = await makeEnv(o.task, { numEnvs: o.numEnvs, numWorkers: o.numWorkers, seed: o.seed, shaping: { mode: o.shaping, weight: o.shapingWeight }, subgoals: o.subgoals, domainRandomization: o.domainRandomization, terminateOnInfraction: o.terminateOnInfraction });
    try {
      const mbSize = Math.ceil((o.numEnvs * cfg.numSteps) / cfg.numMinibatches);
      const choice = await createBackend(o.backend, { obsDim: policyInputDim(env, cfg.stageInObs), actDim: env.actDim, hidden: o.hidden, seed: o.seed, maxBatch: Math.max(mbSize, o.numEnvs, Math.min(o.evalEpisodes, 500)), threads: o.threads });
      try {
        return new TrainSession(o, cfg, env, choice.backend, choice.reason);
      } catch (e) {
        choice.backend.destroy();
        throw e;
      }
    } catch (e) {
      await env.close();
      throw e;
    }
  }

  private constructor(o: TrainSessionOptions, cfg: PpoConfig, env: VecEnv, backend: PolicyBackend, reason: string) {
    this.o = o;
    this.cfg = cfg;
    this.env = env;
    this.backend = backend;
    this.reason = reason;
    this.trainer = new PpoTrainer(env, backend, cfg, o.seed, o.totalSteps);
    const episodeLen = env.task.maxEpisodeSteps;
    this.aligned = episodeLen / gcd(episodeLen, cfg.numSteps);
  }

  /** Policy input width: obs ⊕ goal (⊕ the stage one-hot with stageInObs). */
  get inputDim(): number {
    return policyInputDim(this.env, this.cfg.stageInObs);
  }

  /** A fresh run's initialization beyond the backend's: the initial log σ and the value output gain, where the options set them. */
  async initParams(): Promise<void> {
    const { o, backend, env } = this;
    if (o.initLogStd === undefined && o.valueOutGain === undefined) return;
    const p = await backend.getParams();
    const layout = paramLayout(this.inputDim, env.actDim, o.hidden);
    if (o.initLogStd !== undefined) {
      const at = layout.entries.find((e) => e.name === 'logStd')!;
      p.fill(o.initLogStd, at.offset, at.offset + env.actDim);
    }
    if (o.valueOutGain !== undefined) {
      // Orthogonal init is linear in the gain: rescale the value output weights from VALUE_OUT_GAIN.
      const last = layout.valueLayers[layout.valueLayers.length - 1];
      for (let k = 0; k < last.inDim * last.outDim; k++) p[last.weightOffset + k] *= o.valueOutGain / VALUE_OUT_GAIN;
    }
    backend.setParams(p);
  }

  /** Whether a checkpoint was taken where every env starts a new episode (only there does a resumed run restart them exactly). */
  isAligned(m: CheckpointManifest): boolean {
    return m.iteration % this.aligned === 0;
  }

  /** Throws unless the checkpoint is aligned (isAligned). */
  checkResumable(m: CheckpointManifest): void {
    if (!this.isAligned(m)) throw new Error(`resume: checkpoint iteration ${m.iteration} is not at an episode boundary (every ${this.aligned} iterations)`);
  }

  /**
   * Puts a checkpoint's weights, optimizer state, normalizer and counters back, and restarts the episodes where its
   * iteration left them. A checkpoint between episode boundaries is refused unless `inexact`: then the envs start the
   * episodes of the next boundary, and the run goes on, but not bit for bit as an uninterrupted one would.
   */
  restore(m: CheckpointManifest, arrays: CheckpointArrays, inexact = false): void {
    const { backend, trainer, cfg, env } = this;
    if (!inexact) this.checkResumable(m);
    backend.setParams(arrays.params);
    if (arrays.adamM && arrays.adamV) backend.setOptimizerState({ m: arrays.adamM, v: arrays.adamV, t: m.adamStep });
    trainer.normalizer.load(m.normalizer);
    trainer.restoreCounters(m.iteration, m.envSteps);
    trainer.markStarted(env.reset({ seed: this.o.seed, startEpisode: Math.ceil((m.iteration * cfg.numSteps) / env.task.maxEpisodeSteps) }));
  }

  /** The checkpoint's manifest fields now; `config` holds the run's identity and whatever else the caller records. */
  async checkpointMeta(config: Record<string, unknown>): Promise<{ meta: CheckpointMeta; arrays: CheckpointArrays }> {
    const { env, backend, trainer, cfg, o } = this;
    const opt = await backend.getOptimizerState();
    const meta: CheckpointMeta = {
      task: env.task.name, obsDim: this.inputDim, actDim: env.actDim, hidden: o.hidden, seed: o.seed, envSteps: trainer.envSteps, iteration: trainer.iteration,
      adamStep: opt.t, normalizer: trainer.normalizer.state(), ...(cfg.stageInObs ? { stageInObs: true } : {}),
      config: { shaping: env.shaping, subgoals: env.subgoals, inputs: cfg.stageInObs ? 'obs ⊕ desiredGoal ⊕ stage one-hot' : 'obs ⊕ desiredGoal', backend: backend.kind, ...config },
    };
    return { meta, arrays: { params: await backend.getParams(), adamM: opt.m, adamV: opt.v } };
  }

  /** The checkpoint as bytes: the manifest object and the weights file (the format `cairn eval` reads). */
  async encodeCheckpoint(config: Record<string, unknown>): Promise<{ manifest: CheckpointManifest; bytes: Uint8Array }> {
    const { meta, arrays } = await this.checkpointMeta(config);
    return encodeCheckpoint(meta, arrays);
  }

  /** Evaluates the current policy with the mean action on fresh envs of the task (no domain randomization, no termination). */
  evaluate(episodes = this.o.evalEpisodes): Promise<EvalResult> {
    return evaluatePolicy(this.o.task, this.backend, this.trainer.normalizer, episodes, evalSeed(this.o.seed), { subgoals: this.o.subgoals, stageInObs: this.cfg.stageInObs });
  }

  /** Releases the backend and closes the env. */
  async close(): Promise<void> {
    this.backend.destroy();
    await this.env.close();
  }
}

/** Greatest common divisor. */
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
