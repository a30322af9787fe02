/**
 * Threads benchmark of the WASM CPU backend: one ppoStep (copy in, forward of both nets, loss, backward, reduction,
 * gradient norm, clipping, Adam) at the trainer's default minibatch (T·N / numMinibatches = 16·1024 / 4 = 4096 rows)
 * and one act() on the N = 1024 rows of a collection step, for WasmBackend (one thread) and ParallelWasmBackend
 * with 1 and 2 threads (lanes; the calling thread is lane 0), over hidden widths, in one run on one machine.
 *
 * Every step sees the same minibatch (every call does the same work). Warm-up calls are left out; medians are
 * reported, and the speedup is the single-thread WasmBackend median over the ParallelWasmBackend one.
 *
 *   node --import tsx bench/train-step-threads.ts [--batch 4096] [--act-rows 1024] [--widths 64,256] [--threads 1,2]
 *     [--obs 28] [--act 4] [--budget-s 1.5] [--min-reps 5] [--max-reps 40] [--out FILE]
 *
 * Writes bench/results/train-step-threads-<host>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PPO_HYPERPARAMS, type BackendActOutputs, type Minibatch, type PolicyBackend } from '../engine/nn/backend.ts';
import { ParallelWasmBackend } from '../engine/nn/parallel-wasm-backend.ts';
import { WasmBackend } from '../engine/nn/wasm-backend.ts';
import { benchArgs, gitCommit, machineInfo, timeBudgeted } from './util.ts';

const args = benchArgs(process.argv.slice(2));
const { num, list } = args;
const N = num('batch', 4096);
const ACT_ROWS = num('act-rows', 1024);
const WIDTHS = list('widths', [64, 256]);
const THREADS = list('threads', [1, 2]);
const OBS = num('obs', 28);
const ACT = num('act', 4);
const BUDGET_MS = num('budget-s', 1.5) * 1000;
const MIN_REPS = num('min-reps', 5);
const MAX_REPS = num('max-reps', 40);
const WARMUP = 3;
const SEED = 1;
const time = (fn: () => unknown) => timeBudgeted(fn, { warmup: WARMUP, minReps: MIN_REPS, maxReps: MAX_REPS, budgetMs: BUDGET_MS });
// A small learning rate keeps the parameters (and so the work) nearly fixed over the repetitions.
const HP = { ...DEFAULT_PPO_HYPERPARAMS, lr: 1e-6 };

/** A deterministic minibatch of n rows: smooth observations, actions near 0, ratios near 1, O(1) advantages. */
function minibatch(n: number): Minibatch {
  const f = (len: number, g: (i: number) => number) => Float32Array.from({ length: len }, (_, i) => g(i));
  return {
    n,
    obs: f(n * OBS, (i) => Math.sin(i * 0.37)),
    actions: f(n * ACT, (i) => 0.5 * Math.cos(i * 0.11)),
    oldLogProb: f(n, (i) => -ACT * 0.9189385 - 0.1 - 0.05 * Math.sin(i)),
    advantages: f(n, (i) => Math.sin(i * 0.7) + 0.1),
    returns: f(n, (i) => Math.cos(i * 0.3)),
    oldValues: f(n, (i) => 0.1 * Math.sin(i * 0.5)),
  };
}

interface Row {
  width: number;
  backend: string;
  threads: number;
  ppoStepMs: number;
  ppoStepReps: number;
  actMs: number;
  actReps: number;
  ppoStepSpeedup: number;
  actSpeedup: number;
}

const loadBefore = os.loadavg();
const mb = minibatch(N);
const actObs = mb.obs.subarray(0, ACT_ROWS * OBS);
const out: BackendActOutputs = { action: new Float32Array(ACT_ROWS * ACT), logProb: new Float32Array(ACT_ROWS), value: new Float32Array(ACT_ROWS) };
const rows: Row[] = [];
for (const width of WIDTHS) {
  const opts = { obsDim: OBS, actDim: ACT, hidden: [width, width], seed: SEED, maxBatch: N };
  const cases: { name: string; threads: number; make: () => Promise<PolicyBackend> }[] = [
    { name: 'WasmBackend', threads: 1, make: () => WasmBackend.create(opts) },
    ...THREADS.map((k) => ({ name: 'ParallelWasmBackend', threads: k, make: () => ParallelWasmBackend.create({ ...opts, threads: k }) })),
  ];
  let base: { step: number; act: number } | null = null;
  for (const c of cases) {
    const b = await c.make();
    try {
      let step = 0;
      const s = await time(() => b.ppoStep(mb, HP));
      const a = await time(() => b.act(actObs, ACT_ROWS, { step: step++ }, out));
      base ??= { step: s.medianMs, act: a.medianMs };
      const row: Row = {
        width, backend: c.name, threads: c.threads, ppoStepMs: +s.medianMs.toFixed(3), ppoStepReps: s.reps, actMs: +a.medianMs.toFixed(3), actReps: a.reps,
        ppoStepSpeedup: +(base.step / s.medianMs).toFixed(3), actSpeedup: +(base.act / a.medianMs).toFixed(3),
      };
      rows.push(row);
      console.log(`width ${width} ${c.name} ×${c.threads}: ppoStep(${N}) ${row.ppoStepMs} ms (×${row.ppoStepSpeedup}), act(${ACT_ROWS}) ${row.actMs} ms (×${row.actSpeedup})`);
    } finally {
      b.destroy();
    }
  }
}

const machine = machineInfo();
const result = {
  benchmark: 'train-step-threads', date: new Date().toISOString(), commit: gitCommit(), machine, node: process.version,
  // 1-minute load averages before and after: other processes on a 2-core machine take the second thread's core.
  loadAvg: { before: +loadBefore[0].toFixed(2), after: +os.loadavg()[0].toFixed(2) },
  config: { batch: N, actRows: ACT_ROWS, obs: OBS, act: ACT, widths: WIDTHS, threads: THREADS, warmup: WARMUP, budgetS: BUDGET_MS / 1000, minReps: MIN_REPS, maxReps: MAX_REPS, hp: HP },
  rows,
};
const file = args.get('out') ?? fileURLToPath(new URL(`./results/train-step-threads-${machine.host}.json`, import.meta.url));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(`wrote ${file}`);
