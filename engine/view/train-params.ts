/**
 * The URL parameters of training in the page (`?train=1&task=push&shaping=pbrs&steps=5e6`); task, shaping, seed and
 * backend are the view's own (engine/view/params.ts), with PBRS the shaping when `train=1` names none.
 *
 * | name      | values                                                        | default |
 * |-----------|---------------------------------------------------------------|---------|
 * | train     | 1: start a run when the page opens; 0: show the panel only    | 0       |
 * | steps     | env steps of the run, a number ≥ 1 (5e6 or 5000000)           | 2e6     |
 * | trainEnvs | training envs, integer in [1, 4096]                           | 256     |
 * | hidden    | hidden widths of both networks, e.g. 64,64                    | 64,64   |
 * | envs      | (the view's) envs shown acting; a run from the URL shows 9 unless given | 9 |
 * | threads   | WASM backend threads, integer in [1, 16] (cairn train --threads)  | 1       |
 * | workers   | physics worker threads, integer in [1, 16] (cairn train --workers) | 1       |
 *
 * threads or workers above 1 need shared memory, which a page has only when cross-origin isolated (the Vite
 * server sends COOP and COEP; see the README for a static host); elsewhere they fall back to 1 with a note.
 * A bad value falls back to the default with a warning the page shows, as the view's other parameters do.
 */
import { DEFAULT_HIDDEN } from '../nn/backend.ts';
import { canShareMemory } from '../threads/host.ts';
import { parseHidden } from '../train/session.ts';

/** Most training envs the page offers. */
export const MAX_TRAIN_ENVS = 4096;
/**
 * Envs the view shows acting while a run from the URL trains (`envs` overrides it): a 3 × 3 grid. Each env is
 * large enough to read at the default camera, and software WebGL (SwiftShader, 2 cores, one taken by training)
 * still draws ~30 frames/s, where 64 envs draw ~19 (bench/browser-train.ts).
 */
export const TRAIN_VIEW_ENVS = 9;
/** Most threads (backend lanes, physics workers) the page offers each. */
export const MAX_TRAIN_THREADS = 16;

/** The training settings a URL asks for, after validation. */
export interface TrainParams {
  /** Start a run as soon as the page is up. */
  autostart: boolean;
  steps: number;
  envs: number;
  hidden: number[];
  /** WASM backend threads (ParallelWasmBackend lanes). */
  threads: number;
  /** Physics worker threads (makeEnv's numWorkers). */
  workers: number;
}

export const DEFAULT_TRAIN_PARAMS: Readonly<TrainParams> = Object.freeze({ autostart: false, steps: 2e6, envs: 256, hidden: [...DEFAULT_HIDDEN], threads: 1, workers: 1 });

/**
 * Checks a thread count for a run in the page (`label` names the value in messages, e.g. "threads=4"): an error
 * for a value that is not an integer in [1, MAX_TRAIN_THREADS], a note for more than one without isolation; the
 * count to use is 1 in both cases.
 */
export function checkTrainThreads(label: string, value: number, isolated: boolean): { value: number; error?: string; note?: string } {
  if (!(Number.isInteger(value) && value >= 1 && value <= MAX_TRAIN_THREADS)) return { value: 1, error: `${label}: expected an integer in [1, ${MAX_TRAIN_THREADS}]` };
  if (value > 1 && !isolated) return { value: 1, note: `${label}: this page is not cross-origin isolated (no COOP/COEP headers), so it has no shared memory; training on 1 thread` };
  return { value };
}

/** Reads the training parameters from a query string; one warning per value that was rejected. */
export function parseTrainParams(search: string, isolated = canShareMemory()): { params: TrainParams; warnings: string[] } {
  const q = new URLSearchParams(search);
  const p: TrainParams = { ...DEFAULT_TRAIN_PARAMS, hidden: [...DEFAULT_TRAIN_PARAMS.hidden] };
  const warnings: string[] = [];
  const train = q.get('train');
  if (train !== null) {
    if (train === '1' || train === 'true') p.autostart = true;
    else if (train !== '0' && train !== 'false') warnings.push(`train=${train}: expected 1 or 0; not starting a run`);
  }
  const steps = q.get('steps');
  if (steps !== null) {
    const v = Number(steps);
    if (steps.trim() !== '' && Number.isFinite(v) && v >= 1 && v <= 1e10) p.steps = Math.round(v);
    else warnings.push(`steps=${steps}: expected a number of env steps in [1, 1e10]; using ${p.steps}`);
  }
  const envs = q.get('trainEnvs');
  if (envs !== null) {
    const v = Number(envs);
    if (/^\s*\d+\s*$/.test(envs) && v >= 1 && v <= MAX_TRAIN_ENVS) p.envs = v;
    else warnings.push(`trainEnvs=${envs}: expected an integer in [1, ${MAX_TRAIN_ENVS}]; using ${p.envs}`);
  }
  const hidden = q.get('hidden');
  if (hidden !== null) {
    try {
      p.hidden = parseHidden(hidden);
    } catch {
      warnings.push(`hidden=${hidden}: expected comma-separated positive widths like 64,64; using ${p.hidden.join(',')}`);
    }
  }
  for (const name of ['threads', 'workers'] as const) {
    const raw = q.get(name);
    if (raw === null) continue;
    const checked = checkTrainThreads(`${name}=${raw}`, /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN, isolated);
    p[name] = checked.value;
    if (checked.error) warnings.push(`${checked.error}; using 1`);
    else if (checked.note) warnings.push(checked.note);
  }
  return { params: p, warnings };
}

/** Whether the query string gives parameter `name` at all (a run from the URL fills in its own shaping and envs where it does not). */
export function urlNames(search: string, name: string): boolean {
  return new URLSearchParams(search).get(name) !== null;
}
