/**
 * Evaluation of a policy backend on a task: whole episodes with the mean action (deterministic), on a
 * fresh env seeded apart from training, reporting the success rate at each episode's last step.
 */
import { makeEnv } from '../env.ts';
import type { PolicyBackend } from '../nn/backend.ts';
import type { RunningNormalizer } from '../nn/normalizer.ts';
import { policySource } from '../rollout.ts';
import { GoalProgressMeter } from './goal-progress.ts';

/** The episode seed of a run's evaluation: the run's seed moved apart from training's episodes (uint32). */
export function evalSeed(runSeed: number): number {
  return (runSeed + 0x9e3779b9) >>> 0;
}

/** What an evaluation measured. */
export interface EvalResult {
  episodes: number;
  successRate: number;
  meanReturn: number;
  /** Fraction of episodes that reached each subgoal stage. */
  stageReached: number[];
  /** Mean goal progress of the episodes (engine/train/goal-progress.ts: 1 at the goal, 0 unmoved, < 0 pushed away). */
  goalProgress: number;
  envSteps: number;
  wallSeconds: number;
}

/** Runs at least `episodes` episodes of taskName with the backend's mean action; normalizer as in training. */
export async function evaluatePolicy(taskName: string, backend: PolicyBackend, normalizer: RunningNormalizer | null, episodes: number, seed: number, opts: { numEnvs?: number; subgoals?: unknown; stageInObs?: boolean } = {}): Promise<EvalResult> {
  if (!Number.isInteger(episodes) || episodes < 1) throw new Error(`eval: episodes must be a positive integer, got ${episodes}`);
  const numEnvs = Math.min(episodes, opts.numEnvs ?? 500);
  const env = await makeEnv(taskName, { numEnvs, seed, subgoals: opts.subgoals });
  try {
    const source = policySource(backend, normalizer, env, { deterministic: true, stageInObs: opts.stageInObs });
    const out = new Float32Array(numEnvs * env.actDim);
    const rounds = Math.ceil(episodes / numEnvs);
    const t0 = performance.now();
    let r = env.reset();
    env.takeEpisodeStats();
    const progress = new GoalProgressMeter(numEnvs, env.goalDim);
    progress.start(r.achievedGoal, r.desiredGoal);
    for (let t = 0; t < rounds * env.task.maxEpisodeSteps; t++) {
      await source.act(r, env, t, out);
      r = env.step(out);
      progress.record(r);
    }
    const s = env.takeEpisodeSummary();
    return { episodes: s.episodes, successRate: s.successRate, meanReturn: s.meanReturn, stageReached: s.stageReached, goalProgress: progress.mean, envSteps: rounds * env.task.maxEpisodeSteps * numEnvs, wallSeconds: (performance.now() - t0) / 1000 };
  } finally {
    await env.close();
  }
}
