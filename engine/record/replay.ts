/**
 * Re-simulates a recording: an env like the recording's (task, numEnvs, numWorkers, seed, physics, domain randomization) takes
 * each episode's start row into the env it ran in and replays the recorded actions; the drift is the largest
 * distance between a replayed body position and the recorded one over the episode, m.
 */
import { makeEnv, type EnvOptions } from '../env.ts';
import { median } from '../numeric.ts';
import { packReachedRow } from '../state.ts';
import { episodeViews, stepFields, stepWidth, type Recording } from './format.ts';

/** What a replay measured. */
export interface ReplayReport {
  task: string;
  episodes: number;
  steps: number;
  /** Per episode: the largest body position error over its steps, m. */
  errors: number[];
  medianError: number;
  worstError: number;
  /** Episodes replayed with every recorded position reproduced bit for bit. */
  bitIdentical: number;
  /** Episodes whose replayed success at the last step equals the recorded one. */
  successAgrees: number;
  recordedSuccess: number;
  replayedSuccess: number;
}

/** Replays every episode of a recording and reports the drift. */
export async function replayRecording(rec: Recording): Promise<ReplayReport> {
  const m = rec.manifest;
  const env = await makeEnv(m.task, {
    numEnvs: m.numEnvs, numWorkers: m.numWorkers, seed: m.seed, physics: m.physics as EnvOptions['physics'],
    domainRandomization: (m.domainRandomization ?? undefined) as EnvOptions['domainRandomization'], subgoals: m.subgoals,
  });
  try {
    const L = env.stateLayout, W = L.rowWidth, A = env.actDim, S = stepWidth(m), f = stepFields(m), [po, pw] = L.fields.bodyPose;
    if (A !== m.actDim) throw new Error(`replay: the recording has ${m.actDim}-dim actions, task ${m.task} takes ${A}`);
    const errors = new Array<number>(m.episodes.length).fill(0);
    const now = new Float32Array(W);
    const replayedOk = new Array<boolean>(m.episodes.length).fill(false);
    env.reset();
    // Rounds: each takes at most one episode per env, in recording order.
    const pending = m.episodes.map((_, e) => e);
    const act = new Float32Array(m.numEnvs * A);
    let steps = 0;
    while (pending.length) {
      const round: number[] = [], taken = new Set<number>();
      for (let k = 0; k < pending.length; k++) {
        const e = pending[k];
        if (taken.has(m.episodes[e].env)) continue;
        taken.add(m.episodes[e].env);
        round.push(e);
        pending.splice(k--, 1);
      }
      const starts = new Float32Array(round.length * W);
      round.forEach((e, r) => starts.set(episodeViews(rec, e).start, r * W));
      env.setState({ layout: m.stateLayout, data: starts }, round.map((e) => m.episodes[e].env));
      const len = Math.max(...round.map((e) => m.episodes[e].steps));
      for (let t = 0; t < len; t++) {
        act.fill(0);
        for (const e of round) {
          const { steps: rows, entry } = episodeViews(rec, e);
          if (t < entry.steps) act.set(rows.subarray(t * S + f.action, t * S + f.action + A), entry.env * A);
        }
        env.step(act);
        steps++;
        const b = env.batch;
        for (const e of round) {
          const { steps: rows, entry } = episodeViews(rec, e);
          if (t >= entry.steps) continue;
          const g = entry.env;
          packReachedRow(b, L, g, now, 0);
          const want = rows.subarray(t * S + f.row, t * S + f.row + W);
          for (let k = 0; k < pw; k++) if (k % 7 < 3) errors[e] = Math.max(errors[e], Math.abs(now[po + k] - want[po + k]));
          if (t === entry.steps - 1) replayedOk[e] = b.success[g] === 1;
        }
      }
    }
    const successAgrees = m.episodes.filter((ep, e) => ep.success === replayedOk[e]).length;
    return {
      task: m.task, episodes: m.episodes.length, steps, errors, medianError: errors.length ? median(errors) : 0, worstError: errors.length ? Math.max(...errors) : 0,
      bitIdentical: errors.filter((x) => x === 0).length, successAgrees, recordedSuccess: m.episodes.filter((e) => e.success).length, replayedSuccess: replayedOk.filter(Boolean).length,
    };
  } finally {
    await env.close();
  }
}
