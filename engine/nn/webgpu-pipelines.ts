/**
 * The WebGPU backend's compute pipelines: every kernel compiled with its libraries and override constants for
 * one layout and row capacity, cached per device and shape.
 */
import { compileKernels, type KernelSource } from '../gpu/compile.ts';
import type { LayerSpec, ParamLayout } from './param-layout.ts';

/** Invocations per workgroup of every training kernel (a power of two, for the reduction trees). */
export const TRAIN_WORKGROUP_SIZE = 64;
/** Most row slices of mlp-layer-backward-weights.wgsl (summed in order by grad-slice-sum.wgsl). */
export const MAX_ROW_SLICES = 16;
/** Fewest rows per slice: minibatches up to this many rows take one slice and no second pass. */
export const MIN_ROWS_PER_SLICE = 64;
/** Partial sums of squares of the first gradient-norm pass (one per invocation), summed by the second. */
export const GRAD_NORM_PARTIALS = 4096;

/** Libraries of the policy kernels (ActArgs uniform) and of the training kernels (TrainArgs uniform). */
const ACT_LIBS = ['act-args.wgsl', 'grid-index.wgsl', 'tile.wgsl'];
const TRAIN_LIBS = ['train-args.wgsl', 'grid-index.wgsl'];

/** Every kernel with its libraries, in the order compilePipelines destructures them. */
const KERNELS: readonly KernelSource[] = [
  ['mlp-layer.wgsl', ACT_LIBS],
  ['gaussian-head.wgsl', [...ACT_LIBS, 'philox.wgsl']],
  ['ppo-loss-grad.wgsl', TRAIN_LIBS],
  ['ppo-loss-reduce.wgsl', ['train-args.wgsl', 'workgroup-sum.wgsl']],
  ['mlp-layer-backward-weights.wgsl', [...TRAIN_LIBS, 'tile.wgsl']],
  ['grad-slice-sum.wgsl', TRAIN_LIBS],
  ['mlp-layer-backward-input.wgsl', [...TRAIN_LIBS, 'tile.wgsl']],
  ['grad-norm-partial.wgsl', TRAIN_LIBS],
  ['grad-norm-final.wgsl', ['train-args.wgsl', 'workgroup-sum.wgsl']],
  ['adam.wgsl', TRAIN_LIBS],
];

/** Compiled pipelines, one per kernel and layer. */
export interface Pipelines {
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

/** Row slices of the weight-gradient kernel for n rows: [slices, rows per slice], fixed by n alone. */
export function rowSlices(n: number): [number, number] {
  const slices = Math.max(1, Math.min(MAX_ROW_SLICES, Math.ceil(n / MIN_ROWS_PER_SLICE)));
  return [slices, Math.ceil(n / slices)];
}

/** Floats of the largest layer's [weight | bias] block, the stride of the slice partials. */
export function maxLayerBlock(layout: ParamLayout): number {
  return Math.max(...[...layout.policyLayers, ...layout.valueLayers].map((l) => l.outDim * l.inDim + l.outDim));
}

/** Compiled pipelines per device and shape (they hold no state, so backends of one shape share them). */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<Pipelines>>>();

/** The pipelines for this device, layout and row capacity: compiled on first use, then shared. */
export function pipelinesFor(device: GPUDevice, layout: ParamLayout, maxBatch: number): Promise<Pipelines> {
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

/** Compiles every kernel for this layout and row capacity, with its override constants. */
async function compilePipelines(device: GPUDevice, layout: ParamLayout, maxBatch: number): Promise<Pipelines> {
  const { codes, modules } = await compileKernels(device, 'WebGpuBackend.create: compiling the kernels', KERNELS);
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
