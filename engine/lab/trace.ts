/**
 * Per-step traces of evaluation episodes: a policy's mean action on a fresh env seeded as `cairn eval` seeds
 * it, recording for every state of an episode its latched stage and which stage predicates hold, and for every
 * transition its reward terms and success. The failure analysis (analyze.ts) reads them.
 */
import { makeEnv } from '../env.ts';
import type { PolicyBackend } from '../nn/backend.ts';
import type { RunningNormalizer } from '../nn/normalizer.ts';
import type { Penalties } from '../penalties.ts';
import { policySource } from '../rollout.ts';
import type { ShapingConfig } from '../shaping/spec.ts';
import { REWARD_TERM_NAMES } from '../shaping/stats.ts';
import { MAX_REWARD_TERMS } from '../batch.ts';
import { packReachedRow, packRow } from '../state.ts';
import { StagePredicates } from './stage-predicates.ts';

/** One episode of T control steps over K stages and M reward terms; states s_0 (the reset) … s_T. */
export interface EpisodeTrace {
  /** Control steps T (≥ 1). */
  length: number;
  /** [T + 1] latched stage of s_0 … s_T (0 … K: stages completed). */
  stage: ArrayLike<number>;
  /** [(T + 1) × K] 1 where stage k's predicate holds on s_t, else 0. */
  holds: ArrayLike<number>;
  /** [T × M] row t − 1: the reward terms of transition s_{t−1} → s_t, in termNames order. */
  terms: ArrayLike<number>;
  /** [T] entry t − 1: 1 where s_t is a success, else 0. */
  success: ArrayLike<number>;
}

/** Traces with the names of their stages and reward terms. */
export interface TracedEpisodes {
  traces: EpisodeTrace[];
  stageNames: string[];
  termNames: string[];
}

/** The env and policy input of a trace, as the run had them: envs (default 500), subgoal spec, shaping, penalties, the stage one-hot. */
export interface TraceOptions {
  numEnvs?: number;
  subgoals?: unknown;
  shaping?: Partial<ShapingConfig>;
  penalties?: Partial<Penalties>;
  stageInObs?: boolean;
}

/** The running episode of one env, grown step by step. */
class TraceBuilder {
  stage: number[] = [];
  holds: number[] = [];
  terms: number[] = [];
  success: number[] = [];

  trace(): EpisodeTrace {
    return { length: this.success.length, stage: Int32Array.from(this.stage), holds: Uint8Array.from(this.holds), terms: Float32Array.from(this.terms), success: Uint8Array.from(this.success) };
  }
}

/**
 * Runs `episodes` whole episodes of taskName with the backend's mean action (normalizer and input as in training) on
 * min(episodes, numEnvs ?? 500) envs from `seed`, as evaluatePolicy does, and traces them: the first `episodes`
 * to end, in the order they end (envs in index order within a step); episodes still running then are dropped.
 */
export async function traceEpisodes(taskName: string, backend: PolicyBackend, normalizer: RunningNormalizer | null, episodes: number, seed: number, opts: TraceOptions = {}): Promise<TracedEpisodes> {
  if (!Number.isInteger(episodes) || episodes < 1) throw new Error(`trace: episodes must be a positive integer, got ${episodes}`);
  const N = Math.min(episodes, opts.numEnvs ?? 500);
  const env = await makeEnv(taskName, { numEnvs: N, seed, subgoals: opts.subgoals, shaping: opts.shaping, penalties: opts.penalties });
  try {
    const source = policySource(backend, normalizer, env, { deterministic: true, stageInObs: opts.stageInObs });
    const predicates = new StagePredicates(env);
    const K = predicates.numStages, M = REWARD_TERM_NAMES.length;
    const row = new Float32Array(env.stateLayout.rowWidth), holds = new Uint8Array(K);
    const b = env.batch;
    /** Appends the state in `row` to an episode. */
    const addState = (e: TraceBuilder): void => {
      e.stage.push(predicates.evaluate(row, holds, 0));
      e.holds.push(...holds);
    };
    const running = Array.from({ length: N }, () => new TraceBuilder());
    const done: EpisodeTrace[] = [];
    let r = env.reset();
    running.forEach((e, i) => {
      packRow(b, env.stateLayout, i, row, 0);
      addState(e);
    });
    const out = new Float32Array(N * env.actDim);
    for (let t = 0; done.length < episodes; t++) {
      await source.act(r, env, t, out);
      r = env.step(out);
      for (let i = 0; i < N && done.length < episodes; i++) {
        const e = running[i];
        packReachedRow(b, env.stateLayout, i, row, 0);
        addState(e);
        for (let j = 0; j < M; j++) e.terms.push(r.rewardTerms[i * MAX_REWARD_TERMS + j]);
        e.success.push(r.success[i]);
        if (!(r.terminated[i] || r.truncated[i])) continue;
        done.push(e.trace());
        running[i] = new TraceBuilder();
        packRow(b, env.stateLayout, i, row, 0);
        addState(running[i]);
      }
    }
    return { traces: done, stageNames: [...env.stageNames], termNames: [...REWARD_TERM_NAMES] };
  } finally {
    await env.close();
  }
}
