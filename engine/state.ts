/**
 * Snapshot rows: each env's state block (engine/batch.ts) packed into one f32 row, for getState/setState,
 * recordings and the Go-Explore archive. A row holds, in this order: bodyPose [B·7], bodyVel [B·6], fingerPos [2],
 * fingerVel [2], mocapTarget [3], fingerTarget [2], desiredGoal [G], sceneParams [S], then episodeStep,
 * episodeIndex, stage, maxStage (integers stored as exact f32 values), potential, bestProgress, episodeReturn,
 * episodeShapedReturn and episodeTermSums [T]. Everything the next step depends on is in the row except Rapier's
 * contact caches (README, Snapshot and restore).
 */
import { STATE_FIELDS, type Batch, type BatchLayout } from './batch.ts';

/** Version of the row layout; recordings and archives carry it. */
export const STATE_LAYOUT_VERSION = 2;
/** Largest integer a row stores exactly (f32 has a 24-bit significand). */
const MAX_EXACT_INT = 1 << 24;

type RowFieldName = (typeof STATE_FIELDS)[number];

/** Where each field sits in a row: the layout recordings and archives store beside their rows. */
export interface StateLayout {
  version: number;
  /** Task whose scene the rows describe. */
  task: string;
  /** Floats per row. */
  rowWidth: number;
  /** Field name → [offset, width] inside a row. */
  fields: Record<RowFieldName, [offset: number, width: number]>;
}

/** M rows of env state: data is [M, layout.rowWidth], a plain typed array that may be copied or stored anywhere. */
export interface StateRows {
  layout: StateLayout;
  data: Float32Array;
}

/** The row layout of a batch of the named task. */
export function stateLayout(task: string, batch: BatchLayout): StateLayout {
  const fields = {} as StateLayout['fields'];
  let at = 0;
  for (const name of STATE_FIELDS) {
    const w = batch.widths[name];
    fields[name] = [at, w];
    at += w;
  }
  return { version: STATE_LAYOUT_VERSION, task, rowWidth: at, fields };
}

/** Throws unless `have` describes rows of the same task and shape as `want`, naming the first difference. */
export function checkSameLayout(have: unknown, want: StateLayout, what: string): void {
  const h = have as Partial<StateLayout> | null;
  if (!h || typeof h !== 'object') throw new Error(`${what}: no state layout given`);
  if (h.version !== want.version) throw new Error(`${what}: state layout version ${h.version}, this cairn reads version ${want.version}`);
  if (h.task !== want.task) throw new Error(`${what}: rows are of task ${h.task}, the env runs ${want.task}`);
  if (h.rowWidth !== want.rowWidth) throw new Error(`${what}: rows are ${h.rowWidth} floats wide, the env's are ${want.rowWidth}`);
  for (const [name, [o, w]] of Object.entries(want.fields)) {
    const f = h.fields?.[name as RowFieldName];
    if (!f || f[0] !== o || f[1] !== w) throw new Error(`${what}: field ${name} is at ${JSON.stringify(f)} in the rows, [${o}, ${w}] in the env`);
  }
}

/** Copies env g's state block into out[at, at + rowWidth). */
export function packRow(b: Batch, layout: StateLayout, g: number, out: Float32Array, at: number): void {
  const base = at;
  for (const name of STATE_FIELDS) {
    const [o, w] = layout.fields[name];
    const src = b[name];
    for (let k = 0; k < w; k++) out[base + o + k] = src[g * w + k];
  }
}

/** Copies into out[at, at + rowWidth) the row of the state env g's last step reached: batch.finalState where that step ended an episode (the block already holds the next one), else the block. */
export function packReachedRow(b: Batch, layout: StateLayout, g: number, out: Float32Array, at: number): void {
  const W = layout.rowWidth;
  if (b.done[g]) out.set(b.finalState.subarray(g * W, g * W + W), at);
  else packRow(b, layout, g, out, at);
}

/** Copies row r of rows ([M, rowWidth]) into env g's state block; the row must have passed checkRow. */
export function unpackRow(rows: Float32Array, layout: StateLayout, r: number, b: Batch, g: number): void {
  const base = r * layout.rowWidth;
  for (const name of STATE_FIELDS) {
    const [o, w] = layout.fields[name];
    const dst = b[name];
    for (let k = 0; k < w; k++) dst[g * w + k] = rows[base + o + k];
  }
}

/** Limits a row must respect: steps per episode, number of stages, the finger opening and finger target ranges (m). */
export interface RowLimits {
  maxEpisodeSteps: number;
  numStages: number;
  maxFingerOpening: number;
  minFingerTarget: number;
}

/** Throws unless row r is a state an env can take: finite, unit quaternions, integer counters in range, fingers in range. */
export function checkRow(rows: Float32Array, layout: StateLayout, r: number, lim: RowLimits, what: string): void {
  const base = r * layout.rowWidth;
  for (let k = 0; k < layout.rowWidth; k++) {
    if (!Number.isFinite(rows[base + k])) throw new Error(`${what}: row ${r} holds ${rows[base + k]} at ${fieldAt(layout, k)}`);
  }
  const [po, pw] = layout.fields.bodyPose;
  for (let q = po + 3; q < po + pw; q += 7) {
    const n = Math.hypot(rows[base + q], rows[base + q + 1], rows[base + q + 2], rows[base + q + 3]);
    if (Math.abs(n - 1) > 1e-3) throw new Error(`${what}: row ${r} has a body quaternion of norm ${n.toFixed(4)} (body ${(q - po - 3) / 7}); quaternions must be unit`);
  }
  const int = (name: RowFieldName, lo: number, hi: number) => {
    const v = rows[base + layout.fields[name][0]];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${what}: row ${r} has ${name} ${v}, expected an integer in [${lo}, ${hi}]`);
  };
  int('episodeStep', 0, lim.maxEpisodeSteps - 1);
  int('episodeIndex', 0, MAX_EXACT_INT);
  int('stage', 0, lim.numStages);
  int('maxStage', 0, lim.numStages);
  const best = rows[base + layout.fields.bestProgress[0]];
  if (best < 0 || best > lim.numStages) throw new Error(`${what}: row ${r} has bestProgress ${best}, expected a number in [0, ${lim.numStages}]`);
  for (const name of ['fingerPos', 'fingerTarget'] as const) {
    const [o, w] = layout.fields[name];
    for (let k = 0; k < w; k++) {
      const v = rows[base + o + k];
      const lo = name === 'fingerTarget' ? lim.minFingerTarget : 0;
      if (v < Math.fround(lo) || v > Math.fround(lim.maxFingerOpening)) throw new Error(`${what}: row ${r} has ${name}[${k}] = ${v} m, outside [${lo}, ${lim.maxFingerOpening}]`);
    }
  }
}

/** Throws when an env's counters no longer fit a row exactly (more than 2^24 episodes in one env). */
export function checkPackable(b: Batch, g: number): void {
  if (b.episodeIndex[g] > MAX_EXACT_INT) throw new Error(`getState: env ${g} has started ${b.episodeIndex[g]} episodes, more than a row stores exactly (2^24)`);
}

/** The field name and index of float k of a row, e.g. "bodyPose[3]". */
export function fieldAt(layout: StateLayout, k: number): string {
  for (const [name, [o, w]] of Object.entries(layout.fields)) if (k >= o && k < o + w) return `${name}[${k - o}]`;
  return `float ${k}`;
}

/** Checks an env-id list against N envs: integers in [0, N), no repeats. Returns it as an Int32Array. */
export function checkEnvIds(ids: ArrayLike<number>, numEnvs: number, what: string): Int32Array {
  if (!ids || typeof ids.length !== 'number') throw new Error(`${what}: envIds must be an array of env indices`);
  const out = new Int32Array(ids.length);
  const seen = new Uint8Array(numEnvs);
  for (let k = 0; k < ids.length; k++) {
    const g = ids[k];
    if (!Number.isInteger(g) || g < 0 || g >= numEnvs) throw new Error(`${what}: envIds[${k}] is ${g}, not an env index in [0, ${numEnvs})`);
    if (seen[g]) throw new Error(`${what}: env ${g} appears twice in envIds`);
    seen[g] = 1;
    out[k] = g;
  }
  return out;
}
