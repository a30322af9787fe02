/**
 * Policy forward benchmark: WebGPU act() against the float64 reference and a plain float32 JS loop, over
 * batch sizes and hidden widths, in one run on one machine.
 *
 * Each case times the whole forward pass of both nets plus Gaussian sampling (for WebGPU: upload,
 * 2(L+1) layer dispatches, the head, one readback). Warm-up calls are left out; medians are reported.
 * FLOPs = 2 · N · Σ in·out over the policy and value layers (multiply-adds only).
 *
 *   node --import tsx bench/policy.ts [--batches 1,64,1024,4096] [--widths 64,256] [--obs 25] [--act 4]
 *     [--budget-s 1] [--min-reps 3] [--max-reps 30] [--bandwidth-gbs 3350 --peak-tflops 67] [--out FILE]
 *
 * --bandwidth-gbs and --peak-tflops (the card's memory bandwidth and fp32 peak) add the floor of each
 * case: max(bytes moved / bandwidth, FLOPs / peak). Writes bench/results/policy-<vendor>-<arch>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { adapterInfoOf, getDevice } from '../engine/gpu/device.ts';
import { createPolicy, referenceForward, type ParamLayout } from '../engine/nn/index.ts';
import { actionNoise } from '../engine/nn/philox.ts';
import { HALF_LOG_2PI } from '../engine/nn/reference.ts';
import { benchArgs, timeBudgeted } from './util.ts';

const args = benchArgs(process.argv.slice(2));
const { num, list } = args;
const BATCHES = list('batches', [1, 64, 1024, 4096]);
const WIDTHS = list('widths', [64, 256]);
const OBS = num('obs', 25);
const ACT = num('act', 4);
const BUDGET_MS = num('budget-s', 1) * 1000;
const MIN_REPS = num('min-reps', 3);
const MAX_REPS = num('max-reps', 30);
const BANDWIDTH_GBS = args.has('bandwidth-gbs') ? num('bandwidth-gbs', 0) : null;
const PEAK_TFLOPS = args.has('peak-tflops') ? num('peak-tflops', 0) : null;
const SEED = 1;
const time = (fn: () => unknown, warmup: number) => timeBudgeted(fn, { warmup, minReps: MIN_REPS, maxReps: MAX_REPS, budgetMs: BUDGET_MS });

/** Plain float32 JS forward pass with sampling, the same math as the reference in Float32Array buffers. */
function makeJs32(params: Float32Array, layout: ParamLayout, n: number) {
  const width = Math.max(layout.obsDim, ...layout.hidden, layout.actDim);
  const bufA = new Float32Array(n * width);
  const bufB = new Float32Array(n * width);
  const mean = new Float32Array(n * layout.actDim);
  const value = new Float32Array(n);
  const action = new Float32Array(n * layout.actDim);
  const logProb = new Float32Array(n);
  const net = (obs: Float32Array, layers: ParamLayout['policyLayers'], out: Float32Array) => {
    let x = obs;
    layers.forEach((l, li) => {
      const y = li === layers.length - 1 ? out : li % 2 ? bufB : bufA;
      for (let b = 0; b < n; b++) {
        for (let o = 0; o < l.outDim; o++) {
          let acc = params[l.biasOffset + o];
          const w = l.weightOffset + o * l.inDim;
          const xb = b * l.inDim;
          for (let k = 0; k < l.inDim; k++) acc += params[w + k] * x[xb + k];
          y[b * l.outDim + o] = l.tanh ? Math.tanh(Math.min(20, Math.max(-20, acc))) : acc;
        }
      }
      x = y;
    });
  };
  return (obs: Float32Array, step: number) => {
    net(obs, layout.policyLayers, mean);
    net(obs, layout.valueLayers, value);
    for (let b = 0; b < n; b++) {
      let lp = 0;
      for (let j = 0; j < layout.actDim; j++) {
        const ls = params[layout.logStdOffset + j];
        const z = actionNoise(SEED, b, step, j);
        action[b * layout.actDim + j] = mean[b * layout.actDim + j] + Math.exp(ls) * z;
        lp += -0.5 * z * z - ls - HALF_LOG_2PI;
      }
      logProb[b] = lp;
    }
    return action;
  };
}

/** Git commit of the working tree, with `-dirty` when it has uncommitted changes. */
function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

const device = await getDevice();
const adapter = adapterInfoOf(device);
const cpus = os.cpus();
const machine = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, os: `${os.platform()} ${os.release()}`, node: process.version };
console.log(`adapter: ${adapter.vendor} ${adapter.architecture} (${adapter.description || adapter.device || 'no description'})${adapter.isFallbackAdapter ? ', fallback (software)' : ''}`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.os}, node ${machine.node}`);
if ((BANDWIDTH_GBS || PEAK_TFLOPS) && adapter.isFallbackAdapter) console.log('note: floors describe a GPU card; this adapter is a software one.');
console.log('\nwidth  batch   MFLOP | webgpu ms  GFLOP/s | f64 ref ms  GFLOP/s | f32 js ms  GFLOP/s' + (BANDWIDTH_GBS || PEAK_TFLOPS ? ' | floor ms' : ''));

const results: Record<string, unknown>[] = [];
try {
  for (const width of WIDTHS) {
    const policy = await createPolicy({ obsDim: OBS, actDim: ACT, hidden: [width, width], seed: SEED, device, maxBatch: Math.max(...BATCHES) });
    const layout = policy.paramLayout;
    const params = await policy.getParams();
    const layers = [...layout.policyLayers, ...layout.valueLayers];
    const macsPerRow = layers.reduce((s, l) => s + l.inDim * l.outDim, 0);
    try {
      for (const n of BATCHES) {
        const obs = new Float32Array(n * OBS).map((_, i) => Math.sin(i * 0.37));
        const flops = 2 * n * macsPerRow;
        // Heavy cases (> ~50 ms a call here) get one warm-up call, light ones three.
        const warm = flops > 2e8 ? 1 : 3;
        let step = 0;
        const gpu = await time(() => policy.act(obs, { step: step++ }), warm);
        const ref = await time(() => referenceForward(params, layout, obs, n, { seed: SEED, step: step++ }), warm);
        const js32fn = makeJs32(params, layout, n);
        const js = await time(() => js32fn(obs, step++), warm);
        const gf = (ms: number) => flops / (ms * 1e6);
        const row: Record<string, unknown> = {
          width,
          batch: n,
          flops,
          webgpu: { ...gpu, gflops: gf(gpu.medianMs) },
          reference64: { ...ref, gflops: gf(ref.medianMs) },
          js32: { ...js, gflops: gf(js.medianMs) },
        };
        let floorText = '';
        if (BANDWIDTH_GBS || PEAK_TFLOPS) {
          // Bytes: parameters read once, each layer's input read and output written, obs in, results out.
          const bytes = 4 * (layout.size + layers.reduce((s, l) => s + n * (l.inDim + l.outDim), 0) + n * OBS + n * (ACT + 2));
          const memMs = BANDWIDTH_GBS ? bytes / (BANDWIDTH_GBS * 1e6) : 0;
          const computeMs = PEAK_TFLOPS ? flops / (PEAK_TFLOPS * 1e9) : 0;
          row.floor = { bytes, memMs, computeMs, floorMs: Math.max(memMs, computeMs), bandwidthGBs: BANDWIDTH_GBS, peakTflops: PEAK_TFLOPS };
          floorText = ` | ${Math.max(memMs, computeMs).toExponential(2)}`;
        }
        results.push(row);
        const c = (ms: number) => `${ms.toFixed(3).padStart(9)} ${gf(ms).toFixed(3).padStart(8)}`;
        console.log(`${String(width).padStart(5)} ${String(n).padStart(6)} ${(flops / 1e6).toFixed(2).padStart(7)} | ${c(gpu.medianMs)} | ${c(ref.medianMs).padStart(19)} | ${c(js.medianMs)}${floorText}`);
      }
    } finally {
      policy.destroy();
    }
  }
} finally {
  device.destroy();
}

const slug = `${adapter.vendor}-${adapter.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'unknown';
const outPath = args.get('out') ?? fileURLToPath(new URL(`./results/policy-${slug}.json`, import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
const report = {
  bench: 'policy',
  date: new Date().toISOString(),
  commit: gitCommit(),
  machine,
  adapter,
  config: { obsDim: OBS, actDim: ACT, batches: BATCHES, widths: WIDTHS, budgetMs: BUDGET_MS, minReps: MIN_REPS, maxReps: MAX_REPS },
  note: 'act() round trip (upload, forward of policy and value nets, sampling, readback) vs float64 reference vs float32 JS loop; medians after warm-up; FLOPs = 2·N·Σ in·out',
  results,
};
writeFileSync(outPath, JSON.stringify(report, null, 2) + '\n');
console.log(`\nwrote ${outPath}`);
