/**
 * Checkpoint policies in the view: loading a `cairn train` checkpoint (checkpoint.json + the weights-<hash>.bin it names) from a
 * URL or from picked files through decodeCheckpoint, checking it against the task registry, choosing where
 * its network runs (WebGPU forward pass on a real GPU, the WASM CPU backend otherwise) and turning it into an
 * action source that acts exactly as engine/train/evaluate.ts does: obs ⊕ desired goal, normalized with the
 * checkpoint's normalizer, mean action (deterministic), unclipped (the env clips).
 */
import type { VecEnv } from '../env.ts';
import { paramLayout } from '../policy/param-layout.ts';
import { createPolicy } from '../policy/webgpu-policy.ts';
import type { ActionSource } from '../rollout.ts';
import { decodeCheckpoint, MANIFEST_FILE, type CheckpointArrays, type CheckpointManifest } from '../train/checkpoint.ts';
import { RunningNormalizer } from '../train/normalizer.ts';
import { writePolicyInput } from '../train/ppo.ts';
import { WasmBackend } from '../train/wasm-backend.ts';
import { getTask, listTasks } from '../../tasks/registry.ts';
import type { BackendChoice } from './params.ts';

/** A decoded, verified checkpoint and where it came from. */
export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  arrays: CheckpointArrays;
  /** The manifest's URL, or the picked files' names, for messages and the panel. */
  origin: string;
}

/** The manifest URL a `policy=` value names: a .json path as is, anything else as a directory holding checkpoint.json. */
export function checkpointManifestUrl(value: string, base: string): URL {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw new Error(`checkpoint: '${value}' is not a URL`);
  }
  if (!/\.json$/i.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/${MANIFEST_FILE}`;
  return url;
}

/** Fetches url and returns the response, or throws an error that names the URL and what went wrong. */
async function fetchChecked(url: URL, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`checkpoint: cannot fetch the ${what} ${url.href} (${(e as Error).message})`);
  }
  if (!res.ok) throw new Error(`checkpoint: the ${what} ${url.href} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${res.status === 404 ? ' (no such file)' : ''}`);
  // Servers with a single-page fallback answer unknown paths with the page itself.
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) throw new Error(`checkpoint: the ${what} ${url.href} answered with an HTML page, not a checkpoint file (no such file?)`);
  return res;
}

/** Loads the checkpoint a `policy=` URL names: the manifest, then the weights file next to it. */
export async function fetchCheckpoint(value: string, base: string): Promise<LoadedCheckpoint> {
  const manifestUrl = checkpointManifestUrl(value, base);
  const text = await (await fetchChecked(manifestUrl, 'manifest')).text();
  const { manifest, arrays } = await decodeCheckpoint(text, async (file) => new Uint8Array(await (await fetchChecked(new URL(file, manifestUrl), 'weights file')).arrayBuffer()), manifestUrl.href);
  return { manifest, arrays, origin: manifestUrl.href };
}

/** What readCheckpointFiles needs of a picked file (a DOM File). */
export interface PickedFile {
  readonly name: string;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Loads a checkpoint from picked files: one .json manifest (checkpoint.json preferred) and the weights file
 * it names, or the only .bin picked when no file has that name (a browser may have renamed a download).
 */
export async function readCheckpointFiles(files: readonly PickedFile[]): Promise<LoadedCheckpoint> {
  const names = files.map((f) => f.name);
  const jsons = files.filter((f) => /\.json$/i.test(f.name));
  const manifest = jsons.find((f) => f.name === MANIFEST_FILE) ?? (jsons.length === 1 ? jsons[0] : undefined);
  if (!manifest) {
    throw new Error(jsons.length
      ? `checkpoint: ${jsons.length} .json files picked (${jsons.map((f) => f.name).join(', ')}); pick one ${MANIFEST_FILE} and its weights file (weights-….bin)`
      : `checkpoint: no ${MANIFEST_FILE} among the picked files (${names.join(', ') || 'none'}); pick ${MANIFEST_FILE} and its weights file (weights-….bin) together`);
  }
  const bins = files.filter((f) => /\.bin$/i.test(f.name));
  const { manifest: m, arrays } = await decodeCheckpoint(await manifest.text(), async (file) => {
    const f = files.find((x) => x.name === file) ?? (bins.length === 1 ? bins[0] : undefined);
    if (!f) throw new Error(`checkpoint: ${file} was not picked (picked: ${names.join(', ')}); pick it together with ${manifest.name}`);
    return new Uint8Array(await f.arrayBuffer());
  }, manifest.name);
  return { manifest: m, arrays, origin: names.join(' + ') };
}

/** Throws unless the checkpoint's task is registered and its network's sizes fit that task and its parameters. */
export function checkCheckpointFits(m: CheckpointManifest): void {
  let task: ReturnType<typeof getTask>;
  try {
    task = getTask(m.task);
  } catch {
    throw new Error(`checkpoint: trained on task '${m.task}', which this view does not have (known: ${listTasks().join(', ')})`);
  }
  const inputs = task.obsDim + task.goalDim;
  if (m.obsDim !== inputs || m.actDim !== task.actDim) {
    throw new Error(`checkpoint: wrong task: its network maps ${m.obsDim} inputs to ${m.actDim} actions, but ${task.name} gives ${task.obsDim} obs + ${task.goalDim} goal = ${inputs} inputs and takes ${task.actDim} actions`);
  }
  const size = paramLayout(m.obsDim, m.actDim, m.hidden).size;
  if (size !== m.numParams) throw new Error(`checkpoint: a ${m.obsDim}-${m.hidden.join('-')}-${m.actDim} network has ${size} parameters, the manifest says ${m.numParams}`);
}

/** What the browser's WebGPU offers. */
export interface GpuProbe {
  /** navigator.gpu exists and gave an adapter. */
  available: boolean;
  /** The adapter is a real GPU: not a fallback adapter, not SwiftShader, llvmpipe or lavapipe. */
  real: boolean;
  /** vendor / architecture of the adapter, or why there is none. */
  adapter: string;
}

/** Asks navigator.gpu for an adapter and says whether it is a real GPU. */
export async function probeBrowserGpu(): Promise<GpuProbe> {
  type Info = { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(o?: object): Promise<{ info?: Info; isFallbackAdapter?: boolean } | null> } }).gpu;
  if (!gpu) return { available: false, real: false, adapter: 'no navigator.gpu' };
  let adapter: { info?: Info; isFallbackAdapter?: boolean } | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { available: false, real: false, adapter: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) return { available: false, real: false, adapter: 'requestAdapter() gave no adapter' };
  const i = adapter.info ?? {};
  const what = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') || 'unknown adapter';
  const fallback = Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|software/i.test(what);
  return { available: true, real: !fallback, adapter: what };
}

/** Where a checkpoint's network runs and why. */
export interface BackendDecision {
  kind: 'webgpu' | 'wasm';
  /** Why, as a clause for the page's note, e.g. `no WebGPU in this browser (no navigator.gpu)`. */
  why: string;
  /** Whether the note is a warning (the CPU for lack of a GPU, a software adapter, or a forced choice that could not be had). */
  warn: boolean;
}

/** Picks the network's backend: `auto` takes WebGPU only on a real GPU; `webgpu` takes any adapter; `wasm` the CPU. */
export function chooseBackend(want: BackendChoice, gpu: GpuProbe): BackendDecision {
  if (want === 'wasm') return { kind: 'wasm', why: 'as backend=wasm asks', warn: false };
  if (want === 'webgpu') {
    if (gpu.available) return { kind: 'webgpu', why: `as backend=webgpu asks${gpu.real ? '' : ` (${gpu.adapter} is a software adapter, slower than the CPU backend)`}`, warn: !gpu.real };
    return { kind: 'wasm', why: `backend=webgpu asks for WebGPU, but this browser has none (${gpu.adapter})`, warn: true };
  }
  if (gpu.real) return { kind: 'webgpu', why: `a real GPU adapter (${gpu.adapter})`, warn: false };
  if (gpu.available) return { kind: 'wasm', why: `no real GPU: WebGPU here is a software adapter (${gpu.adapter}), slower than the CPU backend`, warn: true };
  return { kind: 'wasm', why: `no WebGPU in this browser (${gpu.adapter})`, warn: true };
}

/** Caller-owned outputs of one forward pass of n rows. */
export interface ForwardOutputs {
  /** [n, actDim] mean action. */
  action: Float32Array;
  /** [n] log-probability of the mean action. */
  logProb: Float32Array;
  /** [n] value estimate. */
  value: Float32Array;
}

/** A checkpoint's network on one backend, forward only. */
export interface ForwardNet {
  readonly kind: 'webgpu' | 'wasm';
  /** What the panel shows, e.g. `CPU (WASM)` or `WebGPU (nvidia / hopper)`. */
  readonly label: string;
  readonly inputDim: number;
  readonly actDim: number;
  /** Runs normalized inputs [n, inputDim] through the nets with the mean action into out (each exactly n rows). */
  act(input: Float32Array, n: number, out: ForwardOutputs): void | Promise<void>;
  /** Frees the backend; MUST be called when the net is dropped, and it MUST NOT be used after. */
  destroy(): void;
}

/** Row capacity of the WASM backend's buffers (act() works in chunks of this many rows). */
const WASM_MAX_BATCH = 1024;

/** Creates the network of a checkpoint on the given backend, with its parameters loaded. */
export async function createForwardNet(kind: 'webgpu' | 'wasm', m: CheckpointManifest, params: Float32Array): Promise<ForwardNet> {
  const inputDim = m.obsDim, actDim = m.actDim;
  if (kind === 'wasm') {
    const b = await WasmBackend.create({ obsDim: inputDim, actDim, hidden: m.hidden, seed: m.seed, maxBatch: WASM_MAX_BATCH, params });
    return {
      kind, label: 'CPU (WASM)', inputDim, actDim,
      act: (input, n, out) => b.act(input, n, { deterministic: true, step: 0 }, out),
      destroy: () => b.destroy(),
    };
  }
  const p = await createPolicy({ obsDim: inputDim, actDim, hidden: m.hidden, seed: m.seed });
  try {
    p.setParams(params);
  } catch (e) {
    p.destroy();
    throw e;
  }
  const info = p.adapterInfo;
  return {
    kind, label: `WebGPU (${[info.vendor, info.architecture].filter(Boolean).join(' / ') || 'GPU'})`, inputDim, actDim,
    async act(input, n, out) {
      await p.act(input.length === n * inputDim ? input : input.subarray(0, n * inputDim), { deterministic: true, step: 0, out });
    },
    destroy: () => p.destroy(),
  };
}

/** A checkpoint ready to act: its manifest, normalizer and network. */
export interface LoadedPolicy {
  readonly checkpoint: LoadedCheckpoint;
  readonly normalizer: RunningNormalizer;
  readonly net: ForwardNet;
  /** Why the network runs where it does. */
  readonly backend: BackendDecision;
}

/** Checks a decoded checkpoint, restores its normalizer and creates its network (WebGPU falls back to the CPU on failure). */
export async function preparePolicy(ck: LoadedCheckpoint, decision: BackendDecision): Promise<LoadedPolicy> {
  const m = ck.manifest;
  checkCheckpointFits(m);
  const normalizer = new RunningNormalizer(m.obsDim);
  try {
    normalizer.load(m.normalizer);
  } catch (e) {
    throw new Error(`checkpoint: bad normalizer state in the manifest (${(e as Error).message})`);
  }
  let backend = decision;
  let net: ForwardNet;
  try {
    net = await createForwardNet(decision.kind, m, ck.arrays.params);
  } catch (e) {
    if (decision.kind !== 'webgpu') throw e;
    backend = { kind: 'wasm', why: `WebGPU failed: ${(e as Error).message.split('\n')[0]}`, warn: true };
    net = await createForwardNet('wasm', m, ck.arrays.params);
  }
  return { checkpoint: ck, normalizer, net, backend };
}

/**
 * The action source of a loaded policy on env, as evaluatePolicy acts (engine/rollout.ts policySource with
 * deterministic: true): [N, obsDim + goalDim] inputs, normalized, mean action copied into the actions.
 */
export function policyActionSource(p: LoadedPolicy, env: VecEnv): ActionSource {
  const N = env.numEnvs, D = env.obsDim + env.goalDim;
  if (p.net.inputDim !== D || p.net.actDim !== env.actDim) throw new Error(`policy: the network maps ${p.net.inputDim} → ${p.net.actDim}, ${env.task.name} needs ${D} → ${env.actDim}`);
  const raw = new Float32Array(N * D), input = new Float32Array(N * D);
  const out: ForwardOutputs = { action: new Float32Array(N * env.actDim), logProb: new Float32Array(N), value: new Float32Array(N) };
  return {
    name: 'policy',
    async act(r, e, _step, actions) {
      writePolicyInput(r.obs, r.desiredGoal, N, e.obsDim, e.goalDim, raw);
      p.normalizer.normalize(raw, N, input);
      await p.net.act(input, N, out);
      actions.set(out.action);
    },
  };
}
