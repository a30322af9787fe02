/**
 * The WebGPU backend's dispatches: each pipeline bound to its buffers once at creation, grouped into the
 * sequences the calls record, and recorded into compute passes for n rows.
 */
import type { ParamLayout } from './param-layout.ts';
import type { BackendBuffers } from './webgpu-buffers.ts';
import { GRAD_NORM_PARTIALS, rowSlices, TRAIN_WORKGROUP_SIZE, type Pipelines } from './webgpu-pipelines.ts';

/** Tile edge of the dense-layer kernels (4 rows × 4 outputs or inputs per invocation; shaders/tile.wgsl). */
const TILE = 4;

/** One dispatch: a pipeline, its bind group and its workgroup count for n rows. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  /** Workgroups needed for n rows. */
  groups: (n: number) => number;
}

/** The dispatch sequences of the calls, each recorded into one compute pass. */
export interface Dispatches {
  /** Forward of both nets, then the Gaussian head: act(). */
  act: Dispatch[];
  /** Forward of the value net: value(). */
  value: Dispatch[];
  /**
   * Forward of both nets, the loss gradient and its reduction, then per net (policy, value) from the output
   * layer to the input layer: weights of l, their slice sum, then input of l (l > 0). Leaves the gradient in grad.
   */
  gradient: Dispatch[];
  /** Both gradient-norm passes: squared norm, clipping scale and finite flag into stats. */
  norm: Dispatch[];
  /** Adam in place on params and moments. */
  adam: Dispatch[];
}

/** Workgroup grid [x, y] of `groups` (≥ 1) workgroups with x within the device limit. */
export function workgroupGrid(groups: number, maxPerDim: number): [number, number] {
  const x = Math.min(groups, maxPerDim);
  const y = Math.ceil(groups / x);
  if (y > maxPerDim) throw new Error(`webgpu backend: ${groups} workgroups exceed the ${maxPerDim}² grid`);
  return [x, y];
}

/** Records the dispatches in order into one compute pass for n rows; those needing 0 workgroups are left out. */
export function encodePass(enc: GPUCommandEncoder, label: string, list: readonly Dispatch[], n: number, maxPerDim: number): void {
  const pass = enc.beginComputePass({ label: `webgpu backend ${label}` });
  for (const d of list) {
    const groups = d.groups(n);
    if (groups === 0) continue;
    const [x, y] = workgroupGrid(groups, maxPerDim);
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
  pass.end();
}

/** Makes the bind group of every dispatch, wired to the backend's buffers, and groups them into the call sequences. */
export function wireDispatches(device: GPUDevice, p: Pipelines, b: BackendBuffers, layout: ParamLayout): Dispatches {
  const W = TRAIN_WORKGROUP_SIZE;
  const bind = (label: string, pipeline: GPUComputePipeline, buffers: GPUBuffer[], groups: (n: number) => number): Dispatch => ({
    pipeline,
    bindGroup: device.createBindGroup({
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
    { layers: layout.policyLayers, hidden: b.hidden.slice(0, L - 1), out: b.mean, dOut: b.dMean, pipelineBase: 0 },
    { layers: layout.valueLayers, hidden: b.hidden.slice(L - 1), out: b.value, dOut: b.dValue, pipelineBase: L },
  ];
  const [policyForward, valueForward] = nets.map(({ layers, hidden, out, pipelineBase }) =>
    layers.map((l, i) => {
      const x = i === 0 ? b.obs : hidden[i - 1];
      const y = i + 1 < layers.length ? hidden[i] : out;
      return bind(`forward ${l.net} ${l.index}`, p.forward[pipelineBase + i], [b.actUniform, b.params, x, y], (n) => Math.ceil(tiles(n, l.outDim) / W));
    }),
  );
  const backward = nets.flatMap(({ layers, hidden, dOut, pipelineBase }) => {
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
  const head = bind('gaussian head', p.head, [b.actUniform, b.params, b.mean, b.action, b.logProb], rowGroups);
  const lossGrad = bind('ppo loss grad', p.lossGrad, [b.trainUniform, b.params, b.mean, b.value, b.actions, b.rows, b.dMean, b.dValue, b.terms], rowGroups);
  const lossReduce = bind('ppo loss reduce', p.lossReduce, [b.trainUniform, b.terms, b.grad, b.stats], () => 1);
  return {
    act: [...policyForward, ...valueForward, head],
    value: valueForward,
    gradient: [...policyForward, ...valueForward, lossGrad, lossReduce, ...backward],
    norm: [
      bind('grad norm partial', p.normPartial, [b.trainUniform, b.grad, b.normPartials], () => Math.ceil(GRAD_NORM_PARTIALS / W)),
      bind('grad norm final', p.normFinal, [b.trainUniform, b.normPartials, b.stats], () => 1),
    ],
    adam: [bind('adam', p.adam, [b.trainUniform, b.params, b.grad, b.adamM, b.adamV, b.stats], () => Math.ceil(layout.size / W))],
  };
}
