/**
 * Shaping benchmark: ns per env for the WASM kernel and the TypeScript reference on the Push spec at
 * N = 64, 1024, 16384, single thread. Warm-up excluded; each figure is the median over repetitions.
 * Writes bench/results/shaping-<host>.json (machine, N, commit).
 *
 *   node --import tsx bench/shaping.ts [--quick]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createBatch, type Batch } from '../engine/batch.ts';
import { makeEnv } from '../engine/env.ts';
import { ScriptedPush } from '../tasks/scripted.ts';
import { machineInfo } from './util.ts';
import { ShapingKernel, ShapingReference, type Shaper } from '../engine/shaping/index.ts';
import { PUSH_SUBGOALS } from '../tasks/push.ts';
import { mulberry32 as rng } from '../engine/rng.ts';

const quick = process.argv.includes('--quick');
const SIZES = [64, 1024, 16384];
const REPS = quick ? 5 : 21;
/** Least time one repetition runs, ms. */
const REP_MS = quick ? 5 : 20;
const WARMUP_MS = quick ? 50 : 300;


/** Push-like states: goal and cube on the table, the grip near the cube; about 1 env in 50 ends per step. */
function fill(b: Batch, seed: number): void {
  const r = rng(seed);
  for (let i = 0; i < b.numEnvs; i++) {
    const gx = 1.3 + (r() - 0.5) * 0.3, gy = 0.75 + (r() - 0.5) * 0.3;
    const ox = gx + (r() - 0.5) * 0.2, oy = gy + (r() - 0.5) * 0.2;
    b.points.set([ox + (r() - 0.5) * 0.2, oy + (r() - 0.5) * 0.2, 0.425 + r() * 0.05, ox, oy, 0.425, gx, gy, 0.425], i * 9);
    b.reward[i] = r() < 0.2 ? 0 : -1;
    b.truncated[i] = i % 50 === 7 ? 1 : 0;
    b.done[i] = b.truncated[i];
  }
}

/** Median ns per env of fn() over REPS repetitions, after warm-up. */
function time(n: number, fn: () => void): number {
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < WARMUP_MS) {
    fn();
    calls++;
  }
  const perCallMs = (performance.now() - t0) / calls;
  const iters = Math.max(1, Math.ceil(REP_MS / perCallMs));
  const samples: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const s = performance.now();
    for (let k = 0; k < iters; k++) fn();
    samples.push(((performance.now() - s) * 1e6) / (iters * n));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

const results = [];
for (const N of SIZES) {
  const dims = { numEnvs: N, obsDim: 25, actDim: 4, goalDim: 3, numPoints: 3 };
  const config = { mode: 'pbrs' as const, gamma: 0.98, weight: 1 };
  const a = createBatch(dims), b = createBatch(dims);
  fill(a, N);
  fill(b, N);
  const kernel = await ShapingKernel.create(a, PUSH_SUBGOALS, ['grip', 'object', 'goal'], config);
  const ref: Shaper = ShapingReference.create(b, PUSH_SUBGOALS, ['grip', 'object', 'goal'], config);
  kernel.reset();
  ref.reset();
  const stages = [0, 0, 0];
  for (const k of a.stage) stages[k]++;
  const row = {
    N,
    /** One step(0, N). */
    kernelStepNsPerEnv: time(N, () => kernel.step(0, N)),
    /** What the loop runs per control step: step(0, N) then reset(0, N, onlyDone) with 1 env in 50 done. */
    kernelStepAndAutoresetNsPerEnv: time(N, () => {
      kernel.step(0, N);
      kernel.reset(0, N, true);
    }),
    /** reset(0, N, false) (env.reset()). */
    kernelResetNsPerEnv: time(N, () => kernel.reset(0, N, false)),
    referenceStepNsPerEnv: time(N, () => ref.step(0, N)),
    referenceStepAndAutoresetNsPerEnv: time(N, () => {
      ref.step(0, N);
      ref.reset(0, N, true);
    }),
    stageMix: stages,
  };
  kernel.free();
  results.push(row);
  console.log(
    `N=${String(N).padStart(5)}  kernel step ${row.kernelStepNsPerEnv.toFixed(2)} ns/env, step+autoreset ${row.kernelStepAndAutoresetNsPerEnv.toFixed(2)}, ` +
      `reset ${row.kernelResetNsPerEnv.toFixed(2)} | reference step ${row.referenceStepNsPerEnv.toFixed(2)}, step+autoreset ${row.referenceStepAndAutoresetNsPerEnv.toFixed(2)}  (stages ${stages})`,
  );
}

// Shaping's share of the full loop at N = 1024: the median env.step of Push with pbrs shaping and the
// scripted push (physics, readback, shaping, autoreset), against the kernel's step + autoreset cost above.
const loopN = 1024;
const env = await makeEnv('Push', { numEnvs: loopN, seed: 1, shaping: { mode: 'pbrs', gamma: 0.98 } });
const ctl = new ScriptedPush(loopN), act = new Float32Array(loopN * 4);
let view = env.reset();
const stepMs: number[] = [];
for (let t = 0; t < (quick ? 60 : 300); t++) {
  ctl.act(view.obs, view.desiredGoal, env.batch.episodeStep, act);
  const t0 = performance.now();
  view = env.step(act);
  if (t >= (quick ? 20 : 100)) stepMs.push(performance.now() - t0);
}
await env.close();
stepMs.sort((x, y) => x - y);
const loopStepNsPerEnv = (stepMs[stepMs.length >> 1] * 1e6) / loopN;
const kernelAt1024 = results.find((r) => r.N === 1024)!.kernelStepAndAutoresetNsPerEnv;
const fullLoop = { N: loopN, loopStepNsPerEnv, kernelStepAndAutoresetNsPerEnv: kernelAt1024, shapingShareOfStep: kernelAt1024 / loopStepNsPerEnv };
console.log(`full loop at N=${loopN}: ${loopStepNsPerEnv.toFixed(0)} ns/env per step; shaping ${kernelAt1024.toFixed(1)} ns/env = ${(fullLoop.shapingShareOfStep * 100).toFixed(2)}% of it`);

const cpus = os.cpus();
const out = {
  bench: 'shaping',
  spec: 'Push (2 stages, 1 derived point)',
  mode: 'pbrs (every term is computed in every mode)',
  threads: 1,
  machine: { host: os.hostname(), cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, platform: `${os.platform()} ${os.arch()}`, node: process.version, loadavg1m: os.loadavg()[0] },
  commit: commit(),
  date: new Date().toISOString(),
  reps: REPS,
  quick,
  results,
  fullLoop,
};
if (!quick) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/shaping-${machineInfo().host}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
}
