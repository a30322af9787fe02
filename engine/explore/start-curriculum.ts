/**
 * Go-Explore phase 2 (robustify): episodes that start from states along successful demonstrations, moving the start
 * backwards as the policy succeeds from it (the backward algorithm of Salimans & Chen 2018, "Learning Montezuma's
 * Revenge from a single demonstration"), mixed with ordinary resets.
 *
 * Demonstrations are the archive's successful trajectories, re-simulated once from their start rows
 * (`replayDemos`); each becomes the snapshot rows of the states it passed through up to its first success. An
 * episode that ends is followed, with probability `demoShare`, by one started `back` steps (plus up to `window`
 * more, drawn) before the success of a drawn demonstration; `back` grows by `step` after every iteration in which
 * at least `minEpisodes` demo-started episodes ended with a success rate of `threshold` or more. A demo-started
 * episode lasts the demonstration's remaining steps to success plus `slack` (its episode step is moved forward,
 * never back), so early starts must reach the goal and hold it a short while, as the backward algorithm intends,
 * rather than hold it for the rest of a 50-step episode. Once `back` reaches the demonstrations' first states
 * (`complete`), demo starts end and every episode starts from an ordinary reset.
 */
import { makeEnv, type VecEnv } from '../env.ts';
import { counterUniform } from '../rng.ts';
import { checkIntIn } from '../numeric.ts';
import type { SuccessTrajectory } from './archive.ts';
import { packReachedRow } from '../state.ts';

const CHOOSE_SALT = 0x5ea7c0de;

/** A demonstration: snapshot rows [length, W] of the states from its start up to its first success. */
export interface Demo {
  rows: Float32Array;
  length: number;
}

/** Settings of the curriculum. */
export interface CurriculumSettings {
  /** Share of new episodes that start from a demonstration. */
  demoShare: number;
  /** Success rate of demo-started episodes that moves the start back. */
  threshold: number;
  /** Steps the start moves back each time. */
  step: number;
  /** Extra steps back drawn uniformly per episode, for a spread of starts. */
  window: number;
  /** Fewest demo-started episodes an iteration needs to judge the success rate. */
  minEpisodes: number;
  /** Steps a demo-started episode lasts beyond the demonstration's remaining steps to success. */
  slack: number;
}

export const DEFAULT_CURRICULUM: CurriculumSettings = { demoShare: 0.8, threshold: 0.5, step: 2, window: 2, minEpisodes: 32, slack: 10 };

/** Steps a demonstration's success must hold, with the gripper still, for the demonstration to be kept. */
export const DEMO_HOLD_STEPS = 10;

/**
 * Re-simulates successful trajectories in one env per trajectory (the task's default physics) and keeps those that
 * succeed again and whose success holds: after the first success the gripper stays still (zero actions) for
 * DEMO_HOLD_STEPS steps (or to the episode's end), and the state reached must still be a success. This drops
 * trajectories that push an object through the goal at speed, from which no policy can finish the episode at the
 * goal. Kept demos are cut at their first success. Returns the demos and how many trajectories were dropped.
 */
export async function replayDemos(task: string, trajectories: SuccessTrajectory[]): Promise<{ demos: Demo[]; failed: number }> {
  if (!trajectories.length) return { demos: [], failed: 0 };
  const N = trajectories.length;
  const env = await makeEnv(task, { numEnvs: N, seed: 0 });
  try {
    const W = env.stateLayout.rowWidth, A = env.actDim, b = env.batch;
    env.reset();
    const starts = new Float32Array(N * W);
    trajectories.forEach((t, i) => starts.set(t.start, i * W));
    env.setState(starts);
    const rows: Float32Array[][] = trajectories.map((_, i) => [starts.slice(i * W, i * W + W)]);
    // Per env: -1 while replaying, else the steps held since the first success; and the verdict.
    const held = new Int32Array(N).fill(-1);
    const kept = new Uint8Array(N), over = new Uint8Array(N);
    const act = new Float32Array(N * A);
    for (let t = 0; !over.every(Boolean); t++) {
      act.fill(0);
      for (let i = 0; i < N; i++) if (held[i] < 0 && t < trajectories[i].steps) act.set(trajectories[i].actions.subarray(t * A, t * A + A), i * A);
      env.step(act);
      for (let i = 0; i < N; i++) {
        if (over[i]) continue;
        if (held[i] >= 0) {
          held[i]++;
          if (held[i] >= DEMO_HOLD_STEPS || b.done[i]) { over[i] = 1; kept[i] = b.success[i]; }
          continue;
        }
        const reached = new Float32Array(W);
        packReachedRow(b, env.stateLayout, i, reached, 0);
        rows[i].push(reached);
        if (b.success[i] && !b.done[i]) held[i] = 0;
        else if (b.done[i] || t + 1 >= trajectories[i].steps) over[i] = 1;
      }
    }
    const demos: Demo[] = [];
    for (let i = 0; i < N; i++) {
      // A demo must leave at least one step before its success to start from.
      if (!kept[i] || rows[i].length < 2) continue;
      const r = new Float32Array(rows[i].length * W);
      rows[i].forEach((x, k) => r.set(x, k * W));
      demos.push({ rows: r, length: rows[i].length });
    }
    return { demos, failed: N - demos.length };
  } finally {
    await env.close();
  }
}

/** Checks the settings; throws naming the first bad one. */
export function validateCurriculum(s: CurriculumSettings): CurriculumSettings {
  for (const k of ['demoShare', 'threshold'] as const) if (typeof s[k] !== 'number' || !(s[k] >= 0 && s[k] <= 1)) throw new Error(`starts: ${k} must be in [0, 1], got ${s[k]}`);
  for (const k of ['step', 'window', 'minEpisodes', 'slack'] as const) checkIntIn(`starts: ${k}`, s[k], 0, 10000);
  if (s.step < 1) throw new Error('starts: step must be at least 1');
  return s;
}

/** The running curriculum over one training env. */
export class StartCurriculum {
  readonly demos: Demo[];
  readonly settings: CurriculumSettings;
  /** Steps before a demonstration's success that episodes start from (before the drawn window). */
  back = 1;
  private readonly seed: number;
  private readonly fromDemo: Uint8Array;
  private episodes = 0;
  private successes = 0;
  /** Statistics of the last finished iteration. */
  last = { demoEpisodes: 0, demoSuccessRate: Number.NaN };
  private readonly longest: number;

  constructor(demos: Demo[], settings: CurriculumSettings, numEnvs: number, seed: number) {
    if (!demos.length) throw new Error('starts: no demonstration reproduces a success; explore longer or check the archive');
    this.demos = demos;
    this.settings = validateCurriculum(settings);
    this.fromDemo = new Uint8Array(numEnvs);
    this.seed = seed;
    this.longest = Math.max(...demos.map((d) => d.length));
  }

  /** Whether every demo start has reached its episode's first state (the curriculum has nothing left to move). */
  get complete(): boolean {
    return this.back >= this.longest - 1;
  }

  /**
   * After env.step: counts the demo-started episodes that ended, then starts some of the new episodes from
   * demonstration states (env.setState), keeping each env's own episode counter.
   */
  afterStep(env: VecEnv): void {
    const b = env.batch, L = env.stateLayout.fields, W = env.stateLayout.rowWidth, ep = L.episodeIndex[0], s = this.settings;
    const ids: number[] = [];
    let rows: Float32Array | null = null;
    for (let g = 0; g < env.numEnvs; g++) {
      if (!b.done[g]) continue;
      if (this.fromDemo[g]) {
        this.episodes++;
        this.successes += b.finalEpisodeSuccess[g];
      }
      this.fromDemo[g] = 0;
      // Once the starts reach the episodes' first states there is nothing left to learn backwards: from then on
      // every episode starts from an ordinary reset, the distribution evaluation uses.
      if (this.complete) continue;
      const e = b.episodeIndex[g];
      if (counterUniform(this.seed ^ CHOOSE_SALT, g, e, 0) >= s.demoShare) continue;
      const d = this.demos[Math.floor(counterUniform(this.seed ^ CHOOSE_SALT, g, e, 1) * this.demos.length)];
      const extra = Math.floor(counterUniform(this.seed ^ CHOOSE_SALT, g, e, 2) * (s.window + 1));
      const at = Math.max(0, d.length - 1 - this.back - extra);
      rows ??= new Float32Array(env.numEnvs * W);
      const r = rows.subarray(ids.length * W, ids.length * W + W);
      r.set(d.rows.subarray(at * W, at * W + W));
      // The env's own episode counter, sums that count this episode's steps only, and the remaining steps to
      // success plus the slack left in the episode.
      r[ep] = e;
      const T = env.task.maxEpisodeSteps;
      r[L.episodeStep[0]] = Math.max(r[L.episodeStep[0]], T - (d.length - 1 - at) - s.slack);
      r[L.episodeReturn[0]] = 0;
      r[L.episodeShapedReturn[0]] = 0;
      r.fill(0, L.episodeTermSums[0], L.episodeTermSums[0] + L.episodeTermSums[1]);
      ids.push(g);
      this.fromDemo[g] = 1;
    }
    if (ids.length) env.setState(rows!.subarray(0, ids.length * W), ids);
  }

  /** Ends an iteration: moves the start back when demo-started episodes succeeded often enough. */
  endIteration(): void {
    const s = this.settings;
    this.last = { demoEpisodes: this.episodes, demoSuccessRate: this.episodes ? this.successes / this.episodes : Number.NaN };
    if (this.episodes >= s.minEpisodes && this.successes / this.episodes >= s.threshold && !this.complete) this.back += s.step;
    this.episodes = 0;
    this.successes = 0;
  }
}
