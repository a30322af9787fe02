/**
 * Checkpoint policies in the view: loading a `cairn train` checkpoint (checkpoint.json + the weights-<hash>.bin it names) from a
 * URL or from picked files through decodeCheckpoint, checking it against the task registry, choosing where
 * its network runs (WebGPU forward pass on a real GPU, the WASM CPU backend otherwise) and turning it into an
 * action source that acts exactly as engine/train/evaluate.ts does: obs ⊕ desired goal, normalized with the
 * checkpoint's normalizer, mean action (deterministic), unclipped (the env clips).
 */

import type { VecEnv } from '../env.ts';
import { gpuProbeOf, noGpu, type AdapterFields, type BackendDecision, type GpuProbe } from '../nn/backend-kind.ts';
import type { PolicyBackend } from '../nn/backend.ts';
import { paramLayout } from '../nn/param-layout.ts';
import { createBackend } from '../nn/select-backend.ts';
import type { WebGpuBackend } from '../nn/webgpu-backend.ts';
import { policySource, type ActionSource } from '../rollout.ts';
import { checkpointSubgoals, decodeCheckpoint, MANIFEST_FILE, type CheckpointArrays, type CheckpointManifest } from '../train/checkpoint.ts';
import { RunningNormalizer } from '../nn/normalizer.ts';
import { getTask, listTasks } from '../../tasks/registry.ts';

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
  // With stageInObs the input ends with the one-hot of the checkpoint's own subgoal stages (K + 1).
  const spec = checkpointSubgoals(m);
  const stages = m.stageInObs ? (Array.isArray(spec?.stages) ? spec.stages.length : task.subgoals.stages.length) + 1 : 0;
  const inputs = task.obsDim + task.goalDim + stages;
  if (m.obsDim !== inputs || m.actDim !== task.actDim) {
    throw new Error(`checkpoint: wrong task: its network maps ${m.obsDim} inputs to ${m.actDim} actions, but ${task.name} gives ${task.obsDim} obs + ${task.goalDim} goal${stages ? ` + ${stages} stage one-hot` : ''} = ${inputs} inputs and takes ${task.actDim} actions`);
  }
  const size = paramLayout(m.obsDim, m.actDim, m.hidden).size;
  if (size !== m.numParams) throw new Error(`checkpoint: a ${m.obsDim}-${m.hidden.join('-')}-${m.actDim} network has ${size} parameters, the manifest says ${m.numParams}`);
}

/** Asks navigator.gpu for an adapter and says whether it is a real GPU. */
export async function probeBrowserGpu(): Promise<GpuProbe> {
  type Adapter = { info?: AdapterFields; isFallbackAdapter?: boolean };
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(o?: object): Promise<Adapter | null> } }).gpu;
  if (!gpu) return noGpu('no navigator.gpu');
  let adapter: Adapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return noGpu(`requestAdapter failed: ${(e as Error).message}`);
  }
  if (!adapter) return noGpu('requestAdapter() gave no adapter');
  // GPUAdapterInfo's fields are prototype getters: spreading it copies nothing, so they are read by name.
  const i = adapter.info ?? {};
  return gpuProbeOf({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) });
}

/** Rows of one forward pass of the view's network (more rows go in chunks). */
const VIEW_MAX_BATCH = 1024;

/** A panel label for where a backend runs, e.g. `CPU (WASM)` or `WebGPU (nvidia / hopper)`. */
export function backendLabel(b: PolicyBackend): string {
  if (b.kind === 'wasm') return 'CPU (WASM)';
  const info = (b as WebGpuBackend).adapterInfo;
  return `WebGPU (${[info?.vendor, info?.architecture].filter(Boolean).join(' / ') || 'GPU'})`;
}

/** A checkpoint ready to act: its manifest, normalizer and network. */
export interface LoadedPolicy {
  readonly checkpoint: LoadedCheckpoint;
  readonly normalizer: RunningNormalizer;
  /** The checkpoint's network with its parameters, forward only. */
  readonly net: PolicyBackend;
  /** Where the network runs, for the panel (backendLabel). */
  readonly label: string;
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
  const create = (kind: 'webgpu' | 'wasm') => createBackend(kind, { obsDim: m.obsDim, actDim: m.actDim, hidden: m.hidden, seed: m.seed, maxBatch: VIEW_MAX_BATCH, params: ck.arrays.params });
  let net: PolicyBackend;
  try {
    net = (await create(decision.kind)).backend;
  } catch (e) {
    if (decision.kind !== 'webgpu') throw e;
    backend = { kind: 'wasm', why: `WebGPU failed: ${(e as Error).message.split('\n')[0]}`, warn: true };
    net = (await create('wasm')).backend;
  }
  return { checkpoint: ck, normalizer, net, label: backendLabel(net), backend };
}

/** The action source of a loaded policy on env: rollout.ts policySource with the mean action, as evaluatePolicy acts. */
export function policyActionSource(p: LoadedPolicy, env: VecEnv): ActionSource {
  return policySource(p.net, p.normalizer, env, { deterministic: true, stageInObs: p.checkpoint.manifest.stageInObs === true });
}
