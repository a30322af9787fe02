/**
 * The WASM CPU backend on several threads (Node worker_threads, or Web Workers in a cross-origin isolated page):
 * the same AssemblyScript kernels as WasmBackend (assembly/mlp.ts, its shared-memory build mlp.shared.wasm) on K
 * lanes in ONE shared WebAssembly.Memory. Lane 0 runs on the calling thread, lanes 1..K-1 on workers
 * (parallel-worker.ts, started by engine/threads/host.ts), driven by the
 * Atomics protocol of parallel-protocol.ts, so every call stays synchronous for the caller.
 *
 * Memory: the kernel's static data below 64 KiB, then K lane regions, each laid out by wasmLayout for
 * laneBatch = ⌈maxBatch / K⌉ rows (rounded up to 4) with its own table, inputs, activations, deltas, gradient
 * and stats; every table points at lane 0's parameters, Adam m and v, so the parameters exist once.
 *
 * ppoStep on n rows: the advantages are normalized over all n rows first (f64 mean and unbiased std, as the
 * kernel does, stored as f32), the rows split into contiguous parts of ⌈n / 4K⌉·4 rows (the last lanes get
 * the rest, possibly none), each lane computes the mean-loss gradient of its n_k rows, and the calling thread
 * reduces g = Σ_k (n_k / n) g_k in f64 in lane order (deterministic for a given K), then takes the global
 * norm, clips and makes ONE Adam step. Stats combine the same way. The gradient equals the single-thread
 * one up to float rounding. act() and value() split rows the same way when a chunk has at least
 * PARALLEL_MIN_ROWS rows per lane; their results equal WasmBackend's bit for bit (rows are independent and
 * Philox counts rows from envOffset).
 */
import { compileWasmOnce } from '../wasm-load.ts';
import { initParams } from './init.ts';
import type { ParamLayout } from './param-layout.ts';
import {
  MlpSizes, resolveBackendOptions,
  ADAM_BETA1, ADAM_BETA2, checkActArgs, ADAM_EPS, ADV_NORM_EPS, checkFloat32, checkPositiveInt, checkRows, GRAD_CLIP_EPS, validateHyperparams,
  validateMinibatch, validateOptimizerState, type BackendActOptions, type BackendActOutputs, type Minibatch, type OptimizerState,
  type PolicyBackend, type PpoHyperparams, type PpoLossStats, type PpoStats,
} from './backend.ts';
import {
  PAR_CLIP_COEF, PAR_CLIP_VLOSS, PAR_CMD_ACT, PAR_CMD_CLOSE, PAR_CMD_GRAD, PAR_CMD_VALUE, PAR_CONTROL, PAR_DETERMINISTIC, PAR_ENT_COEF,
  PAR_ENV_OFFSET, PAR_N, PAR_SEED, PAR_STEP, PAR_VF_COEF, type ParallelWorkerData,
} from './parallel-protocol.ts';
import { moduleUrl } from '../module-url.ts';
import { controlOf, createControl, type Control } from '../threads/control.ts';
import { awaitDone, post, startWorkers, type WorkerHandle } from '../threads/host.ts';
import { instantiateMlp, type MlpExports, type RowViews, type WasmBackendOptions } from './wasm-backend.ts';
import {
  MLP_MAX_HIDDEN, MLP_HEAP_BASE, S_APPROX_KL, S_CLIP_FRAC, S_ENTROPY, S_PG_LOSS, S_V_LOSS, STATS_COUNT,
  wasmLayout, writeTable, type WasmLayout,
} from './wasm-layout.ts';

/** Default number of threads (lanes), the calling thread included. */
export const PARALLEL_DEFAULT_THREADS = 2;
/** Most threads. */
export const PARALLEL_MAX_THREADS = 64;
/** act() and value() split a chunk across lanes only when it has at least this many rows per lane. */
export const PARALLEL_MIN_ROWS = 64;

/** Options of ParallelWasmBackend.create: WasmBackend's, plus the thread count. */
export interface ParallelWasmBackendOptions extends WasmBackendOptions {
  /** Lanes, the calling thread included (threads − 1 workers); default 2. */
  threads?: number;
}

/** Views of one lane's buffers in the shared memory. */
interface Lane extends RowViews {
  table: number;
  grad: Float32Array;
  stats: Float64Array;
}

/** Compiles (once per thread) the shared-memory kernel read from build/assembly/mlp.shared.wasm. */
export function loadSharedMlpModule(): Promise<WebAssembly.Module> {
  return compileWasmOnce(new URL('../../build/assembly/mlp.shared.wasm', import.meta.url));
}

/** wasmLayout of one lane moved up by delta bytes, with the parameters and Adam moments of `shared`. */
function laneLayout(base: WasmLayout, delta: number, shared: WasmLayout): WasmLayout {
  const s = (p: number): number => p + delta;
  return {
    table: s(base.table), params: shared.params, grad: s(base.grad), adamM: shared.adamM, adamV: shared.adamV, obs: s(base.obs), actions: s(base.actions),
    oldLogProb: s(base.oldLogProb), advantages: s(base.advantages), returns: s(base.returns), oldValues: s(base.oldValues), actionOut: s(base.actionOut),
    logProbOut: s(base.logProbOut), dMean: s(base.dMean), dValue: s(base.dValue), deltaA: s(base.deltaA), deltaB: s(base.deltaB), stats: s(base.stats),
    logStdAcc: s(base.logStdAcc), policyActs: base.policyActs.map(s), valueActs: base.valueActs.map(s), bytes: s(base.bytes), pages: 0,
  };
}

/** Row counts of the lanes for n rows: ⌈n / 4K⌉·4 each, in order, the last lanes taking what is left (maybe 0). */
export function splitRows(n: number, lanes: number): number[] {
  const per = Math.ceil(n / lanes / 4) * 4;
  const out: number[] = [];
  let left = n;
  for (let k = 0; k < lanes; k++) {
    const c = Math.min(per, left);
    out.push(c);
    left -= c;
  }
  return out;
}

/** The policy backend on K CPU threads: WasmBackend's kernels on row splits of every batch, one shared memory. */
export class ParallelWasmBackend extends MlpSizes implements PolicyBackend {
  readonly kind = 'wasm' as const;
  /** Lanes (threads, the calling one included). */
  readonly threads: number;
  /** Rows each lane holds. */
  readonly laneBatch: number;
  /** The shared memory every lane works in; its buffer never grows. */
  readonly memory: WebAssembly.Memory;
  /** Byte addresses of each lane's buffers (every table points at lane 0's parameters and Adam moments). */
  readonly layouts: readonly WasmLayout[];
  private x: MlpExports | null;
  private readonly lanes: Lane[];
  private readonly params: Float32Array;
  private readonly adamM: Float32Array;
  private readonly adamV: Float32Array;
  private readonly workers: WorkerHandle[];
  private readonly ctrl: Control[];
  private readonly exited: Promise<void>;
  private seq = 0;
  private adamT = 0;

  /** Validates the sizes, allocates the shared memory, starts threads − 1 workers and initializes the parameters. */
  static async create(opts: ParallelWasmBackendOptions): Promise<ParallelWasmBackend> {
    const { seed, maxBatch, layout } = resolveBackendOptions(opts, MLP_MAX_HIDDEN, 'wasm backend');
    const threads = opts.threads ?? PARALLEL_DEFAULT_THREADS;
    checkPositiveInt('threads', threads);
    if (threads > PARALLEL_MAX_THREADS) throw new Error(`threads must be at most ${PARALLEL_MAX_THREADS}, got ${threads}`);
    const laneBatch = Math.ceil(maxBatch / threads / 4) * 4;
    const base = wasmLayout(layout, laneBatch);
    const stride = Math.ceil((base.bytes - MLP_HEAP_BASE) / 64) * 64;
    const layouts: WasmLayout[] = [];
    for (let k = 0; k < threads; k++) layouts.push(laneLayout(base, k * stride, base));
    const bytes = MLP_HEAP_BASE + threads * stride;
    const pages = Math.ceil(bytes / 65536);
    if (pages > 65536) throw new Error(`parallel wasm backend: ${bytes} bytes exceed the 4 GiB of a WebAssembly memory; lower maxBatch or the widths`);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const module = opts.module ?? (opts.wasmBytes ? await WebAssembly.compile(opts.wasmBytes) : await loadSharedMlpModule());
    const x = await instantiateMlp(module, memory, 'parallel wasm backend');
    for (const w of layouts) writeTable(memory, layout, w, laneBatch);
    const control = createControl(PAR_CONTROL, threads - 1);
    const datas: ParallelWorkerData[] = layouts.slice(1).map((w, i) => ({ memory, module, control, index: i, table: w.table }));
    const { workers, exited } = await startWorkers(
      { url: moduleUrl('./parallel-worker.ts', import.meta.url), browser: () => new Worker(new URL('./parallel-worker.ts', import.meta.url), { type: 'module' }) },
      datas, 'parallel wasm worker',
    );
    const b = new ParallelWasmBackend(layout, seed, maxBatch, threads, laneBatch, memory, layouts, x, workers, control, exited);
    b.params.set(opts.params ?? initParams(layout, seed));
    return b;
  }

  private constructor(layout: ParamLayout, seed: number, maxBatch: number, threads: number, laneBatch: number, memory: WebAssembly.Memory, layouts: WasmLayout[], x: MlpExports, workers: WorkerHandle[], control: SharedArrayBuffer, exited: Promise<void>) {
    super(layout, seed, maxBatch);
    this.threads = threads;
    this.laneBatch = laneBatch;
    this.memory = memory;
    this.layouts = layouts;
    this.x = x;
    this.workers = workers;
    this.exited = exited;
    this.ctrl = workers.map((_, i) => controlOf(control, PAR_CONTROL, i));
    const buf = memory.buffer;
    const f = (p: number, n: number): Float32Array => new Float32Array(buf, p, n);
    const P = layout.size, B = laneBatch, O = layout.obsDim, A = layout.actDim;
    this.params = f(layouts[0].params, P);
    this.adamM = f(layouts[0].adamM, P);
    this.adamV = f(layouts[0].adamV, P);
    this.lanes = layouts.map((w) => ({
      table: w.table,
      obs: f(w.obs, B * O),
      actions: f(w.actions, B * A),
      oldLogProb: f(w.oldLogProb, B),
      advantages: f(w.advantages, B),
      returns: f(w.returns, B),
      oldValues: f(w.oldValues, B),
      actionOut: f(w.actionOut, B * A),
      logProbOut: f(w.logProbOut, B),
      value: f(w.valueActs[w.valueActs.length - 1], B),
      grad: f(w.grad, P),
      stats: new Float64Array(buf, w.stats, STATS_COUNT),
    }));
  }

  /** The calling thread's kernel, or a clear error after destroy(). */
  private live(): MlpExports {
    if (!this.x) throw new Error('parallel wasm backend: used after destroy()');
    return this.x;
  }

  /** Posts a command to the worker of lane k ≥ 1 (its other arguments already written into its control slots). */
  private post(k: number, cmd: number, n: number): void {
    const c = this.ctrl[k - 1];
    Atomics.store(c.ints, PAR_N, n);
    post(c, this.seq, cmd);
  }

  /** Blocks until the workers of the lanes with rows have finished command seq; throws their errors. */
  private join(rows: readonly number[]): void {
    const errors: string[] = [];
    for (let k = 1; k < rows.length; k++) {
      if (rows[k] === 0) continue;
      const error = awaitDone(this.ctrl[k - 1], this.seq, `parallel wasm worker ${k - 1}`);
      if (error !== null) errors.push(error);
    }
    if (errors.length) throw new Error(errors.join('\n'));
  }

  /** Row counts per lane of a chunk of n rows (all on lane 0 when act/value rows are too few to pay for a split). */
  private splitChunk(n: number): number[] {
    if (n < PARALLEL_MIN_ROWS * this.threads) return [n, ...new Array<number>(this.threads - 1).fill(0)];
    return splitRows(n, this.threads);
  }

  getParams(): Float32Array {
    this.live();
    return this.params.slice();
  }

  setParams(p: Float32Array): void {
    this.live();
    checkFloat32('setParams: params', p, this.numParams);
    this.params.set(p);
  }

  act(obs: Float32Array, n: number, opts: BackendActOptions, out: BackendActOutputs): void {
    const x = this.live();
    const { seed, envOffset } = checkActArgs(obs, n, opts, out, this);
    const { obsDim: O, actDim: A } = this;
    const det = opts.deterministic ? 1 : 0;
    const chunk = this.laneBatch * this.threads;
    for (let lo = 0; lo < n; lo += chunk) {
      const rows = this.splitChunk(Math.min(chunk, n - lo));
      this.seq++;
      let at = lo;
      const starts: number[] = [];
      for (let k = 0; k < rows.length; k++) {
        starts.push(at);
        if (k > 0 && rows[k] > 0) {
          this.lanes[k].obs.set(obs.subarray(at * O, (at + rows[k]) * O));
          const c = this.ctrl[k - 1];
          Atomics.store(c.ints, PAR_SEED, seed | 0);
          Atomics.store(c.ints, PAR_STEP, opts.step | 0);
          Atomics.store(c.ints, PAR_ENV_OFFSET, (envOffset + at) | 0);
          Atomics.store(c.ints, PAR_DETERMINISTIC, det);
          this.post(k, PAR_CMD_ACT, rows[k]);
        }
        at += rows[k];
      }
      const l0 = this.lanes[0];
      l0.obs.set(obs.subarray(lo * O, (lo + rows[0]) * O));
      x.forward(l0.table, rows[0], 3);
      x.sample(l0.table, rows[0], seed, opts.step, (envOffset + lo) >>> 0, det);
      this.join(rows);
      for (let k = 0; k < rows.length; k++) {
        const c = rows[k], s = starts[k], l = this.lanes[k];
        if (c === 0) continue;
        out.action.set(l.actionOut.subarray(0, c * A), s * A);
        out.logProb.set(l.logProbOut.subarray(0, c), s);
        out.value.set(l.value.subarray(0, c), s);
      }
    }
  }

  value(obs: Float32Array, n: number, out: Float32Array): void {
    const x = this.live();
    checkPositiveInt('value n', n);
    checkRows('value obs', obs, n, this.obsDim);
    checkFloat32('value out', out, n, false);
    const O = this.obsDim;
    const chunk = this.laneBatch * this.threads;
    for (let lo = 0; lo < n; lo += chunk) {
      const rows = this.splitChunk(Math.min(chunk, n - lo));
      this.seq++;
      let at = lo + rows[0];
      for (let k = 1; k < rows.length; k++) {
        if (rows[k] > 0) {
          this.lanes[k].obs.set(obs.subarray(at * O, (at + rows[k]) * O));
          this.post(k, PAR_CMD_VALUE, rows[k]);
        }
        at += rows[k];
      }
      const l0 = this.lanes[0];
      l0.obs.set(obs.subarray(lo * O, (lo + rows[0]) * O));
      x.forward(l0.table, rows[0], 2);
      this.join(rows);
      at = lo;
      for (let k = 0; k < rows.length; k++) {
        if (rows[k] > 0) out.set(this.lanes[k].value.subarray(0, rows[k]), at);
        at += rows[k];
      }
    }
  }

  ppoStep(mb: Minibatch, hp: PpoHyperparams): PpoStats {
    const stats = this.computeGradient(mb, hp);
    const x = this.live();
    const gradNorm = x.gradNorm(this.lanes[0].table);
    if (!Number.isFinite(gradNorm) || !Number.isFinite(stats.loss)) {
      throw new Error(`ppoStep: loss ${stats.loss}, gradient norm ${gradNorm}; the step was skipped, parameters and optimizer state are unchanged`);
    }
    const coef = hp.maxGradNorm / (gradNorm + GRAD_CLIP_EPS);
    const t = this.adamT + 1;
    const stepSize = hp.lr / (1 - ADAM_BETA1 ** t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - ADAM_BETA2 ** t);
    x.adam(this.lanes[0].table, coef < 1 ? coef : 1, stepSize, invSqrtBc2, ADAM_BETA1, 1 - ADAM_BETA1, ADAM_BETA2, 1 - ADAM_BETA2, ADAM_EPS);
    this.adamT = t;
    return { ...stats, gradNorm };
  }

  /** The loss gradient of a minibatch without updating anything: a copy of the reduced gradient [numParams] and the stats. */
  lossGradient(mb: Minibatch, hp: PpoHyperparams): { grad: Float32Array; stats: PpoLossStats } {
    const stats = this.computeGradient(mb, hp);
    return { grad: this.lanes[0].grad.slice(), stats };
  }

  /** Validates, normalizes the advantages over all rows, runs every lane's gradient and reduces into lane 0's gradient buffer. */
  private computeGradient(mb: Minibatch, hp: PpoHyperparams): PpoLossStats {
    const x = this.live();
    validateHyperparams(hp);
    validateMinibatch(mb, this.obsDim, this.actDim, this.maxBatch);
    const n = mb.n, O = this.obsDim, A = this.actDim;
    // Advantage moments over the whole minibatch, as the kernel computes them (f64; unbiased std, 0 when n = 1).
    let mean = 0, scale = 1;
    if (hp.normAdv) {
      let s = 0;
      for (let b = 0; b < n; b++) s += mb.advantages[b];
      mean = s / n;
      let ss = 0;
      for (let b = 0; b < n; b++) ss += (mb.advantages[b] - mean) ** 2;
      scale = 1 / ((n > 1 ? Math.sqrt(ss / (n - 1)) : 0) + ADV_NORM_EPS);
    }
    const rows = splitRows(n, this.threads);
    const load = (k: number, from: number): void => {
      const l = this.lanes[k], c = rows[k], to = from + c;
      l.obs.set(mb.obs.subarray(from * O, to * O));
      l.actions.set(mb.actions.subarray(from * A, to * A));
      l.oldLogProb.set(mb.oldLogProb.subarray(from, to));
      l.returns.set(mb.returns.subarray(from, to));
      l.oldValues.set(mb.oldValues.subarray(from, to));
      if (hp.normAdv) for (let b = 0; b < c; b++) l.advantages[b] = (mb.advantages[from + b] - mean) * scale;
      else l.advantages.set(mb.advantages.subarray(from, to));
    };
    this.seq++;
    let at = rows[0];
    for (let k = 1; k < this.threads; k++) {
      if (rows[k] > 0) {
        load(k, at);
        const c = this.ctrl[k - 1];
        c.f64[PAR_CLIP_COEF] = hp.clipCoef;
        c.f64[PAR_ENT_COEF] = hp.entCoef;
        c.f64[PAR_VF_COEF] = hp.vfCoef;
        Atomics.store(c.ints, PAR_CLIP_VLOSS, hp.clipVloss ? 1 : 0);
        this.post(k, PAR_CMD_GRAD, rows[k]);
      }
      at += rows[k];
    }
    load(0, 0);
    const t0 = this.lanes[0].table;
    x.forward(t0, rows[0], 3);
    x.lossBackward(t0, rows[0], hp.clipCoef, hp.clipVloss ? 1 : 0, hp.entCoef, hp.vfCoef, 0);
    this.join(rows);
    // REDUCE: g = Σ_k (n_k / n) g_k in lane order, f64, into lane 0's gradient; the stats likewise.
    const active = rows.map((c, k) => (c > 0 ? k : -1)).filter((k) => k >= 0);
    const w = active.map((k) => rows[k] / n);
    const sum = { pgLoss: 0, vLoss: 0, approxKl: 0, clipFrac: 0 };
    for (let i = 0; i < active.length; i++) {
      const s = this.lanes[active[i]].stats;
      sum.pgLoss += w[i] * s[S_PG_LOSS];
      sum.vLoss += w[i] * s[S_V_LOSS];
      sum.approxKl += w[i] * s[S_APPROX_KL];
      sum.clipFrac += w[i] * s[S_CLIP_FRAC];
    }
    if (active.length > 1) {
      const g0 = this.lanes[0].grad, P = this.numParams;
      const gs = active.slice(1).map((k) => this.lanes[k].grad);
      const w0 = w[0];
      for (let p = 0; p < P; p++) {
        let acc = w0 * g0[p];
        for (let i = 0; i < gs.length; i++) acc += w[i + 1] * gs[i][p];
        g0[p] = acc;
      }
    }
    const entropy = this.lanes[0].stats[S_ENTROPY];
    return { loss: sum.pgLoss - hp.entCoef * entropy + hp.vfCoef * sum.vLoss, pgLoss: sum.pgLoss, vLoss: sum.vLoss, entropy, approxKl: sum.approxKl, clipFrac: sum.clipFrac };
  }

  getOptimizerState(): OptimizerState {
    this.live();
    return { m: this.adamM.slice(), v: this.adamV.slice(), t: this.adamT };
  }

  setOptimizerState(s: OptimizerState): void {
    this.live();
    validateOptimizerState(s, this.numParams);
    this.adamM.set(s.m);
    this.adamV.set(s.v);
    this.adamT = s.t;
  }

  /** Resolves when every worker thread has exited (after destroy()). */
  whenStopped(): Promise<void> {
    return this.exited;
  }

  /** Stops the worker threads and drops the kernel instance; the backend MUST NOT be used after. */
  destroy(): void {
    if (!this.x) return;
    this.x = null;
    this.seq++;
    for (let k = 1; k < this.threads; k++) this.post(k, PAR_CMD_CLOSE, 0);
    // The workers leave their loops on CMD_CLOSE; terminate() also stops one that is stuck.
    for (const w of this.workers) void w.terminate();
  }
}
