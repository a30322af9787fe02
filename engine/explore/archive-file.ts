/**
 * The archive file (DIR/archive.bin): a container (engine/record/container.ts, magic "CAIRNGXA") whose manifest
 * holds the run's settings, progress history and per-cell counts, and whose payload holds the distinct episode
 * start rows [S, W], then per cell its best row [W] and its actions [steps, A], then per successful trajectory its
 * actions [steps, A], in manifest order (cells and trajectories name their start row by index).
 */
import { checkSameLayout, type StateLayout } from '../state.ts';
import { decodeContainer, encodeContainer } from '../record/container.ts';
import { Archive, type Cell } from './archive.ts';
import type { CellSpec } from './cells.ts';

export const ARCHIVE_MAGIC = 'CAIRNGXA';
export const ARCHIVE_VERSION = 1;

/** The run an archive belongs to and how far it got. */
export interface ArchiveRunInfo {
  task: string;
  cellSpec: CellSpec;
  numEnvs: number;
  seed: number;
  exploreSteps: number;
  repeatProb: number;
  freshProb: number;
  /** Env steps explored so far, and the wall time they took, s. */
  envSteps: number;
  wallSeconds: number;
  /** [envSteps, cells, successCells] after each save. */
  history: [number, number, number][];
}

interface ArchiveManifest extends ArchiveRunInfo {
  format: 'cairn-archive';
  version: number;
  actDim: number;
  maxEpisodeSteps: number;
  stateLayout: StateLayout;
  numStarts: number;
  cells: { key: string; stage: number; steps: number; score: number; success: boolean; chosen: number; seen: number; chosenSinceNew: number; foundAt: number; start: number }[];
  successes: { steps: number; episode: string; start: number }[];
}

/** Encodes an archive and its run info into the file's bytes. */
export function encodeArchive(archive: Archive, info: ArchiveRunInfo, layout: StateLayout, actDim: number): Promise<Uint8Array> {
  const W = layout.rowWidth;
  const starts = new Map<Float32Array, number>();
  const startOf = (a: Float32Array) => {
    let k = starts.get(a);
    if (k === undefined) starts.set(a, (k = starts.size));
    return k;
  };
  const cells = archive.list.map((c) => ({ key: c.key, stage: c.stage, steps: c.steps, score: c.score, success: c.success, chosen: c.chosen, seen: c.seen, chosenSinceNew: c.chosenSinceNew, foundAt: c.foundAt, start: startOf(c.start) }));
  const successes = archive.successes.map((s) => ({ steps: s.steps, episode: s.episode, start: startOf(s.start) }));
  let total = starts.size * W;
  for (const c of archive.list) total += W + c.actions.length;
  for (const s of archive.successes) total += s.actions.length;
  const payload = new Float32Array(total);
  let at = 0;
  const put = (a: Float32Array) => { payload.set(a, at); at += a.length; };
  for (const a of starts.keys()) put(a);
  for (const c of archive.list) { put(c.row); put(c.actions); }
  for (const s of archive.successes) put(s.actions);
  const manifest: ArchiveManifest = {
    format: 'cairn-archive', version: ARCHIVE_VERSION, ...info, actDim, maxEpisodeSteps: archive.maxEpisodeSteps, stateLayout: layout, numStarts: starts.size, cells, successes,
  };
  return encodeContainer(ARCHIVE_MAGIC, ARCHIVE_VERSION, manifest, payload);
}

/** Decodes an archive file; with `layout`, checks that its rows fit that env. Throws naming what is wrong. */
export async function decodeArchive(bytes: Uint8Array, layout?: StateLayout): Promise<{ archive: Archive; info: ArchiveRunInfo; stateLayout: StateLayout; actDim: number }> {
  const { manifest, payload } = await decodeContainer(bytes, ARCHIVE_MAGIC, ARCHIVE_VERSION, 'archive');
  const m = manifest as unknown as ArchiveManifest;
  if (m.format !== 'cairn-archive' || m.version !== ARCHIVE_VERSION) throw new Error(`archive: the manifest is not a version-${ARCHIVE_VERSION} cairn-archive`);
  if (layout) checkSameLayout(m.stateLayout, layout, 'archive');
  const W = m.stateLayout?.rowWidth, A = m.actDim;
  if (!Number.isInteger(W) || W < 1 || !Number.isInteger(A) || A < 1 || !Array.isArray(m.cells) || !Array.isArray(m.successes)) throw new Error('archive: the manifest lacks its layout, action size or lists');
  const archive = new Archive({ maxEpisodeSteps: m.maxEpisodeSteps });
  let at = 0;
  const take = (n: number, what: string) => {
    if (!Number.isInteger(n) || n < 0 || at + n > payload.length) throw new Error(`archive: ${what} runs past the payload (${payload.length} floats)`);
    const out = payload.slice(at, at + n);
    at += n;
    return out;
  };
  const starts: Float32Array[] = [];
  for (let k = 0; k < m.numStarts; k++) starts.push(take(W, `start row ${k}`));
  const startAt = (k: number, what: string) => {
    if (!Number.isInteger(k) || !starts[k]) throw new Error(`archive: ${what} names start row ${k}, the archive has ${starts.length}`);
    return starts[k];
  };
  m.cells.forEach((c, k) => {
    const start = startAt(c.start, `cell ${k}`), row = take(W, `cell ${k}`), actions = take(c.steps * A, `cell ${k}`);
    archive.visit({ key: c.key, stage: c.stage, row, steps: c.steps, score: c.score, success: c.success, start, actions }, c.foundAt);
    const cell = archive.cells.get(c.key) as Cell;
    if (archive.list.length !== k + 1) throw new Error(`archive: cell ${k} repeats the key ${c.key}`);
    Object.assign(cell, { chosen: c.chosen, seen: c.seen, chosenSinceNew: c.chosenSinceNew });
  });
  m.successes.forEach((s, k) => {
    const start = startAt(s.start, `success ${k}`), actions = take(s.steps * A, `success ${k}`);
    archive.successes.push({ start, actions, steps: s.steps, episode: s.episode });
  });
  if (at !== payload.length) throw new Error(`archive: the cells and trajectories cover ${at} floats, the payload holds ${payload.length}`);
  const info: ArchiveRunInfo = {
    task: m.task, cellSpec: m.cellSpec, numEnvs: m.numEnvs, seed: m.seed, exploreSteps: m.exploreSteps, repeatProb: m.repeatProb, freshProb: m.freshProb,
    envSteps: m.envSteps, wallSeconds: m.wallSeconds, history: m.history,
  };
  return { archive, info, stateLayout: m.stateLayout, actDim: A };
}
