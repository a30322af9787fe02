/**
 * The WebGPU backend: the policy and value MLPs, action sampling, the PPO loss gradient, global-norm clipping
 * and Adam in WGSL, with parameters, gradient and Adam moments resident on the GPU. One ppoStep uploads the
 * minibatch once, runs forward, loss, backward, gradient norm and Adam in one submit, and reads back only the
 * stats (8 floats and logStd [actDim]).
 *
 * Kernels (shaders/, one entry point each), per ppoStep, in order:
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
 * Calls run one after another in call order: a call made while another is in flight waits for it, and a
 * call made when none is submits its GPU work before it returns, so setParams() right after an un-awaited
 * ppoStep() still lands after that step. act() and value() take any n (in chunks of maxBatch rows), ppoStep()
 * at most maxBatch rows. All buffers are made at create() for maxBatch rows; nothing is allocated per step
 * on the GPU.
 */
import { adapterInfoOf, getDevice, type AdapterInfo } from '../gpu/device.ts';
import { GpuError, LossWatch, openErrorScopes, withErrorScopes } from '../gpu/errors.ts';
import { shaderLineOrigin, shaderSource } from '../gpu/shader-source.ts';
import { uniformView } from '../gpu/struct-view.ts';
import { initParams } from './init.ts';
import { paramLayout, type LayerSpec, type ParamLayout } from './param-layout.ts';
import { HALF_LOG_2PI } from './reference.ts';
import {
  ADAM_BETA1, ADAM_BETA2, checkActArgs, ADAM_EPS, ADV_NORM_EPS, checkFloat32, checkPositiveInt, checkRows, checkUint32, validateHyperparams,
  validateMinibatch, validateOptimizerState, type BackendActOptions, type BackendActOutputs, type Minibatch, type OptimizerState,
  type PolicyBackend, type PpoHyperparams, type PpoLossStats, type PpoStats,
} from './backend.ts';
import { advantageMoments } from './ppo-reference.ts';

/** Default hidden widths, cleanrl's continuous-action PPO. */
export const WEBGPU_DEFAULT_HIDDEN: readonly number[] = [64, 64];
/** Default row capacity of the minibatch buffers. */
export const WEBGPU_DEFAULT_MAX_BATCH = 4096;
/** Invocations per workgroup of every training kernel (a power of two, for the reduction trees). */
export const TRAIN_WORKGROUP_SIZE = 64;
/** Most row slices of mlp-layer-backward-weights.wgsl (summed in order by grad-slice-sum.wgsl). */
export const MAX_ROW_SLICES = 16;
/** Fewest rows per slice: minibatches up to this many rows take one slice and no second pass. */
export const MIN_ROWS_PER_SLICE = 64;
/** Partial sums of squares of the first gradient-norm pass (one per invocation), summed by the second. */
export const GRAD_NORM_PARTIALS = 4096;
/** f32 slots of the stats buffer; see STAT_* in shaders/train-args.wgsl. */
export const STATS_SLOTS = 8;
/** Indices into the stats buffer (shaders/train-args.wgsl). */
export const STAT_PG_SUM = 0, STAT_V_SUM = 1, STAT_KL_SUM = 2, STAT_CLIP_COUNT = 3, STAT_NORM_SQ = 4, STAT_GRAD_SCALE = 5, STAT_OK = 6;

const F32 = 4;
/** Tile edge of the dense-layer kernels (4 rows × 4 outputs or inputs per invocation). */
const TILE = 4;

/** Options of WebGpuBackend.create. */
export interface WebGpuBackendOptions {
  /** Observation width. */
  obsDim: number;
  /** Action width. */
  actDim: number;
  /** Hidden widths of both nets; default [64, 64]. */
  hidden?: readonly number[];
  /** Seed (uint32) of the initialization and the default key of the action noise; default 0. */
  seed?: number;
  /** Most rows of one ppoStep minibatch (and of one act/value chunk); default 4096. */
  maxBatch?: number;
  /** Initial parameters [numParams] instead of initParams(layout, seed). */
  params?: Float32Array;
  /** Device to run on; default a new one from getDevice(), owned and destroyed by the backend. */
  device?: GPUDevice;
}

/** The backend's GPU buffers, lent for interop and tests: callers MUST NOT destroy them or keep them past destroy(). */
export interface WebGpuBackendBuffers {
  /** [numParams] parameters, paramLayout order. */
  params: GPUBuffer;
  /** [numParams] loss gradient of the last step, before clipping. */
  grad: GPUBuffer;
  /** [numParams] Adam first moment. */
  adamM: GPUBuffer;
  /** [numParams] Adam second moment. */
  adamV: GPUBuffer;
  /** [STATS_SLOTS] f32 loss sums, squared gradient norm, clipping scale and finite flag of the last step. */
  stats: GPUBuffer;
  /** What one act() chunk writes, [maxBatch, width] each: hidden activations (policy layers, then value layers), mean, action, logProb, value, and the readback staging. */
  forward: { hidden: GPUBuffer[]; mean: GPUBuffer; action: GPUBuffer; logProb: GPUBuffer; value: GPUBuffer; staging: GPUBuffer };
}

/** One dispatch: a pipeline, its bind group and its workgroup count for n rows. */
interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  /** Workgroups needed for n rows. */
  groups: (n: number) => number;
}

/** Every dispatch of the backend, wired at creation to the maxBatch-sized buffers. */
interface Dispatches {
  policyForward: Dispatch[];
  valueForward: Dispatch[];
  head: Dispatch;
  lossGrad: Dispatch;
  lossReduce: Dispatch;
  /** Output layer to input layer: weights of l, their slice sum, then input of l (l > 0), policy net. */
  policyBackward: Dispatch[];
  valueBackward: Dispatch[];
  normPartial: Dispatch;
  normFinal: Dispatch;
  adam: Dispatch;
}

/** Compiled pipelines, one per kernel and layer. */
interface Pipelines {
  forward: GPUComputePipeline[];
  head: GPUComputePipeline;
  lossGrad: GPUComputePipeline;
  lossReduce: GPUComputePipeline;
  backwardWeights: GPUComputePipeline[];
  sliceSum: GPUComputePipeline[];
  /** Per layer; null for layer 0, whose input is the observation. */
  backwardInput: (GPUComputePipeline | null)[];
  normPartial: GPUComputePipeline;
  normFinal: GPUComputePipeline;
  adam: GPUComputePipeline;
  /** WGSL of a kernel using ActArgs and of one using TrainArgs, for the uniform views. */
  actCode: string;
  trainCode: string;
}

/** Compiled pipelines per device and shape (they hold no state, so backends of one shape share them). */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<Pipelines>>>();

/** The pipelines for this device, layout and row capacity: compiled on first use, then shared. */
function pipelinesFor(device: GPUDevice, layout: ParamLayout, maxBatch: number): Promise<Pipelines> {
  let byShape = pipelineCache.get(device);
  if (!byShape) {
    byShape = new Map();
    pipelineCache.set(device, byShape);
  }
  const key = `${layout.obsDim}-${layout.hidden.join('-')}-${layout.actDim}/${maxBatch}`;
  let p = byShape.get(key);
  if (!p) {
    p = compilePipelines(device, layout, maxBatch);
    const cache = byShape;
    p.catch(() => cache.delete(key));
    byShape.set(key, p);
  }
  return p;
}

/** Workgroup grid [x, y] of `groups` (≥ 1) workgroups with x within the device limit. */
function grid(groups: number, maxPerDim: number): [number, number] {
  const x = Math.min(groups, maxPerDim);
  const y = Math.ceil(groups / x);
  if (y > maxPerDim) throw new Error(`webgpu backend: ${groups} workgroups exceed the ${maxPerDim}² grid`);
  return [x, y];
}

/** Row slices of the weight-gradient kernel for n rows: [slices, rows per slice], fixed by n alone. */
export function rowSlices(n: number): [number, number] {
  const slices = Math.max(1, Math.min(MAX_ROW_SLICES, Math.ceil(n / MIN_ROWS_PER_SLICE)));
  return [slices, Math.ceil(n / slices)];
}

/** Floats of the largest layer's [weight | bias] block, the stride of the slice partials. */
function maxLayerBlock(layout: ParamLayout): number {
  return Math.max(...[...layout.policyLayers, ...layout.valueLayers].map((l) => l.outDim * l.inDim + l.outDim));
}

/** A Float32Array whose data Dawn can upload: the array itself, or a copy when it views a SharedArrayBuffer or copy is set. */
function uploadable(a: Float32Array, copy: boolean): Float32Array<ArrayBuffer> {
  const shared = typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
  return copy || shared ? a.slice() : (a as Float32Array<ArrayBuffer>);
}

/** Throws a GpuError listing the compiler's errors at their source file and line, when a kernel did not compile. */
async function checkCompiled(module: GPUShaderModule, kernel: string, libs: readonly string[]): Promise<void> {
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    const lines = await Promise.all(errors.map(async (m) => `  ${await shaderLineOrigin(kernel, libs, m.lineNum)}:${m.linePos}: ${m.message}`));
    throw new GpuError(`${kernel} did not compile:\n${lines.join('\n')}`, 'validation');
  }
}

/** Compiles every kernel for this layout and row capacity, with its override constants. */
async function compilePipelines(device: GPUDevice, layout: ParamLayout, maxBatch: number): Promise<Pipelines> {
  const kernels: [string, string[]][] = [
    ['mlp-layer.wgsl', ['act-args.wgsl']],
    ['gaussian-head.wgsl', ['act-args.wgsl', 'philox.wgsl']],
    ['ppo-loss-grad.wgsl', ['train-args.wgsl']],
    ['ppo-loss-reduce.wgsl', ['train-args.wgsl']],
    ['mlp-layer-backward-weights.wgsl', ['train-args.wgsl']],
    ['grad-slice-sum.wgsl', ['train-args.wgsl']],
    ['mlp-layer-backward-input.wgsl', ['train-args.wgsl']],
    ['grad-norm-partial.wgsl', ['train-args.wgsl']],
    ['grad-norm-final.wgsl', ['train-args.wgsl']],
    ['adam.wgsl', ['train-args.wgsl']],
  ];
  const codes = await Promise.all(kernels.map(([k, libs]) => shaderSource(k, libs)));
  const close = openErrorScopes(device, 'WebGpuBackend.create: compiling the kernels');
  const modules = kernels.map(([k], i) => device.createShaderModule({ label: k, code: codes[i] }));
  const scopes = close();
  // The compiler's messages say more than the scope's "invalid shader module", so they win.
  await Promise.all(modules.map((m, i) => checkCompiled(m, kernels[i][0], kernels[i][1]))).catch(async (err) => {
    await scopes.catch(() => undefined);
    throw err;
  });
  await scopes;
  const [mlp, head, lossGrad, lossReduce, bwdW, sliceSum, bwdX, normPartial, normFinal, adam] = modules;
  const SLICE_STRIDE = maxLayerBlock(layout);
  const WORKGROUP_SIZE = TRAIN_WORKGROUP_SIZE;
  const make = (label: string, module: GPUShaderModule, constants: Record<string, number>) =>
    device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint: 'main', constants: { ...constants, WORKGROUP_SIZE } } });
  const layers = [...layout.policyLayers, ...layout.valueLayers];
  // The weight-gradient kernels treat a layer's weight and bias as one block; param-layout.ts lays them out so.
  for (const l of layers) if (l.biasOffset !== l.weightOffset + l.outDim * l.inDim) throw new Error(`webgpu backend: ${l.net} layer ${l.index}'s bias does not follow its weight`);
  const tag = (l: LayerSpec) => `${l.net} layer ${l.index} (${l.inDim}→${l.outDim})`;
  const A = layout.actDim;
  const head4 = { ACT_DIM: A, LOG_STD_OFFSET: layout.logStdOffset };
  const [forward, headP, lossGradP, lossReduceP, backwardWeights, sliceSumP, backwardInput, normPartialP, normFinalP, adamP] = await Promise.all([
    Promise.all(
      layers.map((l) =>
        make(`forward ${tag(l)}`, mlp, { IN_DIM: l.inDim, OUT_DIM: l.outDim, W_OFFSET: l.weightOffset, B_OFFSET: l.biasOffset, TANH: l.tanh ? 1 : 0 }),
      ),
    ),
    make('gaussian head', head, head4),
    make('ppo loss grad', lossGrad, { ...head4, TERM_STRIDE: maxBatch }),
    make('ppo loss reduce', lossReduce, { ...head4, TERM_STRIDE: maxBatch }),
    Promise.all(
      layers.map((l) =>
        make(`backward weights ${tag(l)}`, bwdW, { IN_DIM: l.inDim, OUT_DIM: l.outDim, W_OFFSET: l.weightOffset, SLICE_STRIDE }),
      ),
    ),
    Promise.all(layers.map((l) => make(`slice sum ${tag(l)}`, sliceSum, { OFFSET: l.weightOffset, COUNT: l.outDim * l.inDim + l.outDim, SLICE_STRIDE }))),
    Promise.all(layers.map((l) => (l.index === 0 ? null : make(`backward input ${tag(l)}`, bwdX, { IN_DIM: l.inDim, OUT_DIM: l.outDim, W_OFFSET: l.weightOffset })))),
    make('grad norm partial', normPartial, { NUM_PARTIALS: GRAD_NORM_PARTIALS }),
    make('grad norm final', normFinal, { NUM_PARTIALS: GRAD_NORM_PARTIALS }),
    make('adam', adam, {}),
  ]);
  return {
    forward,
    head: headP,
    lossGrad: lossGradP,
    lossReduce: lossReduceP,
    backwardWeights,
    sliceSum: sliceSumP,
    backwardInput,
    normPartial: normPartialP,
    normFinal: normFinalP,
    adam: adamP,
    actCode: codes[0],
    trainCode: codes[2],
  };
}

/** The policy backend on WebGPU: WGSL forward, sampling, PPO gradient, clipping and Adam, state on the GPU. */
export class WebGpuBackend implements PolicyBackend {
  readonly kind = 'webgpu' as const;
  readonly obsDim: number;
  readonly actDim: number;
  readonly hidden: readonly number[];
  readonly numParams: number;
  /** Where each tensor sits in the flat parameter array. */
  readonly paramLayout: ParamLayout;
  /** Seed of the initialization and default Philox key (uint32). */
  readonly seed: number;
  /** Most rows of one ppoStep minibatch and of one act/value chunk. */
  readonly maxBatch: number;
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterInfo;
  private readonly ownsDevice: boolean;
  private readonly p: Pipelines;
  /** Uniform views (own scratch per backend): ActArgs of shaders/act-args.wgsl, TrainArgs of shaders/train-args.wgsl. */
  private readonly actArgs: ReturnType<typeof uniformView>;
  private readonly trainArgs: ReturnType<typeof uniformView>;
  private readonly loss: LossWatch;
  private readonly bufs: {
    params: GPUBuffer;
    grad: GPUBuffer;
    adamM: GPUBuffer;
    adamV: GPUBuffer;
    stats: GPUBuffer;
    normPartials: GPUBuffer;
    /** [slices, largest layer block] per-slice weight gradients. */
    slicePartials: GPUBuffer;
    obs: GPUBuffer;
    /** Hidden tanh outputs [maxBatch, hidden[l]]: policy layers, then value layers. */
    hidden: GPUBuffer[];
    mean: GPUBuffer;
    value: GPUBuffer;
    action: GPUBuffer;
    logProb: GPUBuffer;
    actions: GPUBuffer;
    /** [maxBatch] (oldLogProb, normalized advantage, return, oldValue). */
    rows: GPUBuffer;
    dMean: GPUBuffer;
    dValue: GPUBuffer;
    /** Ping-pong dLoss/d(pre-activation) of hidden layers [maxBatch, max(hidden)]. */
    deltaA: GPUBuffer;
    deltaB: GPUBuffer;
    /** [4 + actDim, maxBatch] per-row loss terms, column-major. */
    terms: GPUBuffer;
    actUniform: GPUBuffer;
    trainUniform: GPUBuffer;
    /** Mappable readback of everything the calls return. */
    staging: GPUBuffer;
  };
  private readonly d: Dispatches;
  private adamT = 0;
  /** Calls submitted or waiting, and the promise the next call waits for. */
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();
  private destroyed = false;

  /** Validates the sizes, compiles the kernels, makes every buffer and uploads the initial parameters (cleanrl init, or opts.params). */
  static async create(opts: WebGpuBackendOptions): Promise<WebGpuBackend> {
    checkPositiveInt('obsDim', opts.obsDim);
    checkPositiveInt('actDim', opts.actDim);
    const hidden = [...(opts.hidden ?? WEBGPU_DEFAULT_HIDDEN)];
    const seed = opts.seed ?? 0;
    checkUint32('seed', seed);
    const maxBatch = opts.maxBatch ?? WEBGPU_DEFAULT_MAX_BATCH;
    checkPositiveInt('maxBatch', maxBatch);
    const layout = paramLayout(opts.obsDim, opts.actDim, hidden);
    if (opts.params !== undefined) checkFloat32('params', opts.params, layout.size);
    const device = opts.device ?? (await getDevice());
    const ownsDevice = !opts.device;
    let backend: WebGpuBackend | undefined;
    try {
      const maxWidth = Math.max(layout.obsDim, layout.actDim + 4, ...hidden);
      const maxBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
      const biggest = Math.max(maxBatch * maxWidth, (4 + layout.actDim) * maxBatch, layout.size) * F32;
      if (biggest > maxBytes) throw new Error(`webgpu backend: maxBatch ${maxBatch} needs a ${biggest}-byte buffer, over this device's ${maxBytes}-byte storage limit`);
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
    this.device = device;
    this.ownsDevice = ownsDevice;
    this.paramLayout = layout;
    this.obsDim = layout.obsDim;
    this.actDim = layout.actDim;
    this.hidden = layout.hidden;
    this.numParams = layout.size;
    this.seed = seed >>> 0;
    this.maxBatch = maxBatch;
    this.adapterInfo = adapterInfoOf(device);
    this.p = pipelines;
    this.actArgs = uniformView(pipelines.actCode, 'args');
    this.trainArgs = uniformView(pipelines.trainCode, 'args');
    this.loss = new LossWatch(device);
    const B = maxBatch;
    const A = layout.actDim;
    const P = layout.size;
    const made: GPUBuffer[] = [];
    const buffer = (label: string, bytes: number, usage: number): GPUBuffer => {
      const b = device.createBuffer({ label: `webgpu backend ${label}`, size: Math.max(16, Math.ceil(bytes / 4) * 4), usage });
      made.push(b);
      return b;
    };
    const storage = (label: string, floats: number) => buffer(label, floats * F32, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    const L = layout.policyLayers.length;
    const hiddenLayers = [...layout.policyLayers.slice(0, L - 1), ...layout.valueLayers.slice(0, L - 1)];
    const maxHidden = Math.max(1, ...layout.hidden);
    const stagingFloats = Math.max(B * (A + 2), 2 * P, STATS_SLOTS + A + P);
    try {
      this.bufs = {
        params: storage('params', P),
        grad: storage('grad', P),
        adamM: storage('adam m', P),
        adamV: storage('adam v', P),
        stats: storage('stats', STATS_SLOTS),
        normPartials: storage('grad norm partials', GRAD_NORM_PARTIALS),
        slicePartials: storage('slice partials', rowSlices(B)[0] > 1 ? rowSlices(B)[0] * maxLayerBlock(layout) : 1),
        obs: storage('obs', B * layout.obsDim),
        hidden: hiddenLayers.map((l) => storage(`${l.net} hidden ${l.index}`, B * l.outDim)),
        mean: storage('mean', B * A),
        value: storage('value', B),
        action: storage('action', B * A),
        logProb: storage('logProb', B),
        actions: storage('minibatch actions', B * A),
        rows: storage('minibatch rows', B * 4),
        dMean: storage('dMean', B * A),
        dValue: storage('dValue', B),
        deltaA: storage('delta A', B * maxHidden),
        deltaB: storage('delta B', B * maxHidden),
        terms: storage('loss terms', (4 + A) * B),
        actUniform: buffer('act args', this.actArgs.arrayBuffer.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        trainUniform: buffer('train args', this.trainArgs.arrayBuffer.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        staging: buffer('readback', stagingFloats * F32, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      };
      this.d = this.wire(hiddenLayers.length / 2);
    } catch (err) {
      for (const b of made) b.destroy();
      throw err;
    }
  }

  /** Makes the bind group of every dispatch; numHidden = hidden layers per net. */
  private wire(numHidden: number): Dispatches {
    const dev = this.device;
    const b = this.bufs;
    const p = this.p;
    const layout = this.paramLayout;
    const W = TRAIN_WORKGROUP_SIZE;
    const bind = (label: string, pipeline: GPUComputePipeline, buffers: GPUBuffer[], groups: (n: number) => number): Dispatch => ({
      pipeline,
      bindGroup: dev.createBindGroup({
        label,
        layout: pipeline.getBindGroupLayout(0),
        entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
      }),
      groups,
    });
    const tiles = (n: number, width: number) => Math.ceil(n / TILE) * Math.ceil(width / TILE);
    const rowGroups = (n: number) => Math.ceil(n / W);
    const L = layout.policyLayers.length;
    const nets = [
      { layers: layout.policyLayers, hidden: b.hidden.slice(0, numHidden), out: b.mean, dOut: b.dMean, pipelineBase: 0 },
      { layers: layout.valueLayers, hidden: b.hidden.slice(numHidden), out: b.value, dOut: b.dValue, pipelineBase: L },
    ];
    const forward = nets.map(({ layers, hidden, out, pipelineBase }) =>
      layers.map((l, i) => {
        const x = i === 0 ? b.obs : hidden[i - 1];
        const y = i + 1 < layers.length ? hidden[i] : out;
        return bind(`forward ${l.net} ${l.index}`, p.forward[pipelineBase + i], [b.actUniform, b.params, x, y], (n) => Math.ceil(tiles(n, l.outDim) / W));
      }),
    );
    const backward = nets.map(({ layers, hidden, dOut, pipelineBase }) => {
      const list: Dispatch[] = [];
      // dY of the output layer is dOut; hidden layers alternate between deltaA and deltaB.
      let dy = dOut;
      for (let i = layers.length - 1; i >= 0; i--) {
        const l = layers[i];
        const x = i === 0 ? b.obs : hidden[i - 1];
        const weightTiles = Math.ceil(l.outDim / TILE) * Math.ceil(l.inDim / TILE);
        const block = l.outDim * l.inDim + l.outDim;
        list.push(bind(`backward weights ${l.net} ${l.index}`, p.backwardWeights[pipelineBase + i], [b.trainUniform, dy, x, b.grad, b.slicePartials], (n) => Math.ceil((weightTiles * rowSlices(n)[0]) / W)));
        list.push(bind(`slice sum ${l.net} ${l.index}`, p.sliceSum[pipelineBase + i], [b.trainUniform, b.slicePartials, b.grad], (n) => (rowSlices(n)[0] > 1 ? Math.ceil(block / W) : 0)));
        if (i > 0) {
          const dx = dy === b.deltaA ? b.deltaB : b.deltaA;
          list.push(bind(`backward input ${l.net} ${l.index}`, p.backwardInput[pipelineBase + i]!, [b.trainUniform, b.params, dy, x, dx], (n) => Math.ceil(tiles(n, l.inDim) / W)));
          dy = dx;
        }
      }
      return list;
    });
    return {
      policyForward: forward[0],
      valueForward: forward[1],
      head: bind('gaussian head', p.head, [b.actUniform, b.params, b.mean, b.action, b.logProb], rowGroups),
      lossGrad: bind('ppo loss grad', p.lossGrad, [b.trainUniform, b.params, b.mean, b.value, b.actions, b.rows, b.dMean, b.dValue, b.terms], rowGroups),
      lossReduce: bind('ppo loss reduce', p.lossReduce, [b.trainUniform, b.terms, b.grad, b.stats], () => 1),
      policyBackward: backward[0],
      valueBackward: backward[1],
      normPartial: bind('grad norm partial', p.normPartial, [b.trainUniform, b.grad, b.normPartials], () => Math.ceil(GRAD_NORM_PARTIALS / W)),
      normFinal: bind('grad norm final', p.normFinal, [b.trainUniform, b.normPartials, b.stats], () => 1),
      adam: bind('adam', p.adam, [b.trainUniform, b.params, b.grad, b.adamM, b.adamV, b.stats], () => Math.ceil(this.numParams / W)),
    };
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

  /**
   * Runs fn after every earlier call has finished, or at once (its GPU work submitted before this returns)
   * when none is pending, so GPU work and uploads happen in call order.
   */
  private enqueue<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => {
      try {
        this.checkAlive(what);
      } catch (err) {
        return Promise.reject(err);
      }
      return fn();
    };
    const run = this.pending === 0 ? guarded() : this.tail.then(guarded);
    this.pending++;
    this.tail = run.then(
      () => {
        this.pending--;
      },
      () => {
        this.pending--;
      },
    );
    return run;
  }

  /** Runs a synchronous upload now when nothing is pending, else after the pending calls (data already copied by the caller). */
  private ordered(what: string, fn: () => void): void {
    if (this.pending === 0) {
      fn();
      return;
    }
    this.enqueue(what, async () => fn()).catch(() => undefined);
  }

  /**
   * Encodes work with encode() and submits it before the first await, then resolves to a copy of the first
   * `floats` floats of the staging buffer it filled (rejects with a GpuError on a GPU error or device loss).
   */
  private async submitAndRead(what: string, floats: number, encode: (enc: GPUCommandEncoder) => void): Promise<Float32Array> {
    const close = openErrorScopes(this.device, what);
    const staging = this.bufs.staging;
    let mapped: Promise<void>;
    try {
      const enc = this.device.createCommandEncoder({ label: `webgpu backend ${what}` });
      encode(enc);
      this.device.queue.submit([enc.finish()]);
      mapped = this.mapRead(staging, what, floats * F32);
      // Handled here too, so a map that fails while the scopes are popping is not an unhandled rejection.
      mapped.catch(() => undefined);
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }
    // Pop the scopes first: a validation error explains a failed map better than the map's own error.
    await close().catch(async (err) => {
      await mapped.catch(() => undefined);
      if (staging.mapState === 'mapped') staging.unmap();
      throw err;
    });
    await mapped;
    const out = new Float32Array(staging.getMappedRange(0, floats * F32).slice(0));
    staging.unmap();
    return out;
  }

  /** Maps the first `bytes` of a MAP_READ buffer, turning a rejection into a GpuError that says whether the device was lost. */
  private async mapRead(buf: GPUBuffer, what: string, bytes: number): Promise<void> {
    try {
      await buf.mapAsync(GPUMapMode.READ, 0, Math.max(4, bytes));
    } catch (err) {
      // Device loss resolves `lost` around the same time; give it a turn before blaming the map.
      await new Promise((r) => setTimeout(r, 0));
      this.loss.check(what);
      if (this.destroyed) throw new Error(`webgpu backend: ${what}: destroyed while the GPU work was in flight`);
      throw new GpuError(`${what}: reading results back failed: ${(err as Error).message}`, 'internal');
    }
  }

  /** Records the dispatches in order into a compute pass for n rows; those needing 0 workgroups are left out. */
  private run(pass: GPUComputePassEncoder, list: Dispatch[], n: number): void {
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension;
    for (const d of list) {
      const groups = d.groups(n);
      if (groups === 0) continue;
      const [x, y] = grid(groups, maxDim);
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(x, y);
    }
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
    return this.enqueue('getParams', () =>
      this.submitAndRead('getParams', this.numParams, (enc) => enc.copyBufferToBuffer(this.bufs.params, 0, this.bufs.staging, 0, this.numParams * F32)),
    );
  }

  setParams(p: Float32Array): void {
    this.checkAlive('setParams');
    checkFloat32('setParams: params', p, this.numParams);
    const data = uploadable(p, this.pending > 0);
    this.ordered('setParams', () => this.device.queue.writeBuffer(this.bufs.params, 0, data));
  }

  act(obs: Float32Array, n: number, opts: BackendActOptions, out: BackendActOutputs): Promise<void> {
    try {
      this.checkAlive('act');
      checkActArgs(obs, n, opts, out, this);
    } catch (err) {
      return Promise.reject(err);
    }
    // Copied when the upload waits for other calls or for earlier chunks.
    const x = uploadable(obs, this.pending > 0 || n > this.maxBatch);
    const { step } = opts;
    const seed = opts.seed ?? this.seed;
    const envOffset = opts.envOffset ?? 0;
    const det = opts.deterministic === true;
    return this.enqueue('act', async () => {
      const { obsDim, actDim: A } = this;
      const b = this.bufs;
      for (let lo = 0; lo < n; lo += this.maxBatch) {
        const c = Math.min(this.maxBatch, n - lo);
        const data = await this.submitAndRead('act', c * (A + 2), (enc) => {
          this.writeActArgs(c, step, seed, (envOffset + lo) >>> 0, det);
          this.device.queue.writeBuffer(b.obs, 0, x, lo * obsDim, c * obsDim);
          const pass = enc.beginComputePass({ label: 'webgpu backend act' });
          this.run(pass, [...this.d.policyForward, ...this.d.valueForward, this.d.head], c);
          pass.end();
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
    const x = uploadable(obs, this.pending > 0 || n > this.maxBatch);
    return this.enqueue('value', async () => {
      const b = this.bufs;
      for (let lo = 0; lo < n; lo += this.maxBatch) {
        const c = Math.min(this.maxBatch, n - lo);
        const data = await this.submitAndRead('value', c, (enc) => {
          this.writeActArgs(c, 0, this.seed, 0, true);
          this.device.queue.writeBuffer(b.obs, 0, x, lo * this.obsDim, c * this.obsDim);
          const pass = enc.beginComputePass({ label: 'webgpu backend value' });
          this.run(pass, this.d.valueForward, c);
          pass.end();
          enc.copyBufferToBuffer(b.value, 0, b.staging, 0, c * F32);
        });
        out.set(data, lo);
      }
    });
  }

  /** Validates a minibatch and packs its first n rows for upload: obs, actions (copied when not uploaded at once) and rows [n, 4] with normalized advantages. */
  private prepare(mb: Minibatch, hp: PpoHyperparams): { n: number; obs: Float32Array<ArrayBuffer>; actions: Float32Array<ArrayBuffer>; rows: Float32Array<ArrayBuffer> } {
    validateHyperparams(hp);
    validateMinibatch(mb, this.obsDim, this.actDim, this.maxBatch);
    const n = mb.n;
    // Advantage normalization in float64, as the reference: (A − mean) / (std + 1e-8), std unbiased (0 when n = 1).
    const { mean, std } = hp.normAdv ? advantageMoments(mb.advantages, n) : { mean: 0, std: 0 };
    const scale = hp.normAdv ? 1 / (std + ADV_NORM_EPS) : 1;
    const rows = new Float32Array(4 * n);
    for (let b = 0; b < n; b++) {
      rows[4 * b] = mb.oldLogProb[b];
      rows[4 * b + 1] = hp.normAdv ? (mb.advantages[b] - mean) * scale : mb.advantages[b];
      rows[4 * b + 2] = mb.returns[b];
      rows[4 * b + 3] = mb.oldValues[b];
    }
    // The arrays may hold more than n rows (a trainer's fixed minibatch buffers); only the first n are uploaded.
    const copy = this.pending > 0;
    return { n, obs: uploadable(mb.obs.subarray(0, n * this.obsDim), copy), actions: uploadable(mb.actions.subarray(0, n * this.actDim), copy), rows };
  }

  /** Uploads a prepared minibatch and records forward, loss and backward for it (the gradient lands in grad). */
  private encodeGradient(enc: GPUCommandEncoder, mb: ReturnType<WebGpuBackend['prepare']>, hp: PpoHyperparams, t: number): void {
    const b = this.bufs;
    const q = this.device.queue;
    this.writeActArgs(mb.n, 0, this.seed, 0, true);
    this.writeTrainArgs(mb.n, hp, t, hp.lr);
    q.writeBuffer(b.obs, 0, mb.obs);
    q.writeBuffer(b.actions, 0, mb.actions);
    q.writeBuffer(b.rows, 0, mb.rows);
    const pass = enc.beginComputePass({ label: 'webgpu backend gradient' });
    const d = this.d;
    this.run(pass, [...d.policyForward, ...d.valueForward, d.lossGrad, d.lossReduce, ...d.policyBackward, ...d.valueBackward], mb.n);
    pass.end();
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
    let prepared: ReturnType<WebGpuBackend['prepare']>;
    try {
      this.checkAlive('ppoStep');
      prepared = this.prepare(mb, hp);
    } catch (err) {
      return Promise.reject(err);
    }
    const hpCopy = { ...hp };
    return this.enqueue('ppoStep', async () => {
      const b = this.bufs;
      const A = this.actDim;
      const t = this.adamT + 1;
      const data = await this.submitAndRead('ppoStep', STATS_SLOTS + A, (enc) => {
        this.encodeGradient(enc, prepared, hpCopy, t);
        const pass = enc.beginComputePass({ label: 'webgpu backend norm' });
        this.run(pass, [this.d.normPartial, this.d.normFinal], prepared.n);
        pass.end();
        // Stats and the logStd the loss saw, before Adam moves it.
        enc.copyBufferToBuffer(b.stats, 0, b.staging, 0, STATS_SLOTS * F32);
        enc.copyBufferToBuffer(b.params, this.paramLayout.logStdOffset * F32, b.staging, STATS_SLOTS * F32, A * F32);
        const adam = enc.beginComputePass({ label: 'webgpu backend adam' });
        this.run(adam, [this.d.adam], prepared.n);
        adam.end();
      });
      const stats = this.lossStats(data, prepared.n, hpCopy);
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
    let prepared: ReturnType<WebGpuBackend['prepare']>;
    try {
      this.checkAlive('lossGradient');
      prepared = this.prepare(mb, hp);
    } catch (err) {
      return Promise.reject(err);
    }
    const hpCopy = { ...hp };
    return this.enqueue('lossGradient', async () => {
      const b = this.bufs;
      const A = this.actDim;
      const P = this.numParams;
      const data = await this.submitAndRead('lossGradient', STATS_SLOTS + A + P, (enc) => {
        this.encodeGradient(enc, prepared, hpCopy, this.adamT + 1);
        enc.copyBufferToBuffer(b.stats, 0, b.staging, 0, STATS_SLOTS * F32);
        enc.copyBufferToBuffer(b.params, this.paramLayout.logStdOffset * F32, b.staging, STATS_SLOTS * F32, A * F32);
        enc.copyBufferToBuffer(b.grad, 0, b.staging, (STATS_SLOTS + A) * F32, P * F32);
      });
      return { grad: data.slice(STATS_SLOTS + A), stats: this.lossStats(data, prepared.n, hpCopy) };
    });
  }

  /** Building block: global L2 norm of the gradient buffer, summed in f32 in a fixed order on the GPU. */
  gradNorm(): Promise<number> {
    return this.enqueue('gradNorm', async () => {
      const data = await this.submitAndRead('gradNorm', STATS_SLOTS, (enc) => {
        this.writeTrainArgs(1, null, this.adamT + 1, 0);
        const pass = enc.beginComputePass({ label: 'webgpu backend grad norm' });
        this.run(pass, [this.d.normPartial, this.d.normFinal], 1);
        pass.end();
        enc.copyBufferToBuffer(this.bufs.stats, 0, this.bufs.staging, 0, STATS_SLOTS * F32);
      });
      return Math.sqrt(data[STAT_NORM_SQ]);
    });
  }

  /** Building block: one Adam step (t ← t + 1) with gradient gradScale · grad and learning rate lr. */
  adamStep(gradScale: number, lr: number): Promise<void> {
    if (!Number.isFinite(gradScale) || !Number.isFinite(lr) || lr < 0) return Promise.reject(new Error(`adamStep: gradScale ${gradScale} and lr ${lr} must be finite, lr ≥ 0`));
    return this.enqueue('adamStep', async () => {
      const t = this.adamT + 1;
      await this.submitAndRead('adamStep', 1, (enc) => {
        this.writeTrainArgs(1, null, t, lr);
        const slots = new Float32Array(STATS_SLOTS - STAT_GRAD_SCALE);
        slots[0] = gradScale;
        slots[STAT_OK - STAT_GRAD_SCALE] = 1;
        this.device.queue.writeBuffer(this.bufs.stats, STAT_GRAD_SCALE * F32, slots);
        const pass = enc.beginComputePass({ label: 'webgpu backend adam' });
        this.run(pass, [this.d.adam], 1);
        pass.end();
        enc.copyBufferToBuffer(this.bufs.stats, 0, this.bufs.staging, 0, F32);
      });
      this.adamT = t;
    });
  }

  getOptimizerState(): Promise<OptimizerState> {
    return this.enqueue('getOptimizerState', async () => {
      const P = this.numParams;
      const data = await this.submitAndRead('getOptimizerState', 2 * P, (enc) => {
        enc.copyBufferToBuffer(this.bufs.adamM, 0, this.bufs.staging, 0, P * F32);
        enc.copyBufferToBuffer(this.bufs.adamV, 0, this.bufs.staging, P * F32, P * F32);
      });
      return { m: data.slice(0, P), v: data.slice(P), t: this.adamT };
    });
  }

  setOptimizerState(s: OptimizerState): void {
    this.checkAlive('setOptimizerState');
    validateOptimizerState(s, this.numParams);
    const copy = this.pending > 0;
    const m = uploadable(s.m, copy);
    const v = uploadable(s.v, copy);
    const t = s.t;
    this.ordered('setOptimizerState', () => {
      this.device.queue.writeBuffer(this.bufs.adamM, 0, m);
      this.device.queue.writeBuffer(this.bufs.adamV, 0, v);
      this.adamT = t;
    });
  }

  /** Destroys every GPU buffer (and the device when the backend made it); the backend MUST NOT be used after. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const { hidden, ...rest } = this.bufs;
    for (const buf of [...hidden, ...Object.values(rest)]) buf.destroy();
    if (this.ownsDevice) this.device.destroy();
  }
}
