/**
 * Checkpoint format (browser-safe: no Node imports; engine/train/checkpoint-fs.ts reads and writes files).
 * Checkpoints: a JSON manifest (format version, task, shaping, layer sizes, normalizer state, counters,
 * seed, optimizer step) plus raw little-endian float32 arrays (params, Adam moments) in one .bin file,
 * whose byte length and SHA-256 the manifest records.
 */
import type { NormalizerState } from '../nn/normalizer.ts';
import { paramLayout } from '../nn/param-layout.ts';

export const CHECKPOINT_FORMAT = 'cairn-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Named float32 arrays stored in the .bin file, in order. */
export interface CheckpointArrays {
  params: Float32Array;
  adamM?: Float32Array;
  adamV?: Float32Array;
}

/** The manifest, as written to `<dir>/checkpoint.json`. */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  task: string;
  obsDim: number;
  actDim: number;
  hidden: number[];
  numParams: number;
  seed: number;
  envSteps: number;
  iteration: number;
  adamStep: number;
  normalizer: NormalizerState;
  /** The policy input ends with the latched stage's one-hot [K + 1] (engine/nn/policy-input.ts); absent = false. */
  stageInObs?: boolean;
  /** Trainer settings (shaping config and spec, PPO hyperparameters, numEnvs...), free-form JSON. */
  config: Record<string, unknown>;
  weights: { file: string; bytes: number; sha256: string; arrays: { name: keyof CheckpointArrays; offset: number; length: number }[] };
}

/** The subgoal spec a checkpoint's run trained with (config.subgoals, as trainRun records it), or undefined where none is recorded. */
export function checkpointSubgoals(m: CheckpointManifest): { stages?: { name?: unknown }[] } | undefined {
  return (m.config as { subgoals?: { stages?: { name?: unknown }[] } } | undefined)?.subgoals;
}

/** Hex SHA-256 of bytes (WebCrypto, in Node and browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Serializes a checkpoint: the manifest object and the weights file's bytes. */
export async function encodeCheckpoint(meta: Omit<CheckpointManifest, 'format' | 'version' | 'createdAt' | 'weights' | 'numParams'>, arrays: CheckpointArrays): Promise<{ manifest: CheckpointManifest; bytes: Uint8Array }> {
  const list: { name: keyof CheckpointArrays; offset: number; length: number }[] = [];
  let total = 0;
  for (const name of ['params', 'adamM', 'adamV'] as const) {
    const a = arrays[name];
    if (!a) continue;
    list.push({ name, offset: total, length: a.length });
    total += a.length;
  }
  const bytes = new Uint8Array(total * 4);
  const dv = new DataView(bytes.buffer);
  for (const e of list) {
    const a = arrays[e.name]!;
    for (let i = 0; i < a.length; i++) dv.setFloat32((e.offset + i) * 4, a[i], true);
  }
  const sha256 = await sha256Hex(bytes);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, createdAt: new Date().toISOString(), ...meta, numParams: arrays.params.length,
    weights: { file: weightsFileName(sha256), bytes: bytes.length, sha256, arrays: list },
  };
  return { manifest, bytes };
}

/**
 * The weights file's name inside a checkpoint directory: named by its content (weights-<16 hex of SHA-256>.bin),
 * so a new checkpoint never replaces the file the previous manifest names (checkpoints before this wrote weights.bin).
 */
export function weightsFileName(sha256: string): string {
  return `weights-${sha256.slice(0, 16)}.bin`;
}

/** Names a weights file of some checkpoint can have (content-named or the older weights.bin). */
export const WEIGHTS_FILE_PATTERN = /^weights(-[0-9a-f]{16})?\.bin$/;
/** The manifest's name inside a checkpoint directory. */
export const MANIFEST_FILE = 'checkpoint.json';

/** Parses and verifies a manifest text and its weights bytes; `where` names them in errors. */
export async function decodeCheckpoint(text: string, loadBytes: (file: string) => Promise<Uint8Array>, where: string): Promise<{ manifest: CheckpointManifest; arrays: CheckpointArrays }> {
  let m: CheckpointManifest;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new Error(`checkpoint: ${where} is not valid JSON (${(e as Error).message})`);
  }
  if (m?.format !== CHECKPOINT_FORMAT) throw new Error(`checkpoint: ${where} is not a cairn checkpoint (format ${JSON.stringify(m?.format)})`);
  if (m.version !== CHECKPOINT_VERSION) throw new Error(`checkpoint: format version ${m.version} is not supported (this cairn reads ${CHECKPOINT_VERSION})`);
  for (const k of ['obsDim', 'actDim', 'numParams', 'seed', 'envSteps', 'iteration', 'adamStep'] as const) {
    if (!Number.isInteger(m[k]) || m[k] < 0) throw new Error(`checkpoint: manifest field ${k} must be a non-negative integer, got ${JSON.stringify(m[k])}`);
  }
  if (!Array.isArray(m.hidden) || !m.hidden.every((h) => Number.isInteger(h) && h > 0)) throw new Error('checkpoint: manifest field hidden must be a list of positive integers');
  if (typeof m.task !== 'string') throw new Error('checkpoint: manifest field task must be a string');
  if (m.stageInObs !== undefined && typeof m.stageInObs !== 'boolean') throw new Error(`checkpoint: manifest field stageInObs must be a boolean, got ${JSON.stringify(m.stageInObs)}`);
  let size: number;
  try {
    size = paramLayout(m.obsDim, m.actDim, m.hidden).size;
  } catch (e) {
    throw new Error(`checkpoint: manifest fields obsDim, actDim and hidden: ${(e as Error).message}`);
  }
  if (size !== m.numParams) throw new Error(`checkpoint: a ${m.obsDim}-${m.hidden.join('-')}-${m.actDim} network has ${size} parameters, the manifest field numParams says ${m.numParams}`);
  checkNormalizerState(m.normalizer, m.obsDim);
  const w = m.weights;
  if (!w || typeof w.file !== 'string' || !/^[\w.-]+$/.test(w.file)) throw new Error('checkpoint: manifest field weights.file is missing or not a plain file name');
  if (!Number.isInteger(w.bytes) || w.bytes < 0) throw new Error(`checkpoint: manifest field weights.bytes must be a non-negative integer, got ${JSON.stringify(w.bytes)}`);
  if (typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256)) throw new Error('checkpoint: manifest field weights.sha256 must be 64 hex digits');
  if (!Array.isArray(w.arrays)) throw new Error('checkpoint: manifest field weights.arrays must be a list');
  for (const e of w.arrays) {
    if (!e || !['params', 'adamM', 'adamV'].includes(e.name) || !Number.isInteger(e.offset) || e.offset < 0 || !Number.isInteger(e.length) || e.length < 0 || (e.offset + e.length) * 4 > w.bytes) {
      throw new Error(`checkpoint: manifest entry weights.arrays ${JSON.stringify(e)} does not fit the ${w.bytes}-byte weights file`);
    }
  }
  const bytes = await loadBytes(w.file);
  if (bytes.length !== w.bytes) throw new Error(`checkpoint: ${w.file} holds ${bytes.length} bytes, the manifest says ${w.bytes} (truncated or replaced)`);
  const sha = await sha256Hex(bytes);
  if (sha !== w.sha256) throw new Error(`checkpoint: ${w.file} is corrupt (SHA-256 ${sha.slice(0, 12)}… differs from the manifest's ${String(w.sha256).slice(0, 12)}…)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const arrays = {} as CheckpointArrays;
  for (const e of w.arrays) {
    const a = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) a[i] = dv.getFloat32((e.offset + i) * 4, true);
    arrays[e.name] = a;
  }
  if (!arrays.params) throw new Error('checkpoint: the weights file holds no params');
  if (arrays.params.length !== m.numParams) throw new Error(`checkpoint: params hold ${arrays.params.length} values, the manifest says ${m.numParams}`);
  checkParams(arrays.params, m);
  return { manifest: m, arrays };
}

/** Largest |parameter| a checkpoint may hold: trained weights sit far below; beyond it activations overflow float32. */
export const MAX_PARAM_MAGNITUDE = 1e4;
/** Range of logStd a checkpoint may hold: exp(±20) keeps the action noise finite and nonzero in float32. */
export const LOG_STD_RANGE: readonly [number, number] = [-20, 20];

/** Throws unless params are finite, bounded and their logStd lies in LOG_STD_RANGE (they would give NaN actions otherwise). */
function checkParams(params: Float32Array, m: CheckpointManifest): void {
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (!Number.isFinite(p)) throw new Error(`checkpoint: params hold a non-finite value (${p} at index ${i})`);
    if (Math.abs(p) > MAX_PARAM_MAGNITUDE) throw new Error(`checkpoint: params hold ${p} at index ${i}, beyond ±${MAX_PARAM_MAGNITUDE}: the network would overflow float32 (a corrupt or diverged checkpoint)`);
  }
  const [lo, hi] = LOG_STD_RANGE;
  const at = paramLayout(m.obsDim, m.actDim, m.hidden).logStdOffset;
  for (let k = 0; k < m.actDim; k++) {
    const v = params[at + k];
    if (!(v >= lo && v <= hi)) throw new Error(`checkpoint: logStd[${k}] is ${v}, outside [${lo}, ${hi}]: exp(logStd) would overflow or vanish`);
  }
}

/** Throws unless s is a normalizer state of dimension dim with finite values and non-negative variances. */
function checkNormalizerState(s: NormalizerState | undefined, dim: number): void {
  if (!s || typeof s !== 'object') throw new Error('checkpoint: manifest field normalizer is missing');
  if (s.dim !== dim) throw new Error(`checkpoint: manifest field normalizer.dim is ${JSON.stringify(s.dim)}, the network takes ${dim} inputs`);
  for (const k of ['mean', 'var'] as const) {
    const a = s[k];
    if (!Array.isArray(a) || a.length !== dim) throw new Error(`checkpoint: manifest field normalizer.${k} must be a list of ${dim} numbers`);
    const bad = a.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 3.4e38 || (k === 'var' && v < 0));
    if (bad >= 0) throw new Error(`checkpoint: manifest field normalizer.${k}[${bad}] is ${JSON.stringify(a[bad])}, not a finite${k === 'var' ? ' non-negative' : ''} float32`);
  }
  for (const k of ['count', 'clip', 'eps'] as const) {
    if (typeof s[k] !== 'number' || !(s[k] > 0) || !Number.isFinite(s[k])) throw new Error(`checkpoint: manifest field normalizer.${k} must be a finite positive number, got ${JSON.stringify(s[k])}`);
  }
}
