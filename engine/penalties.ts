/**
 * Penalties: reward terms a learner subtracts from the shaped reward, logged in rewardTerms as 'action', 'bound' and
 * 'infraction' (shaping/stats.ts PENALTY_TERM_NAMES) and kept as costs ≥ 0 in batch.penalties [N, 3] in f64. The first
 * two cost the raw (unclipped) actions sent to VecEnv.step (costActions, here); the third is the slice's:
 *
 *   action     = c_action Σ_j a_j²                (a norm cost; 0 = off)
 *   bound      = c_bound  Σ_j max(|a_j| − 1, 0)²  (the part beyond the env's clip to [−1, 1]: once a Gaussian mean
 *                                                  drifts past ±1 every sample acts the same and nothing pulls it back)
 *   infraction = 1 / (1 − γ) where an episode terminates on an infraction (terminateOnInfraction, CaRL), γ the shaping γ
 *                (the learner's): the discounted return of failing forever at −1 per step, which is what a learner that
 *                bootstraps truncated episodes from V(finalObs) forgoes by ending one (not the T − t steps left: valued
 *                that way, ending early beats failing to the time limit by γ^{T−t} / (1 − γ), and learners learn to
 *                knock the object off the table). T − t when γ = 1
 *
 * In shaping mode 'progress' (CaRL) the action and bound costs are not subtracted but multiply the progress term p ≥ 0
 * as factors e^{−cost} in (0, 1]: the learner gets reward + p · e^{−action} · e^{−bound} − infraction. The slice
 * writes that as the costs p · (1 − e^{−action}) and p · e^{−action} · (1 − e^{−bound}) (multiplyPenalties), so that a
 * learner's reward is shapedReward − Σ penalties in every mode, and the logged terms say how much progress each took.
 */
import { checkNumberIn } from './numeric.ts';

/**
 * Throws unless a shaping mode leaves ending an episode early unprofitable under terminateOnInfraction: the infraction
 * term 1 / (1 − γ) makes up the sparse reward's forgone −1s, PBRS sums to −Φ(s₀) however the episode ends, and the bonus and
 * progress modes only forgo rewards ≥ 0; but the dense and gated modes' per-step costs (−w·d) would pay for knocking an
 * object off.
 */
export function checkInfractionMode(mode: string, where: string): void {
  if (mode === 'dense' || mode === 'gated') throw new Error(`${where}: terminateOnInfraction goes with the sparse, pbrs, bonus or progress shaping modes, not '${mode}': its per-step costs would make ending an episode early pay`);
}

/** Coefficients of the penalty terms, each ≥ 0 (0 = off). */
export interface Penalties {
  action: number;
  bound: number;
}

/** Both terms off: an env's default (PpoTrainer sets its own from PpoConfig). */
export const NO_PENALTIES: Readonly<Penalties> = Object.freeze({ action: 0, bound: 0 });

/** Largest coefficient accepted (larger overflows float32 rewards within an episode). */
export const MAX_PENALTY = 1e6;

/** Merges a partial setting over `base`, checking each coefficient is a number in [0, MAX_PENALTY]; names the bad field. */
export function resolvePenalties(p: Partial<Penalties> | undefined, base: Readonly<Penalties> = NO_PENALTIES): Penalties {
  if (p === undefined) return { ...base };
  if (p === null || typeof p !== 'object') throw new Error(`penalties must be an object like { action: 0, bound: 1 }, got ${p === null ? 'null' : typeof p}`);
  for (const k of Object.keys(p)) if (k !== 'action' && k !== 'bound') throw new Error(`penalties: unknown term '${k}' (known: action, bound)`);
  return {
    action: p.action === undefined ? base.action : checkNumberIn('penalties.action', p.action, 0, MAX_PENALTY),
    bound: p.bound === undefined ? base.bound : checkNumberIn('penalties.bound', p.bound, 0, MAX_PENALTY),
  };
}

/** The infraction cost of a termination with `stepsLeft` steps to the time limit: 1 / (1 − γ), or stepsLeft when γ = 1 (header). */
export function infractionCost(gamma: number, stepsLeft: number): number {
  return gamma < 1 ? 1 / (1 - gamma) : Math.max(stepsLeft, 0);
}

/** Costs per env in batch.penalties: action, bound, infraction. */
export const PENALTY_WIDTH = 3;

/** Writes each env's [action, bound] costs of raw actions [n, actDim] into out [n, PENALTY_WIDTH] (f64, ≥ 0; the infraction column is left alone). */
export function costActions(actions: ArrayLike<number>, n: number, actDim: number, c: Readonly<Penalties>, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let action = 0, bound = 0;
    if (c.action > 0) {
      for (let j = 0; j < actDim; j++) action += actions[i * actDim + j] ** 2;
      action *= c.action;
    }
    if (c.bound > 0) {
      for (let j = 0; j < actDim; j++) bound += Math.max(Math.abs(actions[i * actDim + j]) - 1, 0) ** 2;
      bound *= c.bound;
    }
    out[PENALTY_WIDTH * i] = action;
    out[PENALTY_WIDTH * i + 1] = bound;
  }
}

/** Turns env g's action and bound costs in pen [N, PENALTY_WIDTH] into the shares of its progress term p ≥ 0 that the factors e^{−cost} remove (mode 'progress'). */
export function multiplyPenalties(pen: Float64Array, g: number, progress: number): void {
  const i = PENALTY_WIDTH * g;
  const keepAction = Math.exp(-pen[i]), keepBound = Math.exp(-pen[i + 1]);
  pen[i] = progress * (1 - keepAction);
  pen[i + 1] = progress * keepAction * (1 - keepBound);
}
