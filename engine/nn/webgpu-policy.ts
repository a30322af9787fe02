/**
 * The Gaussian MLP policy and value net on WebGPU: parameters in one GPU buffer, one dense-layer
 * dispatch per layer (shaders/mlp-layer.wgsl) and one sampling dispatch (shaders/gaussian-head.wgsl),
 * all in one compute pass and one submit per act(), with one readback of [action | logProb | value].
 *
 * GPU buffers of a batch size are made on its first act() and reused after (the last
 * MAX_CACHED_BATCHES sizes are kept), so a loop with a fixed N creates nothing per step.
 */
import { resolveActCall } from './act-call.ts';
import { adapterInfoOf, getDevice, type AdapterInfo } from '../gpu/device.ts';
import { GpuError, LossWatch, openErrorScopes, withErrorScopes } from '../gpu/errors.ts';
import { shaderLineOrigin, shaderSource } from '../gpu/shader-source.ts';
import { uniformView } from '../gpu/struct-view.ts';
import { initParams } from './init.ts';
import { chooseBackend, gpuProbeOf, type BackendKind } from './backend-kind.ts';
import { checkPolicyParams, paramLayout, type LayerSpec, type ParamLayout } from './param-layout.ts';
import type { WasmPolicy } from './wasm-policy.ts';

/** Batch sizes whose GPU buffers are kept between act() calls; older ones are destroyed. */
export const MAX_CACHED_BATCHES = 4;
/** Invocations per workgroup of every policy kernel. */
export const WORKGROUP_SIZE = 64;
/** Default hidden sizes, cleanrl's continuous-action PPO. */
export const DEFAULT_HIDDEN = [64, 64] as const;

/** Options of createPolicy. */
export interface PolicyOptions {
  /** Observation width. */
  obsDim: number;
  /** Action width. */
  actDim: number;
  /** Hidden layer widths of both nets; default [64, 64]. */
  hidden?: readonly number[];
  /** Seed (uint32) of the initialization and of the action noise; default 0. */
  seed?: number;
  /** Device to run on; default a new one from getDevice(), owned and destroyed by the policy. */
  device?: GPUDevice;
  /**
   * Where the network runs: 'webgpu' (default), 'wasm' (the CPU kernels of wasm-policy.ts), or 'auto': WebGPU on a
   * real GPU adapter (the given device's, else a probe), the CPU where the adapter is a fallback such as SwiftShader
   * or none exists.
   */
  backend?: BackendKind;
}

/** Options of one act() call. */
export interface ActOptions {
  /** Return the mean action and its log-probability instead of a sample; default false. */
  deterministic?: boolean;
  /** Step index t of the noise counter (env, t, j >> 2, 0); default policy.step, which then advances by 1. */
  step?: number;
  /** Global env index of row 0 (row r samples as env envOffset + r), for envs split over workers; default 0. */
  envOffset?: number;
  /** Caller-owned arrays to write into instead of allocating ([N, actDim], [N], [N]). */
  out?: Partial<ActResult>;
}

/** Outputs of act() for N rows. */
export interface ActResult {
  /** [N, actDim] action (the mean when deterministic), unclipped. */
  action: Float32Array;
  /** [N] log-probability of the action, nats. */
  logProb: Float32Array;
  /** [N] value estimate. */
  value: Float32Array;
}

/** A batched Gaussian MLP policy with a value head, on WebGPU (WebGpuPolicy) or the CPU (WasmPolicy). */
export interface Policy {
  readonly obsDim: number;
  readonly actDim: number;
  readonly hidden: readonly number[];
  /** Where each tensor sits in the flat parameter array. */
  readonly paramLayout: ParamLayout;
  /** Number of float32 parameters, paramLayout.size. */
  readonly numParams: number;
  readonly backend: 'webgpu' | 'wasm';
  /** The WebGPU adapter; absent on the CPU. */
  readonly adapterInfo?: AdapterInfo;
  /** Philox key, uint32. */
  readonly seed: number;
  /** Step index the next act() without `step` samples at; advances after each such sampling call. */
  step: number;
  /** Reads the parameters back (from the GPU), [numParams] in paramLayout order. */
  getParams(): Promise<Float32Array>;
  /** Uploads parameters [numParams] in paramLayout order; throws on a wrong length or a non-finite value. */
  setParams(p: Float32Array): void;
  /** Runs obs [N, obsDim] through the nets: action, its log-probability and the value per row. */
  act(obs: Float32Array, opts?: ActOptions): Promise<ActResult>;
  /** Frees what the policy holds (every GPU buffer, and the device when the policy made it); it is unusable after. */
  destroy(): void;
}

/** GPU buffers and bind groups for one batch size N. */
export interface BatchResources {
  n: number;
  /** [N, obsDim] observations. */
  obs: GPUBuffer;
  /** Hidden activations, [N, hidden[l]] per layer: policy layers first, then value layers. */
  hidden: GPUBuffer[];
  /** [N, actDim] mean action. */
  mean: GPUBuffer;
  /** [N, actDim] action. */
  action: GPUBuffer;
  /** [N] log-probability. */
  logProb: GPUBuffer;
  /** [N] value. */
  value: GPUBuffer;
  /** [N * actDim + 2N] mappable copy of action, logProb and value, in that order. */
  staging: GPUBuffer;
  /** One bind group and workgroup grid per dispatch, in dispatch order (policy, value, head). */
  dispatches: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; grid: [number, number] }[];
  /** Non-shared copy of obs, for callers whose obs lives in a SharedArrayBuffer. */
  obsScratch: Float32Array<ArrayBuffer> | null;
}

const F32 = 4;

/** Workgroup grid [x, y] covering `count` invocations with x within the device limit. */
export function gridFor(count: number, maxPerDim: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / WORKGROUP_SIZE));
  const x = Math.min(groups, maxPerDim);
  const y = Math.ceil(groups / x);
  if (y > maxPerDim) throw new Error(`batch too large: ${count} invocations exceed the ${maxPerDim}² workgroup grid`);
  return [x, y];
}

/** Throws unless every element is finite, naming the first bad one as [row, col] of a [*, width] array. */
function checkFinite(what: string, a: Float32Array, width: number): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) throw new Error(`${what} has a non-finite value ${v} at [${Math.floor(i / width)}, ${i % width}] (flat index ${i})`);
  }
}

/** The WebGPU policy; build it with createPolicy. */
export class WebGpuPolicy implements Policy {
  readonly obsDim: number;
  readonly actDim: number;
  readonly hidden: readonly number[];
  readonly paramLayout: ParamLayout;
  readonly numParams: number;
  readonly backend = 'webgpu' as const;
  readonly adapterInfo: AdapterInfo;
  readonly seed: number;
  step = 0;
  readonly device: GPUDevice;
  private readonly ownsDevice: boolean;
  private readonly params: GPUBuffer;
  private readonly uniform: GPUBuffer;
  private readonly args: ReturnType<typeof uniformView>;
  private readonly layerPipelines: GPUComputePipeline[];
  private readonly headPipeline: GPUComputePipeline;
  private readonly batches = new Map<number, BatchResources>();
  private readonly loss: LossWatch;
  private tail: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  /** Use createPolicy; this wires already-compiled pipelines to freshly made buffers. */
  constructor(init: {
    device: GPUDevice;
    ownsDevice: boolean;
    layout: ParamLayout;
    seed: number;
    args: ReturnType<typeof uniformView>;
    layerPipelines: GPUComputePipeline[];
    headPipeline: GPUComputePipeline;
  }) {
    this.device = init.device;
    this.ownsDevice = init.ownsDevice;
    this.paramLayout = init.layout;
    this.obsDim = init.layout.obsDim;
    this.actDim = init.layout.actDim;
    this.hidden = init.layout.hidden;
    this.numParams = init.layout.size;
    this.seed = init.seed;
    this.adapterInfo = adapterInfoOf(init.device);
    this.args = init.args;
    this.layerPipelines = init.layerPipelines;
    this.headPipeline = init.headPipeline;
    this.loss = new LossWatch(init.device);
    this.params = init.device.createBuffer({
      label: 'policy params',
      size: Math.max(16, init.layout.size * F32),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    this.uniform = init.device.createBuffer({
      label: 'policy act args',
      size: this.args.arrayBuffer.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /** Throws when the policy was destroyed or its device lost. */
  private checkAlive(what: string): void {
    if (this.destroyed) throw new Error(`${what}: the policy was destroyed`);
    this.loss.check(what);
  }

  async getParams(): Promise<Float32Array> {
    this.checkAlive('getParams');
    const size = this.params.size;
    const staging = await withErrorScopes(this.device, 'getParams', () => {
      const buf = this.device.createBuffer({ label: 'policy params readback', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = this.device.createCommandEncoder({ label: 'policy getParams' });
      enc.copyBufferToBuffer(this.params, 0, buf, 0, size);
      this.device.queue.submit([enc.finish()]);
      return buf;
    });
    try {
      await this.mapRead(staging, 'getParams');
      return new Float32Array(staging.getMappedRange().slice(0, this.numParams * F32));
    } finally {
      staging.destroy();
    }
  }

  setParams(p: Float32Array): void {
    this.checkAlive('setParams');
    checkPolicyParams(p, this.paramLayout);
    this.device.queue.writeBuffer(this.params, 0, unshared(p, null));
  }

  act(obs: Float32Array, opts: ActOptions = {}): Promise<ActResult> {
    try {
      this.checkAlive('act');
      this.checkObs(obs);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.tail.then(() => this.actNow(obs, opts));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Throws unless obs is a Float32Array of whole finite rows. */
  private checkObs(obs: Float32Array): void {
    if (!(obs instanceof Float32Array)) throw new Error('act: obs must be a Float32Array [N, obsDim]');
    if (obs.length === 0 || obs.length % this.obsDim !== 0) {
      throw new Error(`act: obs has ${obs.length} values, not a whole number of rows of obsDim = ${this.obsDim}`);
    }
    checkFinite('act: obs', obs, this.obsDim);
  }

  /** One act(): upload, dispatch every layer and the head, copy out, read back. */
  private async actNow(obs: Float32Array, opts: ActOptions): Promise<ActResult> {
    this.checkAlive('act');
    const { n, result, deterministic, step, envOffset } = resolveActCall(obs.length, this.obsDim, this.actDim, this.step, opts);
    const A = this.actDim;
    const close = openErrorScopes(this.device, 'act');
    let b: BatchResources;
    let mapped: Promise<void>;
    try {
      b = this.batchFor(n);
      this.args.set({ n, step, seed: this.seed, env_offset: envOffset, deterministic: deterministic ? 1 : 0 });
      this.device.queue.writeBuffer(this.uniform, 0, this.args.arrayBuffer);
      this.device.queue.writeBuffer(b.obs, 0, unshared(obs, b));
      const enc = this.device.createCommandEncoder({ label: 'policy act' });
      const pass = enc.beginComputePass({ label: 'policy forward' });
      for (const d of b.dispatches) {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
      }
      pass.end();
      enc.copyBufferToBuffer(b.action, 0, b.staging, 0, n * A * F32);
      enc.copyBufferToBuffer(b.logProb, 0, b.staging, n * A * F32, n * F32);
      enc.copyBufferToBuffer(b.value, 0, b.staging, (n * A + n) * F32, n * F32);
      this.device.queue.submit([enc.finish()]);
      mapped = this.mapRead(b.staging, 'act');
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }
    // Pop the scopes first: a validation error explains a failed map better than the map's own error.
    await close().catch(async (err) => {
      await mapped.catch(() => undefined);
      if (b.staging.mapState === 'mapped') b.staging.unmap();
      throw err;
    });
    await mapped;
    const data = new Float32Array(b.staging.getMappedRange(0, (n * A + 2 * n) * F32));
    result.action.set(data.subarray(0, n * A));
    result.logProb.set(data.subarray(n * A, n * A + n));
    result.value.set(data.subarray(n * A + n, n * A + 2 * n));
    b.staging.unmap();
    if (!deterministic && opts.step === undefined) this.step = (step + 1) >>> 0;
    return result;
  }

  /** Maps a MAP_READ buffer, turning a rejection into a GpuError that says whether the device was lost. */
  private async mapRead(buf: GPUBuffer, what: string): Promise<void> {
    try {
      await buf.mapAsync(GPUMapMode.READ);
    } catch (err) {
      // Device loss resolves `lost` around the same time; give it a turn before blaming the map.
      await new Promise((r) => setTimeout(r, 0));
      this.loss.check(what);
      if (this.destroyed) throw new Error(`${what}: the policy was destroyed while the GPU work was in flight`);
      throw new GpuError(`${what}: reading results back failed: ${(err as Error).message}`, 'internal');
    }
  }

  /** GPU buffers and bind groups for batch size n, made on first use and kept for the next calls. */
  batchFor(n: number): BatchResources {
    const cached = this.batches.get(n);
    if (cached) {
      // Most recently used last, so the first key is the one to evict.
      this.batches.delete(n);
      this.batches.set(n, cached);
      return cached;
    }
    const dev = this.device;
    const layout = this.paramLayout;
    const maxWidth = Math.max(layout.obsDim, layout.actDim, ...layout.hidden);
    const maxBytes = Math.min(dev.limits.maxStorageBufferBindingSize, dev.limits.maxBufferSize);
    if (n * maxWidth * F32 > maxBytes || n * maxWidth >= 2 ** 32) {
      throw new Error(`act: batch of ${n} rows needs a ${n * maxWidth * F32}-byte buffer, over this device's ${maxBytes}-byte storage limit`);
    }
    const storage = (label: string, floats: number) =>
      dev.createBuffer({ label, size: Math.max(16, floats * F32), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const L = layout.policyLayers.length;
    const res: BatchResources = {
      n,
      obs: storage(`policy obs [${n}]`, n * layout.obsDim),
      hidden: [...layout.policyLayers.slice(0, L - 1), ...layout.valueLayers.slice(0, L - 1)].map((l) => storage(`${l.net} hidden ${l.index} [${n}]`, n * l.outDim)),
      mean: storage(`policy mean [${n}]`, n * layout.actDim),
      action: storage(`policy action [${n}]`, n * layout.actDim),
      logProb: storage(`policy logProb [${n}]`, n),
      value: storage(`policy value [${n}]`, n),
      staging: dev.createBuffer({ label: `policy readback [${n}]`, size: (n * layout.actDim + 2 * n) * F32, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      dispatches: [],
      obsScratch: null,
    };
    const maxDim = dev.limits.maxComputeWorkgroupsPerDimension;
    const net = (layers: LayerSpec[], hidden: GPUBuffer[], output: GPUBuffer, pipelines: GPUComputePipeline[]) => {
      let input = res.obs;
      layers.forEach((l, i) => {
        const y = i + 1 < layers.length ? hidden[i] : output;
        const pipeline = pipelines[i];
        res.dispatches.push({
          pipeline,
          bindGroup: dev.createBindGroup({
            label: `${l.net} layer ${l.index} [${n}]`,
            layout: pipeline.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: this.uniform } },
              { binding: 1, resource: { buffer: this.params } },
              { binding: 2, resource: { buffer: input } },
              { binding: 3, resource: { buffer: y } },
            ],
          }),
          grid: gridFor(n * l.outDim, maxDim),
        });
        input = y;
      });
    };
    net(layout.policyLayers, res.hidden.slice(0, L - 1), res.mean, this.layerPipelines.slice(0, L));
    net(layout.valueLayers, res.hidden.slice(L - 1), res.value, this.layerPipelines.slice(L));
    res.dispatches.push({
      pipeline: this.headPipeline,
      bindGroup: dev.createBindGroup({
        label: `policy head [${n}]`,
        layout: this.headPipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.uniform } },
          { binding: 1, resource: { buffer: this.params } },
          { binding: 2, resource: { buffer: res.mean } },
          { binding: 3, resource: { buffer: res.action } },
          { binding: 4, resource: { buffer: res.logProb } },
        ],
      }),
      grid: gridFor(n, maxDim),
    });
    this.batches.set(n, res);
    if (this.batches.size > MAX_CACHED_BATCHES) {
      const [oldest] = this.batches.keys();
      destroyBatch(this.batches.get(oldest)!);
      this.batches.delete(oldest);
    }
    return res;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.batches.values()) destroyBatch(b);
    this.batches.clear();
    this.params.destroy();
    this.uniform.destroy();
    if (this.ownsDevice) this.device.destroy();
  }
}

/** Destroys every buffer of one batch size. */
function destroyBatch(b: BatchResources): void {
  for (const buf of [b.obs, ...b.hidden, b.mean, b.action, b.logProb, b.value, b.staging]) buf.destroy();
}

/** The array itself, or a non-shared copy when it views a SharedArrayBuffer (Dawn's writeBuffer crashes on those). */
function unshared(a: Float32Array, b: BatchResources | null): Float32Array<ArrayBuffer> {
  if (typeof SharedArrayBuffer === 'undefined' || !(a.buffer instanceof SharedArrayBuffer)) return a as Float32Array<ArrayBuffer>;
  if (!b) return a.slice();
  if (!b.obsScratch || b.obsScratch.length !== a.length) b.obsScratch = new Float32Array(a.length);
  b.obsScratch.set(a);
  return b.obsScratch;
}

/** Throws a GpuError listing the compiler's errors, at their source file and line, when a kernel did not compile. */
async function checkCompiled(module: GPUShaderModule, kernel: string, libs: readonly string[]): Promise<void> {
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    const lines = await Promise.all(errors.map(async (m) => `  ${await shaderLineOrigin(kernel, libs, m.lineNum)}:${m.linePos}: ${m.message}`));
    throw new GpuError(`${kernel} did not compile:\n${lines.join('\n')}`, 'validation');
  }
}

/** Compiles one pipeline per layer (policy layers, then value layers) and the head, with their override constants. */
async function compilePipelines(device: GPUDevice, layout: ParamLayout) {
  const layerLibs = ['act-args.wgsl'];
  const headLibs = ['act-args.wgsl', 'philox.wgsl'];
  const layerCode = await shaderSource('mlp-layer.wgsl', layerLibs);
  const headCode = await shaderSource('gaussian-head.wgsl', headLibs);
  const close = openErrorScopes(device, 'createPolicy: compiling the kernels');
  const layerModule = device.createShaderModule({ label: 'mlp-layer.wgsl', code: layerCode });
  const headModule = device.createShaderModule({ label: 'gaussian-head.wgsl', code: headCode });
  const scopes = close();
  // The compiler's messages say more than the scope's "invalid shader module", so they win.
  await Promise.all([
    checkCompiled(layerModule, 'mlp-layer.wgsl', layerLibs),
    checkCompiled(headModule, 'gaussian-head.wgsl', headLibs),
  ]).catch(async (err) => {
    await scopes.catch(() => undefined);
    throw err;
  });
  await scopes;
  const layers = [...layout.policyLayers, ...layout.valueLayers];
  const [layerPipelines, headPipeline] = await Promise.all([
    Promise.all(
      layers.map((l) =>
        device.createComputePipelineAsync({
          label: `${l.net} layer ${l.index} (${l.inDim}→${l.outDim}${l.tanh ? ', tanh' : ''})`,
          layout: 'auto',
          compute: {
            module: layerModule,
            entryPoint: 'main',
            constants: { IN_DIM: l.inDim, OUT_DIM: l.outDim, W_OFFSET: l.weightOffset, B_OFFSET: l.biasOffset, TANH: l.tanh ? 1 : 0, WORKGROUP_SIZE },
          },
        }),
      ),
    ),
    device.createComputePipelineAsync({
      label: 'gaussian head',
      layout: 'auto',
      compute: { module: headModule, entryPoint: 'main', constants: { ACT_DIM: layout.actDim, LOG_STD_OFFSET: layout.logStdOffset, WORKGROUP_SIZE } },
    }),
  ]);
  return { layerPipelines, headPipeline, args: uniformView(layerCode, 'args') };
}

/**
 * Makes a policy with cleanrl's initialization from `seed` (init.ts) on opts.backend (default WebGPU, see
 * PolicyOptions.backend); the WebGPU one is compiled for these sizes and throws a GpuError if shader compilation or
 * buffer creation fails on the device. Same seed → same actions on either backend, up to float rounding.
 */
export async function createPolicy(opts: PolicyOptions & { backend?: 'webgpu' }): Promise<WebGpuPolicy>;
export async function createPolicy(opts: PolicyOptions & { backend: 'wasm' }): Promise<WasmPolicy>;
export async function createPolicy(opts: PolicyOptions): Promise<WebGpuPolicy | WasmPolicy>;
export async function createPolicy(opts: PolicyOptions): Promise<WebGpuPolicy | WasmPolicy> {
  const kind = opts.backend ?? 'webgpu';
  if (kind !== 'webgpu' && kind !== 'wasm' && kind !== 'auto') throw new Error(`backend must be one of webgpu, wasm, auto, got '${kind}'`);
  if (kind === 'webgpu') return createWebGpuPolicy(opts, opts.device, !opts.device);
  if (kind === 'auto') {
    let device = opts.device;
    if (!device) device = await getDevice().catch(() => undefined);
    if (device && chooseBackend('auto', gpuProbeOf(adapterInfoOf(device))).kind === 'webgpu') return createWebGpuPolicy(opts, device, !opts.device);
    if (device && !opts.device) device.destroy();
  }
  const { WasmPolicy } = await import('./wasm-policy.ts');
  return WasmPolicy.create({ obsDim: opts.obsDim, actDim: opts.actDim, hidden: opts.hidden, seed: opts.seed });
}

/** The WebGPU policy on device (a new one from getDevice() when undefined), destroying the device with the policy when it owns it. */
async function createWebGpuPolicy(opts: PolicyOptions, dev: GPUDevice | undefined, owns: boolean): Promise<WebGpuPolicy> {
  const hidden = [...(opts.hidden ?? DEFAULT_HIDDEN)];
  const layout = paramLayout(opts.obsDim, opts.actDim, hidden);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be a uint32, got ${seed}`);
  const device = dev ?? (await getDevice());
  const ownsDevice = owns;
  let policy: WebGpuPolicy | undefined;
  try {
    const compiled = await compilePipelines(device, layout);
    await withErrorScopes(device, 'createPolicy: making the parameter buffer', () => {
      policy = new WebGpuPolicy({ device, ownsDevice, layout, seed, ...compiled });
      policy.setParams(initParams(layout, seed));
    });
    return policy!;
  } catch (err) {
    if (policy) policy.destroy();
    else if (ownsDevice) device.destroy();
    throw err;
  }
}
