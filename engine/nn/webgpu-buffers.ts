/**
 * The WebGPU backend's GPU buffers: state, minibatch, activations, gradients, uniforms and readback, all made
 * once for maxBatch rows.
 */
import type { ParamLayout } from './param-layout.ts';
import { GRAD_NORM_PARTIALS, maxLayerBlock, rowSlices } from './webgpu-pipelines.ts';

/** f32 slots of the stats buffer; see STAT_* in shaders/train-args.wgsl. */
export const STATS_SLOTS = 8;
/** Indices into the stats buffer (shaders/train-args.wgsl). */
export const STAT_PG_SUM = 0, STAT_V_SUM = 1, STAT_KL_SUM = 2, STAT_CLIP_COUNT = 3, STAT_NORM_SQ = 4, STAT_GRAD_SCALE = 5, STAT_OK = 6;
/** Bytes per f32. */
export const F32 = 4;

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
  /** What one act() chunk writes, and the readback staging. */
  forward: WebGpuForwardBuffers;
}

/** The buffers one act() chunk writes, [maxBatch, width] each, and the readback staging; lent as WebGpuBackendBuffers.forward. */
export interface WebGpuForwardBuffers {
  /** Hidden tanh outputs [maxBatch, hidden[l]]: policy layers, then value layers. */
  hidden: GPUBuffer[];
  /** [maxBatch, actDim] policy mean, action and [maxBatch] its log-probability and the value. */
  mean: GPUBuffer;
  action: GPUBuffer;
  logProb: GPUBuffer;
  value: GPUBuffer;
  /** Mappable readback of everything the calls return. */
  staging: GPUBuffer;
}

/** Every buffer of one backend, f32 throughout; row-indexed ones hold maxBatch rows. */
export interface BackendBuffers extends Omit<WebGpuBackendBuffers, 'forward'>, WebGpuForwardBuffers {
  /** [GRAD_NORM_PARTIALS] partial sums of squares of the first gradient-norm pass. */
  normPartials: GPUBuffer;
  /** [slices, largest layer block] per-slice weight gradients. */
  slicePartials: GPUBuffer;
  /** [maxBatch, obsDim] observations of an act/value chunk or a minibatch. */
  obs: GPUBuffer;
  /** [maxBatch, actDim] minibatch actions. */
  actions: GPUBuffer;
  /** [maxBatch] (oldLogProb, normalized advantage, return, oldValue). */
  rows: GPUBuffer;
  /** [maxBatch, actDim] dLoss/dmean and [maxBatch] dLoss/dvalue. */
  dMean: GPUBuffer;
  dValue: GPUBuffer;
  /** Ping-pong dLoss/d(pre-activation) of hidden layers [maxBatch, max(hidden)]. */
  deltaA: GPUBuffer;
  deltaB: GPUBuffer;
  /** [4 + actDim, maxBatch] per-row loss terms, column-major. */
  terms: GPUBuffer;
  /** ActArgs (shaders/act-args.wgsl) and TrainArgs (shaders/train-args.wgsl) uniforms. */
  actUniform: GPUBuffer;
  trainUniform: GPUBuffer;
}

/** Throws unless the largest buffer for maxBatch rows fits this device's storage binding and buffer limits. */
export function checkBufferLimits(device: GPUDevice, layout: ParamLayout, maxBatch: number): void {
  const maxWidth = Math.max(layout.obsDim, layout.actDim + 4, ...layout.hidden);
  const maxBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const biggest = Math.max(maxBatch * maxWidth, (4 + layout.actDim) * maxBatch, layout.size) * F32;
  if (biggest > maxBytes) throw new Error(`webgpu backend: maxBatch ${maxBatch} needs a ${biggest}-byte buffer, over this device's ${maxBytes}-byte storage limit`);
}

/** Makes every buffer for maxBatch rows, with uniforms of the given byte sizes; destroys what it made if any creation throws. */
export function makeBuffers(device: GPUDevice, layout: ParamLayout, maxBatch: number, uniformBytes: { act: number; train: number }): BackendBuffers {
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
  const [slices] = rowSlices(B);
  try {
    return {
      params: storage('params', P),
      grad: storage('grad', P),
      adamM: storage('adam m', P),
      adamV: storage('adam v', P),
      stats: storage('stats', STATS_SLOTS),
      normPartials: storage('grad norm partials', GRAD_NORM_PARTIALS),
      slicePartials: storage('slice partials', slices > 1 ? slices * maxLayerBlock(layout) : 1),
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
      actUniform: buffer('act args', uniformBytes.act, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      trainUniform: buffer('train args', uniformBytes.train, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      staging: buffer('readback', stagingFloats * F32, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
    };
  } catch (err) {
    for (const b of made) b.destroy();
    throw err;
  }
}

/** Destroys every buffer of a backend. */
export function destroyBuffers(bufs: BackendBuffers): void {
  const { hidden, ...rest } = bufs;
  for (const buf of [...hidden, ...Object.values(rest)]) buf.destroy();
}
