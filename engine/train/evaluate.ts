/**
 * Evaluation of a policy backend on a task: whole episodes with the mean action (deterministic), on a
 * fresh env seeded apart from training, reporting the success rate at each episode's last step.
 */
import { makeEnv } from '../env.ts';
import type { PolicyBackend } from './backend.ts';
import type { RunningNormalizer } from './normalizer.ts';
import { writePolicyInput } from './ppo.ts';

/** What an evaluation measured. */
export interface EvalResult {
  episodes: number;
  successRate: number;
  meanReturn: number;
  /** Fraction of episodes that reached each subgoal stage. */
  stageReached: number[];
  envSteps: number;
  wallSeconds: number;
}

/** Runs at least `episodes` episodes of taskName with the backend's mean action; normalizer as in training. */
export async function evaluatePolicy(taskName: string, backend: PolicyBackend, normalizer: RunningNormalizer | null, episodes: number, seed: number, opts: { numEnvs?: number; subgoals?: unknown } = {}): Promise<EvalResult> {
  if (!Number.isInteger(episodes) || episodes < 1) throw new Error(`eval: episodes must be a positive integer, got ${episodes}`);
  const numEnvs = Math.min(episodes, opts.numEnvs ?? 500);
  const env = await makeEnv(taskName, { numEnvs, seed, subgoals: opts.subgoals });
  try {
    const D = env.obsDim + env.goalDim, N = numEnvs;
    const raw = new Float32Array(N * D), input = new Float32Array(N * D);
    const out = { action: new Float32Array(N * env.actDim), logProb: new Float32Array(N), value: new Float32Array(N) };
    const rounds = Math.ceil(episodes / N);
    const t0 = performance.now();
    let r = env.reset();
    env.takeEpisodeStats();
    for (let t = 0; t < rounds * env.task.maxEpisodeSteps; t++) {
      writePolicyInput(r.obs, r.desiredGoal, N, env.obsDim, env.goalDim, raw);
      if (normalizer) normalizer.normalize(raw, N, input);
      else input.set(raw);
      await backend.act(input, N, { deterministic: true, step: t }, out);
      r = env.step(out.action);
    }
    const s = env.takeEpisodeSummary();
    return { episodes: s.episodes, successRate: s.successRate, meanReturn: s.meanReturn, stageReached: s.stageReached, envSteps: rounds * env.task.maxEpisodeSteps * N, wallSeconds: (performance.now() - t0) / 1000 };
  } finally {
    await env.close();
  }
}
