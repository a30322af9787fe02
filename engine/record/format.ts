/**
 * The recording file: episodes as snapshot rows (engine/state.ts), actions, rewards, stages and reward terms per
 * step, in one binary with a JSON manifest. Browser-safe (no Node imports): the view reads it too.
 *
 * The file is a container (engine/record/container.ts) with magic "CAIRNREC". Per episode the payload holds its start
 * row [W], then per step [STEP_HEAD + A + T + W]: reward, shapedReward, stage, success, the action [A] (clipped),
 * the reward terms [T] and the row of the state the step reached (before any autoreset). The manifest carries the
 * payload's SHA-256; a truncated, corrupt or foreign file is refused with the reason.
 */
import type { StateLayout } from '../state.ts';
import { decodeContainer, encodeContainer } from './container.ts';

export const RECORDING_MAGIC = 'CAIRNREC';
export const RECORDING_VERSION = 1;
/** Floats at the head of each step record: reward, shapedReward, stage, success. */
export const STEP_HEAD = 4;

/** One recorded episode's place in the payload. */
export interface EpisodeEntry {
  /** Env index the episode ran in. */
  env: number;
  /** Control steps recorded. */
  steps: number;
  /** Success of the last state. */
  success: boolean;
  /** Sum of the sparse reward. */
  return: number;
  /** Float offset of the episode's start row in the payload. */
  offset: number;
}

/** What a recording says about itself. */
export interface RecordingManifest {
  format: 'cairn-recording';
  version: number;
  task: string;
  /** Envs and worker threads of the recording env, its seed, physics and domain randomization: what a bit-exact replay needs. */
  numEnvs: number;
  numWorkers: number;
  seed: number;
  physics: Record<string, number>;
  domainRandomization: unknown;
  actDim: number;
  numTerms: number;
  termNames: string[];
  stageNames: string[];
  /** The env's subgoal spec (JSON, as makeEnv's `subgoals` takes it): the stages of stageNames, drawn as markers on replay. */
  subgoals?: unknown;
  /** Seconds per control step. */
  controlDt: number;
  stateLayout: StateLayout;
  episodes: EpisodeEntry[];
  /** Floats in the payload. */
  payloadFloats: number;
  /** Hex SHA-256 of the payload bytes. */
  sha256: string;
}

/** A decoded recording: the manifest and the payload. */
export interface Recording {
  manifest: RecordingManifest;
  payload: Float32Array;
}

/** Floats per step record of a manifest. */
export function stepWidth(m: Pick<RecordingManifest, 'actDim' | 'numTerms' | 'stateLayout'>): number {
  return STEP_HEAD + m.actDim + m.numTerms + m.stateLayout.rowWidth;
}

/** Views of episode e of a recording: its start row and its step records [steps, stepWidth]. */
export function episodeViews(rec: Recording, e: number): { start: Float32Array; steps: Float32Array; entry: EpisodeEntry } {
  const m = rec.manifest, entry = m.episodes[e], W = m.stateLayout.rowWidth, S = stepWidth(m);
  return { entry, start: rec.payload.subarray(entry.offset, entry.offset + W), steps: rec.payload.subarray(entry.offset + W, entry.offset + W + entry.steps * S) };
}

/** Offsets inside a step record: reward, shapedReward, stage, success, action, terms, row. */
export function stepFields(m: Pick<RecordingManifest, 'actDim' | 'numTerms'>) {
  return { reward: 0, shapedReward: 1, stage: 2, success: 3, action: STEP_HEAD, terms: STEP_HEAD + m.actDim, row: STEP_HEAD + m.actDim + m.numTerms };
}

/** Encodes a manifest (its sha256 and payloadFloats are filled in here) and payload into the file's bytes. */
export function encodeRecording(manifest: Omit<RecordingManifest, 'sha256' | 'payloadFloats'>, payload: Float32Array): Promise<Uint8Array> {
  return encodeContainer(RECORDING_MAGIC, RECORDING_VERSION, manifest, payload);
}

/** Decodes and checks a recording file's bytes; throws naming what is wrong (foreign, truncated, corrupt, inconsistent). */
export async function decodeRecording(bytes: Uint8Array): Promise<Recording> {
  const { manifest, payload } = await decodeContainer(bytes, RECORDING_MAGIC, RECORDING_VERSION, 'recording');
  const m = manifest as unknown as RecordingManifest;
  if (m.format !== 'cairn-recording' || m.version !== RECORDING_VERSION) throw new Error(`recording: the manifest is not a version-${RECORDING_VERSION} cairn-recording`);
  checkManifest(m);
  return { manifest: m, payload };
}

/** Checks that the manifest's episodes tile the payload exactly; throws naming the first inconsistency. */
function checkManifest(m: RecordingManifest): void {
  const L = m.stateLayout;
  if (!L || !Number.isInteger(L.rowWidth) || L.rowWidth < 1) throw new Error('recording: the manifest has no state layout');
  for (const [name, f] of Object.entries(L.fields ?? {})) {
    if (!Array.isArray(f) || !Number.isInteger(f[0]) || !Number.isInteger(f[1]) || f[0] < 0 || f[1] < 0 || f[0] + f[1] > L.rowWidth) {
      throw new Error(`recording: state field ${name} at ${JSON.stringify(f)} does not fit a ${L.rowWidth}-float row`);
    }
  }
  for (const [k, v] of [['actDim', m.actDim], ['numTerms', m.numTerms], ['numEnvs', m.numEnvs], ['numWorkers', m.numWorkers]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`recording: ${k} ${v} is not a positive integer`);
  }
  if (!Array.isArray(m.episodes)) throw new Error('recording: the manifest lists no episodes');
  const S = stepWidth(m);
  let at = 0;
  m.episodes.forEach((e, k) => {
    if (!e || e.offset !== at || !Number.isInteger(e.steps) || e.steps < 0) throw new Error(`recording: episode ${k} is at float ${e?.offset} with ${e?.steps} steps, expected float ${at}`);
    if (!Number.isInteger(e.env) || e.env < 0 || e.env >= m.numEnvs) throw new Error(`recording: episode ${k} ran in env ${e.env}, outside [0, ${m.numEnvs})`);
    at += L.rowWidth + e.steps * S;
  });
  if (at !== m.payloadFloats) throw new Error(`recording: the episodes cover ${at} floats, the payload holds ${m.payloadFloats}`);
}
