import type { Minibatch } from '../nn/backend.ts';

/**
 * Time-major PPO rollout storage for T steps of N envs: normalized observations [T, N, O], sampled
 * actions [T, N, A] (before the env clips them), log-probabilities, values, rewards, termination and
 * truncation flags [T, N], and the value of the final observation of truncated episodes [T, N].
 */
export class RolloutStorage {
  readonly numSteps: number;
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actDim: number;
  /** [T, N, O] normalized observations the policy acted on. */
  readonly obs: Float32Array;
  /** [T, N, A] sampled actions. */
  readonly actions: Float32Array;
  /** [T, N] log-probability of the sampled action under the acting policy. */
  readonly logProbs: Float32Array;
  /** [T, N] value estimate of obs. */
  readonly values: Float32Array;
  /** [T, N] reward the learner uses (shaped and scaled). */
  readonly rewards: Float32Array;
  /** [T, N] the env's own reward before shaping (scaled), for a critic of the task reward. */
  readonly taskRewards: Float32Array;
  /** [T, N] 1 where the transition ended in a terminal state. */
  readonly terminated: Uint8Array;
  /** [T, N] 1 where the transition hit the time limit. */
  readonly truncated: Uint8Array;
  /** [T, N] V(finalObs) where truncated, else 0. */
  readonly truncValues: Float32Array;
  /** [T, N] GAE advantages, filled by computeAdvantages. */
  readonly advantages: Float32Array;
  /** [T, N] returns = advantages + values. */
  readonly returns: Float32Array;
  /** [T, N] scratch for the GAE output a caller discards. */
  readonly scratch: Float32Array;

  constructor(numSteps: number, numEnvs: number, obsDim: number, actDim: number) {
    this.numSteps = numSteps;
    this.numEnvs = numEnvs;
    this.obsDim = obsDim;
    this.actDim = actDim;
    const tn = numSteps * numEnvs;
    this.obs = new Float32Array(tn * obsDim);
    this.actions = new Float32Array(tn * actDim);
    this.logProbs = new Float32Array(tn);
    this.values = new Float32Array(tn);
    this.rewards = new Float32Array(tn);
    this.terminated = new Uint8Array(tn);
    this.truncated = new Uint8Array(tn);
    this.truncValues = new Float32Array(tn);
    this.advantages = new Float32Array(tn);
    this.returns = new Float32Array(tn);
    this.taskRewards = new Float32Array(tn);
    this.scratch = new Float32Array(tn);
  }

  /** Number of rows (T × N). */
  get size(): number {
    return this.numSteps * this.numEnvs;
  }

  /** Copies rows idx[from..to) into minibatch arrays (obs, actions, logProbs, advantages, returns, values). */
  gather(idx: Uint32Array, from: number, to: number, mb: Minibatch): void {
    const O = this.obsDim, A = this.actDim;
    for (let j = 0, k = from; k < to; j++, k++) {
      const r = idx[k];
      mb.obs.set(this.obs.subarray(r * O, r * O + O), j * O);
      mb.actions.set(this.actions.subarray(r * A, r * A + A), j * A);
      mb.oldLogProb[j] = this.logProbs[r];
      mb.advantages[j] = this.advantages[r];
      mb.returns[j] = this.returns[r];
      mb.oldValues[j] = this.values[r];
    }
    mb.n = to - from;
  }
}

/** Allocates a minibatch of capacity rows. */
export function createMinibatch(capacity: number, obsDim: number, actDim: number): Minibatch {
  return {
    obs: new Float32Array(capacity * obsDim), actions: new Float32Array(capacity * actDim), oldLogProb: new Float32Array(capacity),
    advantages: new Float32Array(capacity), returns: new Float32Array(capacity), oldValues: new Float32Array(capacity), n: 0,
  };
}
