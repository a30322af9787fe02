/**
 * Restore drift: how far a trajectory restored with env.setState drifts from the original under the same
 * actions. For each task, N envs take seeded random actions; a snapshot is taken at step `at` (0 = a fresh episode
 * start, or mid-episode), the envs go on 50 steps, the snapshot is restored (into the same env, or each env's row
 * into another env) and the same 50 actions are replayed. Per env: the largest position error of any body over the
 * 50 steps, m. Reports the median and the worst over envs and the count of bit-identical envs; writes
 * bench/results/restore-drift-<host>.json.
 *
 *   node --import tsx bench/restore-drift.ts [--envs 256] [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { makeEnv } from '../engine/env.ts';
import { counterUniform } from '../engine/rng.ts';
import { benchArgs, gitCommit, machineInfo, markdownTable, median, updateReadmeTable } from './util.ts';

const args = benchArgs(process.argv.slice(2));
const quick = args.has('quick');
const N = args.num('envs', quick ? 64 : 256);
const STEPS = 50;
const TASKS = ['Push', 'PickAndPlace', 'Stack'];
/** Env j takes the row of env (j + SHIFT) mod N in the cross-env case. */
const SHIFT = 17;

interface Row { task: string; at: number; steps: number; into: 'same env' | 'other env'; envs: number; medianError: number; worstError: number; bitIdentical: number }

/**
 * Largest body position error per env over the steps after restoring the state taken at step `at`: STEPS, or
 * fewer where the episode ends first (the state after the last step is the next episode's start, sampled anew).
 */
async function drift(task: string, at: number, cross: boolean): Promise<{ err: Float64Array; steps: number }> {
  const env = await makeEnv(task, { numEnvs: N, seed: 11, shaping: { mode: 'pbrs' } });
  const steps = Math.min(STEPS, env.task.maxEpisodeSteps - at - 1);
  try {
    const A = env.actDim, act = new Float32Array(N * A);
    // Env j's actions at step t; the restored env j plays the actions of the env it took its row from.
    const fill = (t: number, from: (j: number) => number) => {
      for (let j = 0; j < N; j++) for (let k = 0; k < A; k++) act[j * A + k] = 2 * counterUniform(5, from(j) * A + k, t, 0) - 1;
    };
    const own = (j: number) => j, src = (j: number) => (cross ? (j + SHIFT) % N : j);
    env.reset();
    for (let t = 0; t < at; t++) { fill(t, own); env.step(act); }
    const snap = env.getState();
    const W = env.stateLayout.rowWidth, [po, pw] = env.stateLayout.fields.bodyPose;
    const original: Float32Array[] = [];
    for (let t = at; t < at + steps; t++) { fill(t, own); env.step(act); original.push(env.getState().data); }
    const rows = new Float32Array(N * W);
    for (let j = 0; j < N; j++) rows.set(snap.data.subarray(src(j) * W, src(j) * W + W), j * W);
    env.setState(rows);
    const err = new Float64Array(N);
    for (let t = at; t < at + steps; t++) {
      fill(t, src);
      env.step(act);
      const d = env.getState().data, ref = original[t - at];
      for (let j = 0; j < N; j++) {
        const a = j * W + po, b = src(j) * W + po;
        for (let k = 0; k < pw; k++) if (k % 7 < 3) err[j] = Math.max(err[j], Math.abs(d[a + k] - ref[b + k]));
      }
    }
    return { err, steps };
  } finally {
    await env.close();
  }
}

const rows: Row[] = [];
for (const task of TASKS) {
  for (const at of [0, 10]) {
    for (const cross of [false, true]) {
      const d = await drift(task, at, cross), e = Array.from(d.err);
      const row: Row = { task, at, steps: d.steps, into: cross ? 'other env' : 'same env', envs: N, medianError: median(e), worstError: Math.max(...e), bitIdentical: e.filter((x) => x === 0).length };
      rows.push(row);
      console.log(`${task}, snapshot at step ${at}, ${d.steps} steps, restored into the ${row.into}: median ${row.medianError.toExponential(2)} m, worst ${row.worstError.toExponential(2)} m, bit-identical ${row.bitIdentical}/${N}`);
    }
  }
}
const machine = machineInfo();
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/restore-drift-${machine.host}.json`;
writeFileSync(file, JSON.stringify({ bench: 'restore-drift', date: new Date().toISOString(), commit: gitCommit(), machine, steps: STEPS, rows }, null, 2) + '\n');
console.log(`wrote ${file}`);
if (!quick) {
  const md = markdownTable(['task', 'snapshot at step', 'steps after', 'restored into', 'median error (m)', 'worst error (m)', 'bit-identical envs'],
    rows.map((r) => [r.task, r.at, r.steps, r.into, r.medianError.toExponential(1), r.worstError.toExponential(1), `${r.bitIdentical}/${r.envs}`]));
  if (updateReadmeTable('restore-drift', md)) console.log('updated README.md table restore-drift');
}
