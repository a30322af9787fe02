/**
 * Network benchmark (warm-up, then medians; JSON to bench/results/): GFLOP/s of the policy + value MLP forward and backward pass on one
 * core, for the WASM SIMD backend, the float64 reference, a plain float32 JS loop and WGSL on the present
 * WebGPU adapter, at batch 1024 and 25-W-W-4 nets (W = 64, 256), in one run. WGSL times include the GPU
 * round trip: forward = act() (both nets, the Gaussian head, readback), backward = lossGradient() (forward,
 * loss gradient, backward, gradient readback) minus that forward.
 *
 * Usage: node --import tsx bench/network.ts [--quick] [--no-webgpu] [--out bench/results/network-<host>.json]
 *
 * FLOPs (both nets, B rows, layers l with in_l × out_l weights):
 *   forward  = 2 B Σ_l in_l out_l                                  (one multiply-add per weight and row)
 *   backward = 2 B (Σ_l in_l out_l + Σ_{l ≥ 1} in_l out_l)          (dW for every layer, dX except into the obs)
 * so backward is a little under 2× forward (the input layer's dX is never computed). Elementwise work (tanh,
 * its derivative, biases, the PPO head) is not counted. Backward times exclude the forward pass that feeds it.
 * Each figure is the median of timed repeats after warm-up repeats.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { paramLayout, type LayerSpec, type ParamLayout } from '../engine/nn/param-layout.ts';
import { initParams } from '../engine/nn/init.ts';
import { DEFAULT_PPO_HYPERPARAMS, type Minibatch } from '../engine/nn/backend.ts';
import { referenceActivations, referenceBackward } from '../engine/nn/ppo-reference.ts';
import { WasmBackend } from '../engine/nn/wasm-backend.ts';
import { WebGpuBackend } from '../engine/nn/webgpu-backend.ts';
import { gitCommit, machineInfo, median, timeBudgeted } from './util.ts';
import { mulberry32 as rng } from '../engine/rng.ts';

const quick = process.argv.includes('--quick');
const outArg = process.argv.indexOf('--out');
const BATCH = 1024;
const OBS_DIM = 25;
const ACT_DIM = 4;
const WIDTHS = [64, 256];


/** Forward and backward FLOPs of both nets for B rows. */
function flops(layout: ParamLayout, B: number): { forward: number; backward: number } {
  let fwd = 0;
  let bwd = 0;
  for (const layers of [layout.policyLayers, layout.valueLayers]) {
    for (const s of layers) {
      const w = s.inDim * s.outDim;
      fwd += 2 * B * w;
      bwd += 2 * B * w * (s.index === 0 ? 1 : 2);
    }
  }
  return { forward: fwd, backward: bwd };
}

/** Median milliseconds of fn over `reps` timed calls after `warm` untimed ones; `before` runs untimed before each call. */
function time(fn: () => void, warm: number, reps: number, before?: () => void): number {
  for (let i = 0; i < warm; i++) {
    before?.();
    fn();
  }
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    before?.();
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** Plain float32 JS loops: the same layer math as the kernels, arrays as Float32Array, no SIMD. */
class PlainF32 {
  private readonly acts: { policy: Float32Array[]; value: Float32Array[] };
  private readonly grad: Float32Array;
  private readonly delta: Float32Array[];

  constructor(private readonly layout: ParamLayout, private readonly params: Float32Array, private readonly B: number) {
    this.acts = {
      policy: layout.policyLayers.map((s) => new Float32Array(B * s.outDim)),
      value: layout.valueLayers.map((s) => new Float32Array(B * s.outDim)),
    };
    this.grad = new Float32Array(layout.size);
    const maxWidth = Math.max(...layout.hidden);
    this.delta = [new Float32Array(B * maxWidth), new Float32Array(B * maxWidth)];
  }

  /** Both nets on obs [B, obsDim], keeping every layer's output. */
  forward(obs: Float32Array): void {
    this.net(this.layout.policyLayers, this.acts.policy, obs);
    this.net(this.layout.valueLayers, this.acts.value, obs);
  }

  /** One net: y_l[b, o] = b_l[o] + Σ_i W_l[o, i] y_{l−1}[b, i], tanh on hidden layers. */
  private net(layers: LayerSpec[], outs: Float32Array[], obs: Float32Array): void {
    const p = this.params;
    const B = this.B;
    let x = obs;
    for (let l = 0; l < layers.length; l++) {
      const { inDim, outDim, weightOffset, biasOffset, tanh } = layers[l];
      const y = outs[l];
      for (let b = 0; b < B; b++) {
        const xb = b * inDim;
        for (let o = 0; o < outDim; o++) {
          let acc = p[biasOffset + o];
          const w = weightOffset + o * inDim;
          for (let i = 0; i < inDim; i++) acc += p[w + i] * x[xb + i];
          y[b * outDim + o] = tanh ? Math.tanh(acc) : acc;
        }
      }
      x = y;
    }
  }

  /** Backpropagates output deltas dMean [B, actDim] and dValue [B] through both nets into the gradient. */
  backward(obs: Float32Array, dMean: Float32Array, dValue: Float32Array): void {
    this.netBackward(this.layout.policyLayers, this.acts.policy, obs, dMean);
    this.netBackward(this.layout.valueLayers, this.acts.value, obs, dValue);
  }

  /** dW = δᵀ a_{l−1}, db = Σ δ, δ_{l−1} = (δ W) ⊙ (1 − a_{l−1}²), layer by layer from the output. */
  private netBackward(layers: LayerSpec[], outs: Float32Array[], obs: Float32Array, dOut: Float32Array): void {
    const p = this.params;
    const g = this.grad;
    const B = this.B;
    let d = dOut;
    for (let l = layers.length - 1; l >= 0; l--) {
      const { inDim, outDim, weightOffset, biasOffset } = layers[l];
      const prev = l === 0 ? obs : outs[l - 1];
      g.fill(0, weightOffset, biasOffset + outDim);
      for (let b = 0; b < B; b++) {
        const xb = b * inDim;
        for (let o = 0; o < outDim; o++) {
          const dv = d[b * outDim + o];
          g[biasOffset + o] += dv;
          const w = weightOffset + o * inDim;
          for (let i = 0; i < inDim; i++) g[w + i] += dv * prev[xb + i];
        }
      }
      if (l === 0) break;
      const dPrev = this.delta[l & 1].subarray(0, B * inDim);
      dPrev.fill(0);
      for (let b = 0; b < B; b++) {
        const xb = b * inDim;
        for (let o = 0; o < outDim; o++) {
          const dv = d[b * outDim + o];
          const w = weightOffset + o * inDim;
          for (let i = 0; i < inDim; i++) dPrev[xb + i] += dv * p[w + i];
        }
      }
      for (let k = 0; k < dPrev.length; k++) dPrev[k] *= 1 - prev[k] * prev[k];
      d = dPrev;
    }
  }
}

interface Row {
  width: number;
  layers: string;
  backend: 'wasm-simd' | 'reference-f64' | 'plain-js-f32' | `wgsl-${string}`;
  forwardMs: number;
  backwardMs: number;
  forwardGflops: number;
  backwardGflops: number;
}

const machine = machineInfo();
const loadBefore = os.loadavg()[0];
const rows: Row[] = [];
const extra: Record<string, unknown>[] = [];
for (const W of WIDTHS) {
  const layout = paramLayout(OBS_DIM, ACT_DIM, [W, W]);
  const f = flops(layout, BATCH);
  const r = rng(W);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const params = initParams(layout, 1);
  const obs = Float32Array.from({ length: BATCH * OBS_DIM }, gauss);
  const mb: Minibatch = {
    obs,
    actions: Float32Array.from({ length: BATCH * ACT_DIM }, () => 0.5 * gauss()),
    oldLogProb: Float32Array.from({ length: BATCH }, () => -4 + 0.2 * gauss()),
    advantages: Float32Array.from({ length: BATCH }, gauss),
    returns: Float32Array.from({ length: BATCH }, gauss),
    oldValues: Float32Array.from({ length: BATCH }, () => 0.3 * gauss()),
    n: BATCH,
  };
  const hp = DEFAULT_PPO_HYPERPARAMS;
  const row = (backend: Row['backend'], fwdMs: number, bwdMs: number): void => {
    const x: Row = {
      width: W, layers: `${OBS_DIM}-${W}-${W}-${ACT_DIM}`, backend, forwardMs: +fwdMs.toFixed(3), backwardMs: +bwdMs.toFixed(3),
      forwardGflops: +(f.forward / fwdMs / 1e6).toFixed(3), backwardGflops: +(f.backward / bwdMs / 1e6).toFixed(3),
    };
    rows.push(x);
    console.log(JSON.stringify(x));
  };

  // WASM SIMD backend.
  const wasm = await WasmBackend.create({ obsDim: OBS_DIM, actDim: ACT_DIM, hidden: [W, W], seed: 1, maxBatch: BATCH });
  wasm.loadMinibatch(mb);
  const reps = quick ? 5 : 30;
  const wf = time(() => wasm.runForward(BATCH, 3), 5, reps);
  const wb = time(() => wasm.runLossBackward(BATCH, hp), 5, reps, () => wasm.runForward(BATCH, 3));
  const stepMs = time(() => wasm.ppoStep(mb, { ...hp, lr: 0 }), 3, reps);
  const out = { action: new Float32Array(BATCH * ACT_DIM), logProb: new Float32Array(BATCH), value: new Float32Array(BATCH) };
  const actMs = time(() => wasm.act(obs, BATCH, { step: 1 }, out), 3, reps);
  row('wasm-simd', wf, wb);
  extra.push({ width: W, backend: 'wasm-simd', ppoStepMs: +stepMs.toFixed(3), actMs: +actMs.toFixed(3) });
  wasm.destroy();

  // Float64 reference.
  const refReps = quick ? 1 : W >= 256 ? 3 : 7;
  const rf = time(() => referenceActivations(params, layout, obs, BATCH), 1, refReps);
  const acts = referenceActivations(params, layout, obs, BATCH);
  const rb = time(() => referenceBackward(params, layout, acts, mb, hp), 1, refReps);
  row('reference-f64', rf, rb);

  // Plain float32 JS loops.
  const plain = new PlainF32(layout, params, BATCH);
  const dMean = Float32Array.from({ length: BATCH * ACT_DIM }, () => 1e-3 * gauss());
  const dValue = Float32Array.from({ length: BATCH }, () => 1e-3 * gauss());
  const pf = time(() => plain.forward(obs), 1, refReps);
  plain.forward(obs);
  const pb = time(() => plain.backward(obs, dMean, dValue), 1, refReps);
  row('plain-js-f32', pf, pb);

  // WGSL on the present adapter (SwiftShader on a machine without a GPU).
  if (!process.argv.includes('--no-webgpu')) {
    const gpu = await WebGpuBackend.create({ obsDim: OBS_DIM, actDim: ACT_DIM, hidden: [W, W], seed: 1, maxBatch: BATCH, params });
    const gpuReps = quick ? 1 : W >= 256 ? 3 : 7;
    const gOut = { action: new Float32Array(BATCH * ACT_DIM), logProb: new Float32Array(BATCH), value: new Float32Array(BATCH) };
    const gf = (await timeBudgeted(() => gpu.act(obs, BATCH, { step: 1 }, gOut), { warmup: 1, minReps: gpuReps, maxReps: gpuReps, budgetMs: 0 })).medianMs;
    const gfb = (await timeBudgeted(() => gpu.lossGradient(mb, hp), { warmup: 1, minReps: gpuReps, maxReps: gpuReps, budgetMs: 0 })).medianMs;
    row(`wgsl-${gpu.adapterInfo.vendor || "adapter"}`, gf, Math.max(gfb - gf, 1e-3));
    gpu.destroy();
  }
}

const at256 = (b: Row['backend']): Row => rows.find((x) => x.width === 256 && x.backend === b)!;
const summary = {
  wasmForwardGflopsAt256: at256('wasm-simd').forwardGflops,
  wasmBackwardGflopsAt256: at256('wasm-simd').backwardGflops,
  targetGflopsPerCore: 4,
  meetsTarget: at256('wasm-simd').forwardGflops >= 4 && at256('wasm-simd').backwardGflops >= 4,
  speedupVsPlainJsForward: +(at256('wasm-simd').forwardGflops / at256('plain-js-f32').forwardGflops).toFixed(2),
  speedupVsPlainJsBackward: +(at256('wasm-simd').backwardGflops / at256('plain-js-f32').backwardGflops).toFixed(2),
};
console.log(JSON.stringify(summary));
const result = {
  benchmark: 'network', date: new Date().toISOString(), quick, commit: gitCommit(), machine, node: process.version, threads: 1,
  loadAverage1m: { before: +loadBefore.toFixed(2), after: +os.loadavg()[0].toFixed(2) },
  batch: BATCH, obsDim: OBS_DIM, actDim: ACT_DIM,
  flops: 'forward 2·B·Σ in·out over both nets; backward 2·B·(Σ in·out + Σ_{l≥1} in·out); medians after warm-up',
  results: rows, wasmExtra: extra, summary,
};
const outPath = outArg > 0 ? process.argv[outArg + 1] : `bench/results/network-${machine.host}.json`;
mkdirSync('bench/results', { recursive: true });
writeFileSync(outPath, JSON.stringify(result, null, 2) + '\n');
console.log(`wrote ${outPath}`);
