/**
 * The WASM CPU backend: the policy and value MLPs, action sampling, the PPO gradient and Adam in AssemblyScript
 * kernels with f32x4 SIMD (assembly/mlp.ts), on one WebAssembly.Memory the backend owns, sized up front for
 * maxBatch rows (wasm-layout.ts), so it never grows and the typed-array views made at creation stay valid.
 *
 * Numbers: matrices in f32 (products summed in f32x4 lanes), the per-row head math (log-probabilities, ratios,
 * losses, statistics) and the Box-Muller noise in f64, Adam in f32; see engine/nn/ppo-reference.ts for the math.
 * Same seed, env and step give the same noise as engine/nn/philox.ts (to f64 rounding), so the same actions
 * as the WebGPU backend up to float rounding. Single-threaded; act() and value() take any n (in chunks of
 * maxBatch rows), ppoStep() at most maxBatch rows.
 */
import { compileWasmOnce } from '../wasm-load.ts';
import { initParams } from './init.ts';
import type { ParamLayout } from './param-layout.ts';
import {
  MlpSizes, resolveBackendOptions, type MlpBackendOptions,
  ADAM_BETA1, ADAM_BETA2, checkActArgs, ADAM_EPS, checkFloat32, checkPositiveInt, checkRows, GRAD_CLIP_EPS, validateHyperparams, validateMinibatch,
  validateOptimizerState, type BackendActOptions, type BackendActOutputs, type Minibatch, type OptimizerState, type PolicyBackend,
  type PpoHyperparams, type PpoLossStats, type PpoStats,
} from './backend.ts';
import {
  MLP_LAYOUT_VERSION, MLP_MAX_HIDDEN, MLP_TABLE_BYTES, S_APPROX_KL, S_CLIP_FRAC, S_ENTROPY, S_LOSS, S_PG_LOSS, S_V_LOSS, STATS_COUNT, wasmLayout,
  writeTable, type WasmLayout,
} from './wasm-layout.ts';

/** Options of WasmBackend.create. */
export interface WasmBackendOptions extends MlpBackendOptions {
  /** The kernel's .wasm bytes (a browser passes fetched bytes); default: read build/assembly/mlp.wasm in Node. */
  wasmBytes?: BufferSource;
  /** An already compiled kernel module; takes precedence over wasmBytes. */
  module?: WebAssembly.Module;
}

/** The kernel's exports (assembly/mlp.ts); pointers are byte addresses in the backend's memory. */
export interface MlpExports {
  forward(t: number, n: number, nets: number): void;
  sample(t: number, n: number, seed: number, step: number, envOffset: number, deterministic: number): void;
  logProb(t: number, n: number): void;
  lossBackward(t: number, n: number, clipCoef: number, clipVloss: number, entCoef: number, vfCoef: number, normAdv: number): void;
  gradNorm(t: number): number;
  adam(t: number, gradScale: number, stepSize: number, invSqrtBc2: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number): void;
  philoxWordsTo(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: number): void;
  gaussiansTo(seed: number, c0: number, c1: number, c2: number, c3: number, out: number): void;
  tanhTo(x: number, n: number, y: number): void;
  MLP_LAYOUT_VERSION: WebAssembly.Global;
  MLP_LAYOUT_TABLE_BYTES: WebAssembly.Global;
  MLP_LAYOUT_MAX_HIDDEN: WebAssembly.Global;
}

/** Views of the per-row buffers a kernel pass reads and writes ([maxBatch] rows each), in one memory. */
export interface RowViews {
  obs: Float32Array;
  actions: Float32Array;
  oldLogProb: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  oldValues: Float32Array;
  actionOut: Float32Array;
  logProbOut: Float32Array;
  value: Float32Array;
}

/** Float32/Float64 views of every buffer, cut once from the never-growing memory. */
interface Views extends RowViews {
  params: Float32Array;
  grad: Float32Array;
  adamM: Float32Array;
  adamV: Float32Array;
  mean: Float32Array;
  scratch: Float32Array;
  stats: Float64Array;
}

/** Compiles (once per thread) the kernel read from build/assembly/mlp.wasm. */
export function loadMlpModule(): Promise<WebAssembly.Module> {
  return compileWasmOnce(new URL('../../build/assembly/mlp.wasm', import.meta.url));
}

/** Instantiates the mlp kernel on a memory and checks that its layout constants match this glue; `what` names the caller in errors. */
export async function instantiateMlp(module: WebAssembly.Module, memory: WebAssembly.Memory, what = 'wasm backend'): Promise<MlpExports> {
  const abort = (): never => {
    throw new Error('wasm backend kernel: abort');
  };
  const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
  const x = instance.exports as unknown as MlpExports;
  const want: [keyof MlpExports, number][] = [['MLP_LAYOUT_VERSION', MLP_LAYOUT_VERSION], ['MLP_LAYOUT_TABLE_BYTES', MLP_TABLE_BYTES], ['MLP_LAYOUT_MAX_HIDDEN', MLP_MAX_HIDDEN]];
  for (const [k, v] of want) {
    const got = (x[k] as WebAssembly.Global | undefined)?.value;
    if (got !== v) throw new Error(`${what}: the kernel's ${k} is ${got}, the glue expects ${v}; rebuild with \`npm run build:assembly\``);
  }
  return x;
}

/** The policy backend on the CPU: AssemblyScript kernels with SIMD in one WebAssembly.Memory it owns. */
export class WasmBackend extends MlpSizes implements PolicyBackend {
  readonly kind = 'wasm' as const;
  /** The memory the kernels work in; its buffer never grows or detaches. */
  readonly memory: WebAssembly.Memory;
  /** Byte addresses of every buffer in memory. */
  readonly layout: WasmLayout;
  private x: MlpExports | null;
  private readonly v: Views;
  private adamT = 0;

  /** Validates the sizes, allocates the memory, instantiates the kernel and initializes the parameters (cleanrl init, or opts.params). */
  static async create(opts: WasmBackendOptions): Promise<WasmBackend> {
    const { seed, maxBatch, layout } = resolveBackendOptions(opts, MLP_MAX_HIDDEN, 'wasm backend');
    const w = wasmLayout(layout, maxBatch);
    if (w.pages > 65536) throw new Error(`wasm backend: ${w.bytes} bytes exceed the 4 GiB of a WebAssembly memory; lower maxBatch or the widths`);
    const memory = new WebAssembly.Memory({ initial: w.pages, maximum: w.pages });
    const module = opts.module ?? (opts.wasmBytes ? await WebAssembly.compile(opts.wasmBytes) : await loadMlpModule());
    const x = await instantiateMlp(module, memory);
    writeTable(memory, layout, w, maxBatch);
    const b = new WasmBackend(layout, seed, maxBatch, memory, w, x);
    b.v.params.set(opts.params ?? initParams(layout, seed));
    return b;
  }

  private constructor(layout: ParamLayout, seed: number, maxBatch: number, memory: WebAssembly.Memory, w: WasmLayout, x: MlpExports) {
    super(layout, seed, maxBatch);
    this.memory = memory;
    this.layout = w;
    this.x = x;
    const buf = memory.buffer;
    const f = (p: number, n: number): Float32Array => new Float32Array(buf, p, n);
    const P = layout.size;
    const B = maxBatch;
    this.v = {
      params: f(w.params, P),
      grad: f(w.grad, P),
      adamM: f(w.adamM, P),
      adamV: f(w.adamV, P),
      obs: f(w.obs, B * layout.obsDim),
      actions: f(w.actions, B * layout.actDim),
      oldLogProb: f(w.oldLogProb, B),
      advantages: f(w.advantages, B),
      returns: f(w.returns, B),
      oldValues: f(w.oldValues, B),
      actionOut: f(w.actionOut, B * layout.actDim),
      logProbOut: f(w.logProbOut, B),
      mean: f(w.policyActs[w.policyActs.length - 1], B * layout.actDim),
      value: f(w.valueActs[w.valueActs.length - 1], B),
      scratch: f(w.deltaA, B * Math.max(1, ...layout.hidden)),
      stats: new Float64Array(buf, w.stats, STATS_COUNT),
    };
  }

  /** The kernel, or a clear error after destroy(). */
  private live(): MlpExports {
    if (!this.x) throw new Error('wasm backend: used after destroy()');
    return this.x;
  }

  getParams(): Float32Array {
    this.live();
    return this.v.params.slice();
  }

  setParams(p: Float32Array): void {
    this.live();
    checkFloat32('setParams: params', p, this.numParams);
    this.v.params.set(p);
  }

  act(obs: Float32Array, n: number, opts: BackendActOptions, out: BackendActOutputs): void {
    const x = this.live();
    const { seed, envOffset } = checkActArgs(obs, n, opts, out, this);
    const { obsDim, actDim } = this;
    const t = this.layout.table;
    for (let lo = 0; lo < n; lo += this.maxBatch) {
      const c = Math.min(this.maxBatch, n - lo);
      this.v.obs.set(obs.subarray(lo * obsDim, (lo + c) * obsDim));
      x.forward(t, c, 3);
      x.sample(t, c, seed, opts.step, (envOffset + lo) >>> 0, opts.deterministic ? 1 : 0);
      out.action.set(this.v.actionOut.subarray(0, c * actDim), lo * actDim);
      out.logProb.set(this.v.logProbOut.subarray(0, c), lo);
      out.value.set(this.v.value.subarray(0, c), lo);
    }
  }

  value(obs: Float32Array, n: number, out: Float32Array): void {
    const x = this.live();
    checkPositiveInt('value n', n);
    checkRows('value obs', obs, n, this.obsDim);
    checkFloat32('value out', out, n, false);
    const { obsDim } = this;
    for (let lo = 0; lo < n; lo += this.maxBatch) {
      const c = Math.min(this.maxBatch, n - lo);
      this.v.obs.set(obs.subarray(lo * obsDim, (lo + c) * obsDim));
      x.forward(this.layout.table, c, 2);
      out.set(this.v.value.subarray(0, c), lo);
    }
  }

  /** Mean action [n, actDim] and log-probability [n] of given actions [n, actDim] under the current policy (n ≤ maxBatch). */
  logProb(obs: Float32Array, actions: Float32Array, n: number): { mean: Float32Array; logProb: Float32Array } {
    const x = this.live();
    checkPositiveInt('logProb n', n);
    if (n > this.maxBatch) throw new Error(`logProb: n = ${n} exceeds maxBatch ${this.maxBatch}`);
    checkRows('logProb obs', obs, n, this.obsDim);
    checkRows('logProb actions', actions, n, this.actDim);
    this.v.obs.set(obs);
    this.v.actions.set(actions);
    x.forward(this.layout.table, n, 1);
    x.logProb(this.layout.table, n);
    return { mean: this.v.mean.slice(0, n * this.actDim), logProb: this.v.logProbOut.slice(0, n) };
  }

  ppoStep(mb: Minibatch, hp: PpoHyperparams): PpoStats {
    const stats = this.computeGradient(mb, hp);
    const gradNorm = this.gradNorm();
    if (!Number.isFinite(gradNorm) || !Number.isFinite(stats.loss)) {
      throw new Error(`ppoStep: loss ${stats.loss}, gradient norm ${gradNorm}; the step was skipped, parameters and optimizer state are unchanged`);
    }
    const coef = hp.maxGradNorm / (gradNorm + GRAD_CLIP_EPS);
    this.adamStep(coef < 1 ? coef : 1, hp.lr);
    return { ...stats, gradNorm };
  }

  /** The loss gradient of a minibatch without updating anything: a copy of the gradient [numParams] and the stats. */
  lossGradient(mb: Minibatch, hp: PpoHyperparams): { grad: Float32Array; stats: PpoLossStats } {
    const stats = this.computeGradient(mb, hp);
    return { grad: this.v.grad.slice(), stats };
  }

  /** Building block of ppoStep: validates and copies the first mb.n rows of a minibatch into the backend's buffers. */
  loadMinibatch(mb: Minibatch): void {
    this.live();
    validateMinibatch(mb, this.obsDim, this.actDim, this.maxBatch);
    const n = mb.n;
    this.v.obs.set(mb.obs.subarray(0, n * this.obsDim));
    this.v.actions.set(mb.actions.subarray(0, n * this.actDim));
    this.v.oldLogProb.set(mb.oldLogProb.subarray(0, n));
    this.v.advantages.set(mb.advantages.subarray(0, n));
    this.v.returns.set(mb.returns.subarray(0, n));
    this.v.oldValues.set(mb.oldValues.subarray(0, n));
  }

  /** Building block: forward pass of the first n loaded rows (nets: 1 policy, 2 value, 3 both), keeping activations. */
  runForward(n: number, nets = 3): void {
    this.live().forward(this.layout.table, n, nets);
  }

  /** Building block: the loss gradient of the first n loaded rows into the gradient buffer (after runForward(n, 3)). */
  runLossBackward(n: number, hp: PpoHyperparams): PpoLossStats {
    const x = this.live();
    x.lossBackward(this.layout.table, n, hp.clipCoef, hp.clipVloss ? 1 : 0, hp.entCoef, hp.vfCoef, hp.normAdv ? 1 : 0);
    const s = this.v.stats;
    return { loss: s[S_LOSS], pgLoss: s[S_PG_LOSS], vLoss: s[S_V_LOSS], entropy: s[S_ENTROPY], approxKl: s[S_APPROX_KL], clipFrac: s[S_CLIP_FRAC] };
  }

  /** Building block: global L2 norm of the gradient buffer. */
  gradNorm(): number {
    return this.live().gradNorm(this.layout.table);
  }

  /** Building block: one Adam step (t ← t + 1) with gradient gradScale · grad and learning rate lr. */
  adamStep(gradScale: number, lr: number): void {
    const x = this.live();
    const t = this.adamT + 1;
    const stepSize = lr / (1 - ADAM_BETA1 ** t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - ADAM_BETA2 ** t);
    x.adam(this.layout.table, gradScale, stepSize, invSqrtBc2, ADAM_BETA1, 1 - ADAM_BETA1, ADAM_BETA2, 1 - ADAM_BETA2, ADAM_EPS);
    this.adamT = t;
  }

  /** Validates, loads, runs forward and the loss backward; the gradient is left in the gradient buffer. */
  private computeGradient(mb: Minibatch, hp: PpoHyperparams): PpoLossStats {
    validateHyperparams(hp);
    this.loadMinibatch(mb);
    this.runForward(mb.n, 3);
    return this.runLossBackward(mb.n, hp);
  }

  getOptimizerState(): OptimizerState {
    this.live();
    return { m: this.v.adamM.slice(), v: this.v.adamV.slice(), t: this.adamT };
  }

  setOptimizerState(s: OptimizerState): void {
    this.live();
    validateOptimizerState(s, this.numParams);
    this.v.adamM.set(s.m);
    this.v.adamV.set(s.v);
    this.adamT = s.t;
  }

  /** The four Philox4x32-10 words at counter (c0..c3), key (k0, k1), computed by the kernel (for tests). */
  philoxWords(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): Uint32Array {
    this.live().philoxWordsTo(c0, c1, c2, c3, k0, k1, this.layout.stats);
    return new Uint32Array(this.memory.buffer, this.layout.stats, 4).slice();
  }

  /** The four f64 Gaussians of the Philox call at counter (c0..c3), key (seed, 0), computed by the kernel (for tests). */
  gaussians(seed: number, c0: number, c1: number, c2: number, c3: number): Float64Array {
    this.live().gaussiansTo(seed, c0, c1, c2, c3, this.layout.stats);
    return this.v.stats.slice(0, 4);
  }

  /** The kernel's f32 tanh of each value (for tests; uses the backward scratch buffer). */
  tanh(xs: Float32Array): Float32Array {
    const x = this.live();
    const half = Math.floor(this.v.scratch.length / 2) & ~3;
    if (xs.length > half) throw new Error(`tanh: at most ${half} values`);
    const n4 = Math.ceil(xs.length / 4) * 4;
    this.v.scratch.fill(0, 0, n4);
    this.v.scratch.set(xs);
    x.tanhTo(this.layout.deltaA, n4, this.layout.deltaA + 4 * half);
    return this.v.scratch.slice(half, half + xs.length);
  }

  /** Drops the kernel instance (the memory goes with the backend object); the backend MUST NOT be used after. */
  destroy(): void {
    this.x = null;
  }
}
