/**
 * Statistics of finished episodes (sparse return, shaped return, per-term sums, highest stage reached,
 * success at the end). The env (engine/env.ts, VecEnv.step) adds, in env order, every env whose episode ended
 * at that step, from the batch's finalEpisode* fields that the slice copies from the running accumulators at
 * done, with or without shaping. Kept as f64 words:
 *
 * | word   | content                                            |
 * |--------|----------------------------------------------------|
 * | 0      | count: finished episodes                           |
 * | 1      | successCount                                       |
 * | 2      | sumReturn: Σ episodeReturn                         |
 * | 3      | sumShapedReturn: Σ episodeShapedReturn             |
 * | 4..15  | termSums [MAX_REWARD_TERMS]: Σ episodeTermSums     |
 * | 16..24 | [MAX_STAGES + 1] episodes by maxStage              |
 * | 25     | sumLength: Σ control steps per episode             |
 */
import { MAX_REWARD_TERMS } from '../batch.ts';
import { MAX_STAGES, SHAPING_MODES, type ShapingMode } from './spec.ts';

/** The penalty terms (engine/penalties.ts: the raw actions' costs and the infraction termination's), logged after the shaping terms. */
export const PENALTY_TERM_NAMES = ['action', 'bound', 'infraction'] as const;
/** A logged reward term: a shaping mode's term, or a penalty. */
export type RewardTermName = ShapingMode | (typeof PENALTY_TERM_NAMES)[number];
/** Names of the logged reward terms, by their index in rewardTerms [N, MAX_REWARD_TERMS]; the rest are 0. */
export const REWARD_TERM_NAMES: readonly RewardTermName[] = [...SHAPING_MODES, ...PENALTY_TERM_NAMES];
/** Index of the first penalty term in rewardTerms rows (action, bound, infraction). */
export const PENALTY_TERM_INDEX = SHAPING_MODES.length;

/** Sums over the finished episodes recorded since the last clear. */
export interface EpisodeStats {
  /** Episodes finished (terminated or truncated). */
  count: number;
  /** Of those, episodes whose last transition had success = 1. */
  successCount: number;
  /** Σ of each episode's sparse return (sum of `reward`). */
  sumReturn: number;
  /** Σ of each episode's shaped return (sum of `shapedReward`). */
  sumShapedReturn: number;
  /** Σ of each episode's per-term sums, by term name (every term, whatever the mode). */
  termSums: Record<RewardTermName, number>;
  /** [K + 1] episodes by highest latched stage: index k = k stages completed. */
  maxStageCounts: number[];
  /** Σ of each episode's length, control steps. */
  sumLength: number;
}

/** Means and rates of EpisodeStats (NaN where no episode finished). */
export interface EpisodeSummary {
  episodes: number;
  successRate: number;
  meanReturn: number;
  meanShapedReturn: number;
  /** Mean episode length, control steps. */
  meanLength: number;
  meanTerms: Record<RewardTermName, number>;
  /** [K] share of episodes that completed stage k (k = 0 .. K−1). */
  stageReached: number[];
}

/** Word offsets of the statistics (f64). */
const W_COUNT = 0, W_SUCCESS = 1, W_RETURN = 2, W_SHAPED = 3, W_TERMS = 4, W_HIST = W_TERMS + MAX_REWARD_TERMS;
const W_LENGTH = W_HIST + MAX_STAGES + 1;
/** f64 words of one statistics record: [count, successCount, sumReturn, sumShapedReturn, termSums [12], hist [9], sumLength]. */
export const SLOT_STAT_WORDS = W_LENGTH + 1;

/** Reads EpisodeStats from statistics words [SLOT_STAT_WORDS], for a spec with numStages stages. */
export function statsFromWords(words: Float64Array, numStages: number): EpisodeStats {
  const termSums = {} as Record<RewardTermName, number>;
  REWARD_TERM_NAMES.forEach((n, j) => (termSums[n] = words[W_TERMS + j]));
  const maxStageCounts: number[] = [];
  for (let k = 0; k <= numStages; k++) maxStageCounts.push(words[W_HIST + k]);
  return {
    count: words[W_COUNT], successCount: words[W_SUCCESS], sumReturn: words[W_RETURN], sumShapedReturn: words[W_SHAPED], termSums, maxStageCounts,
    sumLength: words[W_LENGTH],
  };
}

/** Means and rates of a stats record. */
export function summarizeEpisodeStats(s: EpisodeStats): EpisodeSummary {
  const n = s.count;
  const meanTerms = {} as Record<RewardTermName, number>;
  for (const k of REWARD_TERM_NAMES) meanTerms[k] = s.termSums[k] / n;
  const stageReached: number[] = [];
  for (let k = 1; k < s.maxStageCounts.length; k++) stageReached.push(s.maxStageCounts.slice(k).reduce((a, b) => a + b, 0) / n);
  return { episodes: n, successRate: s.successCount / n, meanReturn: s.sumReturn / n, meanShapedReturn: s.sumShapedReturn / n, meanLength: s.sumLength / n, meanTerms, stageReached };
}

/** Adds one finished episode to statistics words [SLOT_STAT_WORDS]: success, returns, term sums termSums[termsAt .. termsAt + 8], maxStage, length. */
export function recordEpisode(words: Float64Array, success: number, ret: number, shaped: number, termSums: Float32Array, termsAt: number, maxStage: number, length: number): void {
  words[W_COUNT] += 1;
  words[W_SUCCESS] += success;
  words[W_RETURN] += ret;
  words[W_SHAPED] += shaped;
  for (let j = 0; j < MAX_REWARD_TERMS; j++) words[W_TERMS + j] += termSums[termsAt + j];
  words[W_HIST + maxStage] += 1;
  words[W_LENGTH] += length;
}
