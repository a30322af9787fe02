/**
 * The WebGPU backend: the policy and value MLPs, action sampling, the PPO loss gradient, global-norm clipping
 * and Adam in WGSL, with parameters, gradient and Adam moments resident on the GPU. One ppoStep uploads the
 * minibatch once, runs forward, loss, backward, gradient norm and Adam in one submit, and reads back only the
 * stats (8 floats and logStd [actDim]).
 *
 * Kernels (shaders/, one entry point each; their libraries and constants in webgpu-pipelines.ts, their buffer
 * wiring in webgpu-dispatches.ts), per ppoStep, in order:
 *   mlp-layer.wgsl × 2(L + 1)                    forward of both nets, keeping every layer's tanh output
 *   ppo-loss-grad.wgsl                           per row: dLoss/dmean [n, A], dLoss/dvalue [n], row terms [4 + A, n]
 *   ppo-loss-reduce.wgsl                         column sums: stats[0..3] and dLoss/dlogStd into grad
 *   mlp-layer-backward-weights.wgsl,             per layer, output to input: dW, db into grad (over row slices
 *   grad-slice-sum.wgsl,                         added in order by the second kernel when n > 64);
 *   mlp-layer-backward-input.wgsl                dX times tanh'
 *   grad-norm-partial.wgsl, grad-norm-final.wgsl Σ grad², the clipping scale and a finite flag into stats
 *   adam.wgsl                                    in place on params, m and v; skipped when the flag is 0
 * Every reduction runs in a fixed order, so one minibatch gives the same bits every run. Advantages are
 * normalized on the CPU in float64 (the minibatch comes from there); the rest of the head math is f32
 * (engine/nn/ppo-reference.ts has the float64 reference of all of it).
 *
 * Calls run one after another in call order (engine/gpu/call-queue.ts): a call made while another is in
 * flight waits for it, and a call made when none is submits its GPU work before it returns, so setParams()
 * right after an un-awaited ppoStep() still lands after that step. act() and value() take any n (in chunks of
 * maxBatch rows), ppoStep() at most maxBatch rows. All buffers (webgpu-buffers.ts) and the CPU scratch of the
 * minibatch upload (webgpu-minibatch.ts) are made at create() for maxBatch rows; a step that runs at once
 * allocates nothing for its minibatch, on the GPU or the CPU.
 */
import { adapterInfoOf, getDevice, type AdapterInfo } from '../gpu/device.ts';
import { CallQueue } from '../gpu/call-queue.ts';
import { LossWatch, withErrorScopes } from '../gpu/errors.ts';
import { uniformView } from '../gpu/struct-view.ts';
import { Readback, uploadable } from '../gpu/transfer.ts';
import { initParams } from './init.ts';
import type { ParamLayout } from './param-layout.ts';
import { HALF_LOG_2PI } from './reference.ts';
import {
  MlpSizes, resolveBackendOptions, type MlpBackendOptions,
  ADAM_BETA1, ADAM_BETA2, checkActArgs, ADAM_EPS, checkFloat32, checkPositiveInt, checkRows, validateHyperparams,
  validateMinibatch, validateOptimizerState, type BackendActOptions, type BackendActOutputs, type Minibatch, type OptimizerState,
  type PolicyBackend, type PpoHyperparams, type PpoLossStats, type PpoStats,
} from './backend.ts';
import {
  checkBufferLimits, destroyBuffers, F32, makeBuffers, STAT_CLIP_COUNT, STAT_GRAD_SCALE, STAT_KL_SUM, STAT_NORM_SQ, STAT_OK, STAT_PG_SUM,
  STAT_V_SUM, STATS_SLOTS, type BackendBuffers, type WebGpuBackendBuffers,
} from './webgpu-buffers.ts';
import { encodePass, wireDispatches, type Dispatch, type Dispatches } from './webgpu-dispatches.ts';
import { MinibatchUpload, type PackedMinibatch } from './webgpu-minibatch.ts';
import { pipelinesFor, rowSlices, type Pipelines } from './webgpu-pipelines.ts';

export { GRAD_NORM_PARTIALS, MAX_ROW_SLICES, MIN_ROWS_PER_SLICE, rowSlices, TRAIN_WORKGROUP_SIZE } from './webgpu-pipelines.ts';
export { STAT_CLIP_COUNT, STAT_GRAD_SCALE, STAT_KL_SUM, STAT_NORM_SQ, STAT_OK, STAT_PG_SUM, STAT_V_SUM, STATS_SLOTS, type WebGpuBackendBuffers, type WebGpuForwardBuffers } from './webgpu-buffers.ts';

/** Options of WebGpuBackend.create. */
export interface WebGpuBackendOptions extends MlpBackendOptions {
  /** Device to run on; default a new one from getDevice(), owned and destroyed by the backend. */
  device?: GPUDevice;
  /** Destroy `device` with the backend (and on a failed create), as one it made itself; default false. */
  ownsDevice?: boolean;
}

/** The policy backend on WebGPU: WGSL forward, sampling, PPO gradient, clipping and Adam, state on the GPU. */
export class WebGpuBackend extends MlpSizes implements PolicyBackend {
  readonly kind = 'webgpu' as const;
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterInfo;
  private readonly ownsDevice: boolean;
  /** Uniform views (own scratch per backend): ActArgs of shaders/act-args.wgsl, TrainArgs of shaders/train-args.wgsl. */
  private readonly actArgs: ReturnType<typeof uniformView>;
  private readonly trainArgs: ReturnType<typeof uniformView>;
  private readonly loss: LossWatch;
  private readonly bufs: BackendBuffers;
  private readonly d: Dispatches;
  private readonly calls: CallQueue;
  private readonly readback: Readback;
  private readonly minibatch: MinibatchUpload;
  /** adamStep's stats slots [STAT_GRAD_SCALE, STATS_SLOTS): gradient scale, then the finite flag at STAT_OK. */
  private readonly adamSlots = new Float32Array(STATS_SLOTS - STAT_GRAD_SCALE);
  private adamT = 0;
  private destroyed = false;

  /** Validates the sizes, compiles the kernels, makes every buffer and uploads the initial parameters (cleanrl init, or opts.params). */
  static async create(opts: WebGpuBackendOptions): Promise<WebGpuBackend> {
    const { seed, maxBatch, layout } = resolveBackendOptions(opts);
    const device = opts.device ?? (await getDevice());
    const ownsDevice = !opts.device || opts.ownsDevice === true;
    let backend: WebGpuBackend | undefined;
    try {
      checkBufferLimits(device, layout, maxBatch);
      const pipelines = await pipelinesFor(device, layout, maxBatch);
      await withErrorScopes(device, 'WebGpuBackend.create: making the buffers', () => {
        backend = new WebGpuBackend(device, ownsDevice, layout, seed, maxBatch, pipelines);
        device.queue.writeBuffer(backend.bufs.params, 0, uploadable(opts.params ?? initParams(layout, seed), false));
      });
      return backend!;
    } catch (err) {
      if (backend) backend.destroy();
      else if (ownsDevice) device.destroy();
      throw err;
    }
  }

  private constructor(device: GPUDevice, ownsDevice: boolean, layout: ParamLayout, seed: number, maxBatch: number, pipelines: Pipelines) {
    super(layout, seed, maxBatch);
    this.device = device;
    this.ownsDevice = ownsDevice;
    this.adapterInfo = adapterInfoOf(device);
    this.actArgs = uniformView(pipelines.actCode, 'args');
    this.trainArgs = uniformView(pipelines.trainCode, 'args');
    this.loss = new LossWatch(device);
    this.calls = new CallQueue((what) => this.checkAlive(what));
    this.minibatch = new MinibatchUpload(layout.obsDim, layout.actDim, maxBatch);
    this.bufs = makeBuffers(device, layout, maxBatch, { act: this.actArgs.arrayBuffer.byteLength, train: this.trainArgs.arrayBuffer.byteLength });
    try {
      this.d = wireDispatches(device, pipelines, this.bufs, layout);
    } catch (err) {
      destroyBuffers(this.bufs);
      throw err;
    }
    this.readback = new Readback(device, this.bufs.staging, 'webgpu backend', (what) => {
      this.loss.check(what);
      if (this.destroyed) throw new Error(`webgpu backend: ${what}: destroyed while the GPU work was in flight`);
    });
  }

  /** The buffers holding the state, lent (see WebGpuBackendBuffers). */
  get buffers(): WebGpuBackendBuffers {
    this.checkAlive('buffers');
    const { params, grad, adamM, adamV, stats, hidden, mean, action, logProb, value, staging } = this.bufs;
    return { params, grad, adamM, adamV, stats, forward: { hidden, mean, action, logProb, value, staging } };
  }

  /** Throws when the backend was destroyed or its device lost. */
  private checkAlive(what: string): void {
    if (this.destroyed) throw new Error(`webgpu backend: ${what} used after destroy()`);
    this.loss.check(what);
  }

  /** Records the dispatches into one compute pass for n rows. */
  private pass(enc: GPUCommandEncoder, label: string, list: readonly Dispatch[], n: number): void {
    encodePass(enc, label, list, n, this.device.limits.maxComputeWorkgroupsPerDimension);
  }

  /** Writes the act uniform (ActArgs of shaders/act-args.wgsl). */
  private writeActArgs(n: number, step: number, seed: number, envOffset: number, deterministic: boolean): void {
    this.actArgs.set({ n, step, seed, env_offset: envOffset, deterministic: deterministic ? 1 : 0 });
    this.device.queue.writeBuffer(this.bufs.actUniform, 0, this.actArgs.arrayBuffer);
  }

  /** Writes the training uniform (TrainArgs of shaders/train-args.wgsl) for n rows and an Adam step t with rate lr. */
  private writeTrainArgs(n: number, hp: PpoHyperparams | null, t: number, lr: number): void {
    const clip = hp !== null && Number.isFinite(hp.maxGradNorm);
    const [slices, rowsPerSlice] = rowSlices(n);
    this.trainArgs.set({
      n,
      num_params: this.numParams,
      slices,
      rows_per_slice: rowsPerSlice,
      clip_vloss: hp?.clipVloss ? 1 : 0,
      clip_grad: clip ? 1 : 0,
      inv_n: 1 / Math.max(1, n),
      clip_coef: hp?.clipCoef ?? 0,
      ent_coef: hp?.entCoef ?? 0,
      vf_coef: hp?.vfCoef ?? 0,
      max_grad_norm: clip ? hp.maxGradNorm : 0,
      step_size: lr / (1 - ADAM_BETA1 ** t),
      inv_sqrt_bc2: 1 / Math.sqrt(1 - ADAM_BETA2 ** t),
      beta1: ADAM_BETA1,
      one_minus_beta1: 1 - ADAM_BETA1,
      beta2: ADAM_BETA2,
      one_minus_beta2: 1 - ADAM_BETA2,
      adam_eps: ADAM_EPS,
    });
    this.device.queue.writeBuffer(this.bufs.trainUniform, 0, this.trainArgs.arrayBuffer);
  }

  getParams(): Promise<Float32Array> {
    return this.calls.enqueue('getParams', () =>
      this.readback.submitAndRead('getParams', this.numParams, (enc) => enc.copyBufferToBuffer(this.bufs.params, 0, this.bufs.staging, 0, this.numParams * F32)),
    );
  }

  setParams(p: Float32Array): void {
    this.checkAlive('setParams');
    checkFloat32('setParams: params', p, this.numParams);
    const data = uploadable(p, this.calls.pending > 0);
    this.calls.ordered('setParams', () => this.device.queue.writeBuffer(this.bufs.params, 0, data));
  }

  act(obs: Float32Array, n: number, opts: BackendActOptions, out: BackendActOutputs): Promise<void> {
    try {
      this.checkAlive('act');
      checkActArgs(obs, n, opts, out, this);
    } catch (err) {
      return Promise.reject(err);
    }
    // Copied when the upload waits for other calls or for earlier chunks.
    const x = uploadable(obs, this.calls.pending > 0 || n > this.maxBatch);
    const { step } = opts;
    const seed = opts.seed ?? this.seed;
    const envOffset = opts.envOffset ?? 0;
    const det = opts.deterministic === true;
    return this.calls.enqueue('act', async () => {
      const { obsDim, actDim: A } = this;
      const b = this.bufs;
      for (let lo = 0; lo < n; lo += this.maxBatch) {
        const c = Math.min(this.maxBatch, n - lo);
        const data = await this.readback.submitAndRead('act', c * (A + 2), (enc) => {
          this.writeActArgs(c, step, seed, (envOffset + lo) >>> 0, det);
          this.device.queue.writeBuffer(b.obs, 0, x, lo * obsDim, c * obsDim);
          this.pass(enc, 'act', this.d.act, c);
          enc.copyBufferToBuffer(b.action, 0, b.staging, 0, c * A * F32);
          enc.copyBufferToBuffer(b.logProb, 0, b.staging, c * A * F32, c * F32);
          enc.copyBufferToBuffer(b.value, 0, b.staging, c * (A + 1) * F32, c * F32);
        });
        out.action.set(data.subarray(0, c * A), lo * A);
        out.logProb.set(data.subarray(c * A, c * (A + 1)), lo);
        out.value.set(data.subarray(c * (A + 1), c * (A + 2)), lo);
      }
    });
  }

  value(obs: Float32Array, n: number, out: Float32Array): Promise<void> {
    try {
      this.checkAlive('value');
      checkPositiveInt('value n', n);
      checkRows('value obs', obs, n, this.obsDim);
      checkFloat32('value out', out, n, false);
    } catch (err) {
      return Promise.reject(err);
    }
    const x = uploadable(obs, this.calls.pending > 0 || n > this.maxBatch);
    return this.calls.enqueue('value', async () => {
      const b = this.bufs;
      for (let lo = 0; lo < n; lo += this.maxBatch) {
        const c = Math.min(this.maxBatch, n - lo);
        const data = await this.readback.submitAndRead('value', c, (enc) => {
          this.writeActArgs(c, 0, this.seed, 0, true);
          this.device.queue.writeBuffer(b.obs, 0, x, lo * this.obsDim, c * this.obsDim);
          this.pass(enc, 'value', this.d.value, c);
          enc.copyBufferToBuffer(b.value, 0, b.staging, 0, c * F32);
        });
        out.set(data, lo);
      }
    });
  }

  /** Validates a minibatch and its hyperparameters and packs its first n rows for upload (webgpu-minibatch.ts). */
  private prepare(mb: Minibatch, hp: PpoHyperparams): PackedMinibatch {
    validateHyperparams(hp);
    validateMinibatch(mb, this.obsDim, this.actDim, this.maxBatch);
    return this.minibatch.pack(mb, hp, this.calls.pending > 0);
  }

  /** Uploads a packed minibatch and records forward, loss and backward for it (the gradient lands in grad). */
  private encodeGradient(enc: GPUCommandEncoder, mb: PackedMinibatch, hp: PpoHyperparams, t: number): void {
    this.writeActArgs(mb.n, 0, this.seed, 0, true);
    this.writeTrainArgs(mb.n, hp, t, hp.lr);
    this.minibatch.upload(this.device.queue, this.bufs, mb);
    this.pass(enc, 'gradient', this.d.gradient, mb.n);
  }

  /** Records copies of the stats slots [STATS_SLOTS] and of logStd [actDim] to the start of the staging buffer. */
  private copyStats(enc: GPUCommandEncoder): void {
    const b = this.bufs;
    enc.copyBufferToBuffer(b.stats, 0, b.staging, 0, STATS_SLOTS * F32);
    enc.copyBufferToBuffer(b.params, this.paramLayout.logStdOffset * F32, b.staging, STATS_SLOTS * F32, this.actDim * F32);
  }

  /** Loss stats from the stats slots [STATS_SLOTS] and logStd [actDim] read back, in float64. */
  private lossStats(data: Float32Array, n: number, hp: PpoHyperparams): PpoLossStats {
    let entropy = 0;
    for (let j = 0; j < this.actDim; j++) entropy += 0.5 + HALF_LOG_2PI + data[STATS_SLOTS + j];
    const pgLoss = data[STAT_PG_SUM] / n;
    const vLoss = (0.5 * data[STAT_V_SUM]) / n;
    return {
      loss: pgLoss - hp.entCoef * entropy + hp.vfCoef * vLoss,
      pgLoss,
      vLoss,
      entropy,
      approxKl: data[STAT_KL_SUM] / n,
      clipFrac: data[STAT_CLIP_COUNT] / n,
    };
  }

  ppoStep(mb: Minibatch, hp: PpoHyperparams): Promise<PpoStats> {
    let packed: PackedMinibatch;
    try {
      this.checkAlive('ppoStep');
      packed = this.prepare(mb, hp);
    } catch (err) {
      return Promise.reject(err);
    }
    const hpCopy = { ...hp };
    return this.calls.enqueue('ppoStep', async () => {
      const t = this.adamT + 1;
      const data = await this.readback.submitAndRead('ppoStep', STATS_SLOTS + this.actDim, (enc) => {
        this.encodeGradient(enc, packed, hpCopy, t);
        this.pass(enc, 'norm', this.d.norm, packed.n);
        // Stats and the logStd the loss saw, before Adam moves it.
        this.copyStats(enc);
        this.pass(enc, 'adam', this.d.adam, packed.n);
      });
      const stats = this.lossStats(data, packed.n, hpCopy);
      const gradNorm = Math.sqrt(data[STAT_NORM_SQ]);
      if (data[STAT_OK] !== 1) {
        throw new Error(`ppoStep: loss ${stats.loss}, gradient norm ${gradNorm}; the step was skipped, parameters and optimizer state are unchanged`);
      }
      this.adamT = t;
      return { ...stats, gradNorm };
    });
  }

  /** The loss gradient of a minibatch without updating anything: a copy of the gradient [numParams] and the stats. */
  lossGradient(mb: Minibatch, hp: PpoHyperparams): Promise<{ grad: Float32Array; stats: PpoLossStats }> {
    let packed: PackedMinibatch;
    try {
      this.checkAlive('lossGradient');
      packed = this.prepare(mb, hp);
    } catch (err) {
      return Promise.reject(err);
    }
    const hpCopy = { ...hp };
    return this.calls.enqueue('lossGradient', async () => {
      const A = this.actDim;
      const P = this.numParams;
      const data = await this.readback.submitAndRead('lossGradient', STATS_SLOTS + A + P, (enc) => {
        this.encodeGradient(enc, packed, hpCopy, this.adamT + 1);
        this.copyStats(enc);
        enc.copyBufferToBuffer(this.bufs.grad, 0, this.bufs.staging, (STATS_SLOTS + A) * F32, P * F32);
      });
      return { grad: data.slice(STATS_SLOTS + A), stats: this.lossStats(data, packed.n, hpCopy) };
    });
  }

  /** Building block: global L2 norm of the gradient buffer, summed in f32 in a fixed order on the GPU. */
  gradNorm(): Promise<number> {
    return this.calls.enqueue('gradNorm', async () => {
      const data = await this.readback.submitAndRead('gradNorm', STATS_SLOTS, (enc) => {
        this.writeTrainArgs(1, null, this.adamT + 1, 0);
        this.pass(enc, 'grad norm', this.d.norm, 1);
        enc.copyBufferToBuffer(this.bufs.stats, 0, this.bufs.staging, 0, STATS_SLOTS * F32);
      });
      return Math.sqrt(data[STAT_NORM_SQ]);
    });
  }

  /** Building block: one Adam step (t ← t + 1) with gradient gradScale · grad and learning rate lr. */
  adamStep(gradScale: number, lr: number): Promise<void> {
    if (!Number.isFinite(gradScale) || !Number.isFinite(lr) || lr < 0) return Promise.reject(new Error(`adamStep: gradScale ${gradScale} and lr ${lr} must be finite, lr ≥ 0`));
    return this.calls.enqueue('adamStep', async () => {
      const t = this.adamT + 1;
      await this.readback.submitAndRead('adamStep', 1, (enc) => {
        this.writeTrainArgs(1, null, t, lr);
        const slots = this.adamSlots;
        slots.fill(0);
        slots[0] = gradScale;
        slots[STAT_OK - STAT_GRAD_SCALE] = 1;
        this.device.queue.writeBuffer(this.bufs.stats, STAT_GRAD_SCALE * F32, slots);
        this.pass(enc, 'adam', this.d.adam, 1);
        enc.copyBufferToBuffer(this.bufs.stats, 0, this.bufs.staging, 0, F32);
      });
      this.adamT = t;
    });
  }

  getOptimizerState(): Promise<OptimizerState> {
    return this.calls.enqueue('getOptimizerState', async () => {
      const P = this.numParams;
      const data = await this.readback.submitAndRead('getOptimizerState', 2 * P, (enc) => {
        enc.copyBufferToBuffer(this.bufs.adamM, 0, this.bufs.staging, 0, P * F32);
        enc.copyBufferToBuffer(this.bufs.adamV, 0, this.bufs.staging, P * F32, P * F32);
      });
      return { m: data.slice(0, P), v: data.slice(P), t: this.adamT };
    });
  }

  setOptimizerState(s: OptimizerState): void {
    this.checkAlive('setOptimizerState');
    validateOptimizerState(s, this.numParams);
    const copy = this.calls.pending > 0;
    const m = uploadable(s.m, copy);
    const v = uploadable(s.v, copy);
    const t = s.t;
    this.calls.ordered('setOptimizerState', () => {
      this.device.queue.writeBuffer(this.bufs.adamM, 0, m);
      this.device.queue.writeBuffer(this.bufs.adamV, 0, v);
      this.adamT = t;
    });
  }

  /** Destroys every GPU buffer (and the device when the backend made it); the backend MUST NOT be used after. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    destroyBuffers(this.bufs);
    if (this.ownsDevice) this.device.destroy();
  }
}
