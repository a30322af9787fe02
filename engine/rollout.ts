/**
 * The rollout driver: steps a vector env with an action source for a number of control steps and
 * collects episode statistics (episodes finished, success at the last step, sparse return).
 */
import type { StepResult, VecEnv } from './env.ts';
import { counterUniform } from './rng.ts';
import { scriptedController } from '../tasks/scripted.ts';
import type { PolicyBackend } from './nn/backend.ts';
import type { RunningNormalizer } from './nn/normalizer.ts';
import { policyInputDim, writePolicyInput } from './nn/policy-input.ts';

/** Produces actions [N, actDim] for the views the env last returned. */
export interface ActionSource {
  readonly name: string;
  act(r: StepResult, env: VecEnv, step: number, out: Float32Array): void | Promise<void>;
}

/** Uniform random actions in [-1, 1], reproducible from a seed. */
export function randomSource(seed: number): ActionSource {
  return {
    name: 'random',
    act(_r, _env, step, out) {
      for (let k = 0; k < out.length; k++) out[k] = 2 * counterUniform(seed, k, step, 0x5eed) - 1;
    },
  };
}

/** The task's scripted controller (tasks/scripted.ts). */
export function scriptedSource(env: VecEnv): ActionSource {
  const ctl = scriptedController(env.task.name, env.numEnvs);
  return { name: 'scripted', act: (r, e, _step, out) => ctl.act(r.obs, r.desiredGoal, e.batch.episodeStep, out) };
}

/** What a rollout measured. */
export interface RolloutStats {
  envSteps: number;
  wallSeconds: number;
  envStepsPerSec: number;
  /** Seconds spent inside env.step. */
  envSeconds: number;
  /** Seconds spent producing actions. */
  actSeconds: number;
  episodes: number;
  successes: number;
  /** Fraction of finished episodes whose last state was a success (NaN when none finished). */
  successRate: number;
  /** Mean sparse return of finished episodes. */
  meanReturn: number;
}

/** Steps env `steps` times from a fresh reset; onProgress sees the running stats after each step, a recorder every step. */
export async function rollout(env: VecEnv, source: ActionSource, steps: number, onProgress?: (done: number, s: RolloutStats) => void, recorder?: { start(): void; afterStep(): void }): Promise<RolloutStats> {
  const N = env.numEnvs;
  const out = new Float32Array(N * env.actDim);
  const ret = new Float64Array(N);
  const s: RolloutStats = { envSteps: 0, wallSeconds: 0, envStepsPerSec: 0, envSeconds: 0, actSeconds: 0, episodes: 0, successes: 0, successRate: Number.NaN, meanReturn: Number.NaN };
  let returnSum = 0;
  let r = env.reset();
  recorder?.start();
  const t0 = performance.now();
  for (let t = 0; t < steps; t++) {
    const ta = performance.now();
    await source.act(r, env, t, out);
    const tb = performance.now();
    r = env.step(out);
    s.envSeconds += (performance.now() - tb) / 1000;
    recorder?.afterStep();
    s.actSeconds += (tb - ta) / 1000;
    for (let i = 0; i < N; i++) {
      ret[i] += r.reward[i];
      if (r.terminated[i] || r.truncated[i]) {
        s.episodes++;
        s.successes += r.success[i];
        returnSum += ret[i];
        ret[i] = 0;
      }
    }
    s.envSteps += N;
    s.wallSeconds = (performance.now() - t0) / 1000;
    s.envStepsPerSec = s.envSteps / s.wallSeconds;
    s.successRate = s.episodes ? s.successes / s.episodes : Number.NaN;
    s.meanReturn = s.episodes ? returnSum / s.episodes : Number.NaN;
    onProgress?.(t + 1, s);
  }
  return s;
}

/**
 * A policy backend acting on obs ⊕ desiredGoal (⊕ the stage one-hot with stageInObs), normalized as in training (null:
 * raw inputs).
 */
export function policySource(backend: PolicyBackend, normalizer: RunningNormalizer | null, env: VecEnv, opts: { deterministic?: boolean; seed?: number; stageInObs?: boolean } = {}): ActionSource {
  const N = env.numEnvs, stageInObs = opts.stageInObs === true, D = policyInputDim(env, stageInObs);
  if (backend.obsDim !== D || backend.actDim !== env.actDim) throw new Error(`policy: the network maps ${backend.obsDim} → ${backend.actDim}, ${env.task.name} needs ${D} → ${env.actDim}${stageInObs ? ' (with the stage one-hot)' : ''}`);
  const raw = new Float32Array(N * D), input = new Float32Array(N * D);
  const out = { action: new Float32Array(N * env.actDim), logProb: new Float32Array(N), value: new Float32Array(N) };
  return {
    name: opts.deterministic ? 'mlp (mean action)' : 'mlp',
    async act(r, e, step, actions) {
      writePolicyInput(r.obs, r.desiredGoal, N, e.obsDim, e.goalDim, raw, stageInObs ? { values: r.stage, numStages: e.stageNames.length } : undefined);
      if (normalizer) normalizer.normalize(raw, N, input);
      else input.set(raw);
      await backend.act(input, N, { deterministic: opts.deterministic ?? false, step: step >>> 0, seed: opts.seed }, out);
      actions.set(out.action);
    },
  };
}
