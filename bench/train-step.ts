/**
 * PPO update benchmark: one ppoStep (upload, forward of both nets, loss, backward, gradient norm, clipping, Adam,
 * stats readback) of the WebGPU backend, next to its act() forward on the same batch, the WASM backend's
 * ppoStep and act(), and the float64 reference step, over hidden widths, in one run on one machine.
 *
 * Every step sees the same minibatch (its gradient changes little between steps, so every call does the same
 * work). Warm-up calls are left out; medians are reported. FLOPs of a step = 2·N·(2 Σ in·out + Σ_{l>0} in·out)
 * over both nets (forward, weight gradient, input gradient; multiply-adds only); of act(), 2·N·Σ in·out.
 *
 *   node --import tsx bench/train-step.ts [--batch 1024] [--widths 64,256] [--obs 25] [--act 4]
 *     [--budget-s 2] [--min-reps 3] [--max-reps 20] [--no-reference] [--out FILE]
 *
 * Writes bench/results/train-step-<vendor>-<arch>.json (the WebGPU adapter names the file).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { adapterInfoOf, getDevice } from '../engine/gpu/device.ts';
import { DEFAULT_PPO_HYPERPARAMS, type Minibatch } from '../engine/nn/backend.ts';
import { adamState64, referencePpoStep } from '../engine/nn/ppo-reference.ts';
import { WasmBackend } from '../engine/nn/wasm-backend.ts';
import { WebGpuBackend } from '../engine/nn/webgpu-backend.ts';
import { benchArgs, gitCommit, machineInfo, timeBudgeted } from './util.ts';

const args = benchArgs(process.argv.slice(2));
const { num, list } = args;
const N = num('batch', 1024);
const WIDTHS = list('widths', [64, 256]);
const OBS = num('obs', 25);
const ACT = num('act', 4);
const BUDGET_MS = num('budget-s', 2) * 1000;
const MIN_REPS = num('min-reps', 3);
const MAX_REPS = num('max-reps', 20);
const REFERENCE = !args.has('no-reference');
const SEED = 1;
const time = (fn: () => unknown, warmup: number) => timeBudgeted(fn, { warmup, minReps: MIN_REPS, maxReps: MAX_REPS, budgetMs: BUDGET_MS });
const HP = { ...DEFAULT_PPO_HYPERPARAMS };

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

const device = await getDevice();
const adapter = adapterInfoOf(device);
const machine = machineInfo();
console.log(`adapter: ${adapter.vendor} ${adapter.architecture} (${adapter.description || adapter.device || 'no description'})${adapter.isFallbackAdapter ? ', fallback (software)' : ''}`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.platform}, node ${process.version}; batch ${N}, ${OBS}→${ACT}`);
console.log('\nwidth  step GFLOP | webgpu act ms  step ms  GFLOP/s | wasm act ms  step ms  GFLOP/s' + (REFERENCE ? ' | f64 ref step ms' : ''));

const results: Record<string, unknown>[] = [];
// Other processes share the CPU (and a software adapter runs on it): record the load around the run.
const loadBefore = os.loadavg();
try {
  for (const width of WIDTHS) {
    const opts = { obsDim: OBS, actDim: ACT, hidden: [width, width], seed: SEED, maxBatch: N };
    const gpu = await WebGpuBackend.create({ ...opts, device });
    const wasm = await WasmBackend.create({ ...opts, params: await gpu.getParams() });
    try {
      const layout = gpu.paramLayout;
      const layers = [...layout.policyLayers, ...layout.valueLayers];
      const macs = layers.reduce((s, l) => s + l.inDim * l.outDim, 0);
      const macsIn = layers.filter((l) => l.index > 0).reduce((s, l) => s + l.inDim * l.outDim, 0);
      const actFlops = 2 * N * macs;
      const stepFlops = 2 * N * (2 * macs + macsIn);
      const mb = minibatch(N);
      const out = { action: new Float32Array(N * ACT), logProb: new Float32Array(N), value: new Float32Array(N) };
      // Heavy cases (> ~0.5 GFLOP a call) get one warm-up call, light ones three.
      const warm = stepFlops > 5e8 ? 1 : 3;
      let step = 0;
      const gAct = await time(() => gpu.act(mb.obs, N, { step: step++ }, out), warm);
      const gStep = await time(() => gpu.ppoStep(mb, HP), warm);
      const wAct = await time(() => wasm.act(mb.obs, N, { step: step++ }, out), warm);
      const wStep = await time(() => wasm.ppoStep(mb, HP), warm);
      let ref: { medianMs: number; reps: number } | null = null;
      if (REFERENCE) {
        const p64 = Float64Array.from(await gpu.getParams());
        const st = adamState64(layout.size);
        ref = await time(() => referencePpoStep(p64, st, layout, mb, HP), 1);
      }
      const gf = (flops: number, ms: number) => flops / (ms * 1e6);
      results.push({
        width,
        batch: N,
        actFlops,
        stepFlops,
        webgpu: { act: { ...gAct, gflops: gf(actFlops, gAct.medianMs) }, ppoStep: { ...gStep, gflops: gf(stepFlops, gStep.medianMs), rowsPerS: N / (gStep.medianMs / 1000) } },
        wasm: { act: { ...wAct, gflops: gf(actFlops, wAct.medianMs) }, ppoStep: { ...wStep, gflops: gf(stepFlops, wStep.medianMs), rowsPerS: N / (wStep.medianMs / 1000) } },
        ...(ref ? { reference64: { ppoStep: { ...ref, gflops: gf(stepFlops, ref.medianMs) } } } : {}),
      });
      const c = (ms: number) => ms.toFixed(2).padStart(8);
      console.log(
        `${String(width).padStart(5)} ${(stepFlops / 1e9).toFixed(3).padStart(10)} | ${c(gAct.medianMs).padStart(13)} ${c(gStep.medianMs)} ${gf(stepFlops, gStep.medianMs).toFixed(3).padStart(8)} | ` +
          `${c(wAct.medianMs).padStart(11)} ${c(wStep.medianMs)} ${gf(stepFlops, wStep.medianMs).toFixed(3).padStart(8)}` +
          (ref ? ` | ${c(ref.medianMs).padStart(15)}` : ''),
      );
    } finally {
      gpu.destroy();
      wasm.destroy();
    }
  }
} finally {
  device.destroy();
}

const slug = `${adapter.vendor}-${adapter.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'unknown';
const outPath = args.get('out') ?? fileURLToPath(new URL(`./results/train-step-${slug}.json`, import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
const report = {
  bench: 'train-step',
  date: new Date().toISOString(),
  commit: gitCommit(),
  machine,
  loadAverage: { before: loadBefore, after: os.loadavg() },
  adapter,
  config: { batch: N, obsDim: OBS, actDim: ACT, widths: WIDTHS, hyperparams: HP, budgetMs: BUDGET_MS, minReps: MIN_REPS, maxReps: MAX_REPS },
  note: 'ppoStep = upload, forward, PPO loss, backward, grad norm, clipping, Adam, stats readback; act = forward + sampling round trip; medians after warm-up; step FLOPs = 2·N·(2 Σ in·out + Σ_{l>0} in·out)',
  results,
};
writeFileSync(outPath, JSON.stringify(report, null, 2) + '\n');
console.log(`\nwrote ${outPath}`);
