/**
 * Failure analysis of traced episodes (trace.ts), after Auto MC-Reward's trajectory analyzer: per subgoal stage,
 * how many episodes complete it, when, and how many lose it again; where episodes stall; what each reward term
 * paid. Definitions, for an episode of T steps (states s_0 … s_T) over K stages:
 *
 * - stage k is **reached** when the latched stage exceeds k (stage k completed), at the first step t_k with
 *   stage(s_t) > k (0: on the reset state); the latch never drops, so this is stage(s_T) > k;
 * - a reached stage k is **lost** when its predicate, held at some step of [t_k, end), does not hold at a later
 *   step of it, where end is t_{k+1} (stage k + 1 completed: its prerequisite no longer matters) or, for the last
 *   stage or when stage k + 1 is never completed, the end of the episode (T + 1);
 * - an episode **stalls** at stage stage(s_T), the one it was working on when it ended (K: every stage completed);
 * - **success** is the success of s_T, as `cairn eval` counts it.
 */
import { median } from '../numeric.ts';
import type { EpisodeTrace } from './trace.ts';

/** What the episodes did with one subgoal stage. */
export interface StageAnalysis {
  name: string;
  /** Episodes that reached the stage. */
  reachedEpisodes: number;
  /** reachedEpisodes / episodes, in [0, 1]. */
  reached: number;
  /** Median control step t_k of reaching it over those episodes (0: on the reset state); null when none did. */
  medianStep: number | null;
  /** Of the episodes that reached it, those that lost it. */
  lostEpisodes: number;
  /** lostEpisodes / reachedEpisodes, in [0, 1]; null when none reached it. */
  lost: number | null;
}

/** The failure analysis of a set of episodes (JSON-serializable). */
export interface RunAnalysis {
  episodes: number;
  /** Share of episodes whose last state is a success, in [0, 1]. */
  successRate: number;
  /** Mean episode length, control steps. */
  meanLength: number;
  /** [K] per stage, in order. */
  stages: StageAnalysis[];
  /** [K + 1] episodes that stalled at stage k (k = K: every stage completed); sums to episodes. */
  stalls: number[];
  /** Mean per-episode sum of each reward term, by term name. */
  meanTermSums: Record<string, number>;
}

/** Throws unless trace e holds whole arrays for its length, K stages and M terms. */
function checkTrace(e: EpisodeTrace, n: number, K: number, M: number): void {
  const T = e.length;
  const want: [string, number, number][] = [['stage', e.stage.length, T + 1], ['holds', e.holds.length, (T + 1) * K], ['terms', e.terms.length, T * M], ['success', e.success.length, T]];
  if (!(Number.isInteger(T) && T >= 1)) throw new Error(`analyze: episode ${n} has length ${T}; episodes last at least one step`);
  for (const [name, have, need] of want) if (have !== need) throw new Error(`analyze: episode ${n} of ${T} steps has ${have} ${name} values, expected ${need}`);
  const last = e.stage[T];
  if (!(Number.isInteger(last) && last >= 0 && last <= K)) throw new Error(`analyze: episode ${n} ends at stage ${last}, outside [0, ${K}]`);
}

/** First step t with stage(s_t) > k, or −1 when the episode never completes stage k. */
function reachStep(e: EpisodeTrace, k: number): number {
  for (let t = 0; t <= e.length; t++) if (e.stage[t] > k) return t;
  return -1;
}

/** Whether stage k's predicate holds at some step of [from, to) and fails at a later one (holds [(T + 1) × K]). */
function heldThenLost(e: EpisodeTrace, k: number, K: number, from: number, to: number): boolean {
  let held = false;
  for (let t = from; t < to; t++) {
    if (e.holds[t * K + k]) held = true;
    else if (held) return true;
  }
  return false;
}

/** The analysis of episodes over stages stageNames [K] and reward terms termNames [M]. */
export function analyzeEpisodes(episodes: readonly EpisodeTrace[], stageNames: readonly string[], termNames: readonly string[]): RunAnalysis {
  const n = episodes.length, K = stageNames.length, M = termNames.length;
  if (n === 0) throw new Error('analyze: no episodes to analyze');
  episodes.forEach((e, i) => checkTrace(e, i, K, M));
  const steps: number[][] = stageNames.map(() => []);
  const lost = new Array<number>(K).fill(0);
  const stalls = new Array<number>(K + 1).fill(0);
  const termSums = new Float64Array(M);
  let successes = 0, length = 0;
  for (const e of episodes) {
    const T = e.length;
    const t = stageNames.map((_, k) => reachStep(e, k));
    for (let k = 0; k < K; k++) {
      if (t[k] < 0) continue;
      steps[k].push(t[k]);
      const end = k + 1 < K && t[k + 1] >= 0 ? t[k + 1] : T + 1;
      if (heldThenLost(e, k, K, t[k], end)) lost[k]++;
    }
    stalls[e.stage[T]]++;
    for (let s = 0; s < T; s++) for (let j = 0; j < M; j++) termSums[j] += e.terms[s * M + j];
    successes += e.success[T - 1] ? 1 : 0;
    length += T;
  }
  const meanTermSums: Record<string, number> = {};
  termNames.forEach((name, j) => (meanTermSums[name] = termSums[j] / n));
  return {
    episodes: n,
    successRate: successes / n,
    meanLength: length / n,
    stages: stageNames.map((name, k) => {
      const m = steps[k].length;
      return { name, reachedEpisodes: m, reached: m / n, medianStep: m ? median(steps[k]) : null, lostEpisodes: lost[k], lost: m ? lost[k] / m : null };
    }),
    stalls,
    meanTermSums,
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * A plain-text summary: success, then a line per stage ("62.0% reach behind-object by step 14 (median); 41.0% of
 * those lose it before object-at-goal"), where episodes stall, and the mean reward term sums.
 */
export function formatAnalysis(a: RunAnalysis): string {
  const K = a.stages.length;
  const lines = [`success ${pct(a.successRate)} of ${a.episodes} episodes (mean action), ${a.meanLength.toFixed(1)} steps per episode`];
  a.stages.forEach((s, k) => {
    const before = k + 1 < K ? `before ${a.stages[k + 1].name}` : 'before the episode ends';
    const lost = s.lost === null ? '' : `; ${pct(s.lost)} of those lose it ${before}`;
    lines.push(`${pct(s.reached)} reach ${s.name}${s.medianStep === null ? '' : ` by step ${s.medianStep} (median)`}${lost}`);
  });
  const stalled = a.stages.map((s, k) => `${s.name} ${pct(a.stalls[k] / a.episodes)} (${a.stalls[k]})`).join(', ');
  lines.push(`episodes stall at: ${stalled}; ${pct(a.stalls[K] / a.episodes)} (${a.stalls[K]}) complete every stage`);
  lines.push(`mean reward term sums per episode: ${Object.entries(a.meanTermSums).map(([name, v]) => `${name} ${v.toFixed(2)}`).join(', ')}`);
  return lines.join('\n');
}
