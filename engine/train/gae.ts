/**
 * Generalized advantage estimation (Schulman et al. 2016) over time-major rollout storage [T, N], with
 * episode ends split into terminations (no bootstrap) and truncations (bootstrap from the value of the
 * final observation, which the trainer evaluates from env.finalObs into truncValue).
 *
 * Row t holds transition t of every env: value V_t of obs_t, reward r_t, and the flags of that transition; with
 * same-step autoreset obs_{t+1} already belongs to the next episode when the transition ended one. Per env:
 *   next_t  = 0 if terminated_t, truncValue_t if truncated_t (and not terminated), else V_{t+1}
 *             (V_T = nextValue, the value of the obs after the last step)
 *   δ_t     = r_t + γ next_t − V_t
 *   A_t     = δ_t + γ λ (1 − done_t) A_{t+1},  done_t = terminated_t or truncated_t,  A_T = 0
 *   R_t     = A_t + V_t
 * Computed in float64, stored as float32.
 */

/** Inputs of computeGae; every [T, N] array is time-major (element t * N + e). */
export interface GaeInput {
  /** Steps T. */
  numSteps: number;
  /** Envs N. */
  numEnvs: number;
  /** [T, N] rewards. */
  rewards: ArrayLike<number>;
  /** [T, N] value estimates V(obs_t). */
  values: ArrayLike<number>;
  /** [T, N] nonzero where transition t terminated (the task ended: no bootstrap). */
  terminated: ArrayLike<number>;
  /** [T, N] nonzero where transition t was truncated (time limit: bootstrap from truncValue). */
  truncated: ArrayLike<number>;
  /** [T, N] value of the final observation of a truncated transition; read only where truncated and not terminated. */
  truncValue: ArrayLike<number>;
  /** [N] value of the observation after the last step. */
  nextValue: ArrayLike<number>;
  /** Discount γ in [0, 1]. */
  gamma: number;
  /** GAE λ in [0, 1]. */
  lambda: number;
}

/** Outputs of computeGae, [T, N] time-major. */
export interface GaeOutput {
  advantages: Float32Array;
  returns: Float32Array;
}

/** Checks one input array's length and (for the arrays GAE reads everywhere) finiteness. */
function checkArray(name: string, a: ArrayLike<number>, len: number, finite: boolean): void {
  if (!a || typeof a.length !== 'number') throw new Error(`gae: ${name} must be an array`);
  if (a.length !== len) throw new Error(`gae: ${name} has ${a.length} elements, expected ${len}`);
  if (finite) for (let i = 0; i < len; i++) if (!Number.isFinite(a[i])) throw new Error(`gae: ${name}[${i}] is ${a[i]}; every element must be finite`);
}

/** Advantages and returns [T, N] of a rollout; writes into out when given (caller-owned, length T·N). */
export function computeGae(input: GaeInput, out?: GaeOutput): GaeOutput {
  const { numSteps: T, numEnvs: N, rewards, values, terminated, truncated, truncValue, nextValue, gamma, lambda } = input;
  if (!Number.isInteger(T) || T < 1) throw new Error(`gae: numSteps must be a positive integer, got ${T}`);
  if (!Number.isInteger(N) || N < 1) throw new Error(`gae: numEnvs must be a positive integer, got ${N}`);
  if (!(gamma >= 0 && gamma <= 1)) throw new Error(`gae: gamma must be in [0, 1], got ${gamma}`);
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`gae: lambda must be in [0, 1], got ${lambda}`);
  const TN = T * N;
  checkArray('rewards', rewards, TN, true);
  checkArray('values', values, TN, true);
  checkArray('terminated', terminated, TN, false);
  checkArray('truncated', truncated, TN, false);
  checkArray('truncValue', truncValue, TN, false);
  checkArray('nextValue', nextValue, N, true);
  const advantages = out?.advantages ?? new Float32Array(TN);
  const returns = out?.returns ?? new Float32Array(TN);
  if (advantages.length !== TN || returns.length !== TN) throw new Error(`gae: out arrays must have T * N = ${TN} elements`);
  for (let e = 0; e < N; e++) {
    let lastGae = 0;
    let nextV = nextValue[e];
    for (let t = T - 1; t >= 0; t--) {
      const k = t * N + e;
      const term = terminated[k] !== 0;
      const trunc = truncated[k] !== 0;
      let boot: number;
      if (term) boot = 0;
      else if (trunc) {
        boot = truncValue[k];
        if (!Number.isFinite(boot)) throw new Error(`gae: truncValue[${k}] is ${boot} at a truncated transition (step ${t}, env ${e})`);
      } else boot = nextV;
      const v = values[k];
      const delta = rewards[k] + gamma * boot - v;
      lastGae = delta + (term || trunc ? 0 : gamma * lambda * lastGae);
      advantages[k] = lastGae;
      returns[k] = lastGae + v;
      nextV = v;
    }
  }
  return { advantages, returns };
}
