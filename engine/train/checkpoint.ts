/**
 * Checkpoint format (browser-safe: no Node imports; engine/train/checkpoint-fs.ts reads and writes files).
 * Checkpoints: a JSON manifest (format version, task, shaping, layer sizes, normalizer state, counters,
 * seed, optimizer step) plus raw little-endian float32 arrays (params, Adam moments) in one .bin file,
 * whose byte length and SHA-256 the manifest records.
 */
import type { NormalizerState } from './normalizer.ts';

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
  /** Trainer settings (shaping config and spec, PPO hyperparameters, numEnvs...), free-form JSON. */
  config: Record<string, unknown>;
  weights: { file: string; bytes: number; sha256: string; arrays: { name: keyof CheckpointArrays; offset: number; length: number }[] };
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
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, createdAt: new Date().toISOString(), ...meta, numParams: arrays.params.length,
    weights: { file: WEIGHTS_FILE, bytes: bytes.length, sha256: await sha256Hex(bytes), arrays: list },
  };
  return { manifest, bytes };
}

/** The weights file's name inside a checkpoint directory. */
export const WEIGHTS_FILE = 'weights.bin';
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
  const w = m.weights;
  if (!w || typeof w.file !== 'string' || !/^[\w.-]+$/.test(w.file)) throw new Error('checkpoint: manifest field weights.file is missing or not a plain file name');
  const bytes = await loadBytes(w.file);
  if (bytes.length !== w.bytes) throw new Error(`checkpoint: ${w.file} holds ${bytes.length} bytes, the manifest says ${w.bytes} (truncated or replaced)`);
  const sha = await sha256Hex(bytes);
  if (sha !== w.sha256) throw new Error(`checkpoint: ${w.file} is corrupt (SHA-256 ${sha.slice(0, 12)}… differs from the manifest's ${String(w.sha256).slice(0, 12)}…)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const arrays = {} as CheckpointArrays;
  for (const e of w.arrays ?? []) {
    if (!['params', 'adamM', 'adamV'].includes(e.name) || !(e.offset >= 0) || (e.offset + e.length) * 4 > bytes.length) throw new Error(`checkpoint: array entry ${JSON.stringify(e)} does not fit the weights file`);
    const a = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) a[i] = dv.getFloat32((e.offset + i) * 4, true);
    arrays[e.name] = a;
  }
  if (!arrays.params) throw new Error('checkpoint: the weights file holds no params');
  if (arrays.params.length !== m.numParams) throw new Error(`checkpoint: params hold ${arrays.params.length} values, the manifest says ${m.numParams}`);
  if (!arrays.params.every(Number.isFinite)) throw new Error('checkpoint: params hold non-finite values');
  return { manifest: m, arrays };
}
