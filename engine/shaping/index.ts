/**
 * Subgoal decomposition and reward shaping, in place on the batch.
 *
 * A task's subgoal spec (engine/shaping/spec.ts) is an ordered list of K stages over named points. Per env
 * the shaper keeps a latched stage k (stages completed so far, 0..K): after each transition, while k < K and
 * every predicate of stage k holds on the new state s', k advances (so several stages can complete at once).
 * k never decreases inside an episode; at reset it starts from 0 and advances the same way on s0.
 *
 * Potential, with d_j the progress distance of stage j and σ_j its scale, w = config.weight:
 *   Φ(s) = w · (j + 1 − tanh(d_j / σ_j)),  j = min(k, K − 1)   (in (w·j, w·(j+1)], rising as d_j falls)
 * The last stage is the task's goal: its progress term stays live once it holds (k = K), so Φ falls again if
 * the goal is lost after being reached (a frozen Φ = w·K would pay nothing for holding the goal, and a learner
 * then pushes the object through and past it). Φ is bounded in [0, w·K] and never drops when a stage completes. Φ is computed in f32 (the stored
 * `potential`), with 1 − tanh(x) = 2 / (1 + e^{2x}) from a polynomial exp (within 3e-7 relative), and F is
 * formed in f64 from the stored f32 potentials, so that the stored potentials telescope to f32 rounding of F.
 * The kernel (assembly/shaping.ts, four envs per f32x4) and the reference (reference.ts) agree bit for bit.
 *
 * Progress, the potential without its weight: P(s) = Φ(s) / w = j + 1 − tanh(d_j / σ_j) in (0, K]; the batch field
 * bestProgress keeps the highest P of the running episode (P(s0) at reset; part of the state block, so a restore
 * brings it back).
 *
 * Terms of a transition s → s', written to rewardTerms [N, 12] at these indices (the slice writes the penalty
 * terms at 6..8; 9..11 are 0):
 *   0 sparse  the task reward (−1/0)
 *   1 dense   −w · d_{K−1}(s'): distance of the last stage's progress term (Fetch's dense reward for Reach
 *             and Push), whatever the stage
 *   2 pbrs    F = γ Φ(s') − Φ(s), with Φ(s') = 0 when the transition terminated (kept on truncation);
 *             Σ_t γ^t F_t = γ^T Φ(s_T) − Φ(s_0) over an episode, so the optimal policy is unchanged
 *             (Ng, Harada & Russell 1999) when γ is the learner's discount
 *   3 bonus   b · (stages completed by this transition), b = config.bonus ?? w (CALM-style; not potential-based)
 *   4 gated   −w · d_j(s'): the dense term of the open gate only, the current stage j = min(k, K − 1) (G-RA-style)
 *   5 progress w · max(P(s') − bestProgress, 0): only progress beyond the episode's best pays, so an episode's
 *             progress rewards sum to w · (best P − P(s0)) ≤ w · K and cannot be farmed by going back and forth
 *             (CaRL's route-completion reward). In this mode the action and bound penalties multiply it instead
 *             of being subtracted (engine/penalties.ts)
 * shapedReward = reward + terms[mode]  (mode 'sparse': reward). Every term is computed in every mode, so a
 * run can log what the others would have given.
 *
 * Episode accumulators (running episode, plain sums): episodeReturn (Σ reward), episodeShapedReturn
 * (Σ shapedReward), episodeTermSums [N, 12] (Σ terms), maxStage. When a transition ends the episode
 * (terminated or truncated) the slice copies them to the batch's finalEpisode* fields before the reset, and
 * the finished-episode statistics (env.takeEpisodeStats(): count, successes, Σ returns, Σ term sums,
 * histogram of maxStage; stats.ts) come from those fields (engine/env.ts), not from the shaper.
 *
 * In the loop, per slice [lo, hi): PHYSICS → READBACK (points, gripperOpening, reward, success, terminated,
 * truncated, done) → shaper.step(lo, hi) → EPISODE END (accumulators → finalEpisode* for done envs) →
 * AUTORESET (new points for done envs) → shaper.reset(lo, hi, true); env.reset() → shaper.reset(lo, hi, false).
 */
export {
  DEFAULT_SHAPING_CONFIG, MAX_DERIVED, MAX_LEAVES, MAX_POINTS, MAX_STAGES, SHAPING_MODES, validateShapingConfig, validateSubgoalSpec,
  type AllPredicate, type DerivedPoint, type DistancePredicate, type GripperPredicate, type HeightPredicate, type LeafPredicate,
  type ProgressTerm, type ShapingConfig, type ShapingMode, type StagePredicate, type SubgoalSpec, type SubgoalStage,
} from './spec.ts';
export { PENALTY_TERM_NAMES, REWARD_TERM_NAMES, summarizeEpisodeStats, type RewardTermName, type EpisodeStats, type EpisodeSummary } from './stats.ts';
export { ShapingKernel, loadShapingModule, type ShapingKernelOptions } from './kernel.ts';
export { ShapingReference } from './reference.ts';
export type { Shaper } from './shaper.ts';
export { compileSubgoalSpec, SHAPING_TABLE_OFFSET, MAX_SLOTS, TABLE_BYTES as SHAPING_TABLE_BYTES, type CompiledSpec } from './table.ts';
