/**
 * A whole exploration in a directory: explores until `totalSteps` env steps, saving the archive (archive.bin,
 * written atomically) and the plot of cells found against env steps (cells.svg) every `saveSeconds` and at the end.
 * With `resume` an existing archive in the directory is continued; without it, a directory that holds one is refused.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isAtomicTemp, writeAtomic } from '../fs-atomic.ts';
import { lineChartSvg } from '../train/plot.ts';
import { getTask } from '../../tasks/registry.ts';
import { decodeArchive, encodeArchive, type ArchiveRunInfo } from './archive-file.ts';
import { validateCellSpec, type CellSpec } from './cells.ts';
import { Explorer, validateExploreSettings, type ExploreSettings } from './explore.ts';

export const ARCHIVE_FILE = 'archive.bin';

/** Options of an exploration run. */
export interface ExploreRunOptions extends Omit<ExploreSettings, 'cellSpec'> {
  cellSpec?: Partial<CellSpec>;
  totalSteps: number;
  outDir: string;
  resume: boolean;
  /** Seconds between saves of the archive. */
  saveSeconds: number;
}

/** What an exploration ended with, as `--json` prints it. */
export interface ExploreRunResult {
  cells: number;
  successCells: number;
  successTrajectories: number;
  envSteps: number;
  wallSeconds: number;
}

/** The settings an archive records and a resumed run must share (worker threads may differ). */
function runIdentity(s: Omit<ArchiveRunInfo, 'envSteps' | 'wallSeconds' | 'history'>) {
  return { task: s.task, cellSpec: s.cellSpec, numEnvs: s.numEnvs, seed: s.seed, exploreSteps: s.exploreSteps, repeatProb: s.repeatProb, freshProb: s.freshProb };
}

/** Reads and decodes DIR/archive.bin (null when there is none). */
export async function readArchive(dir: string) {
  const file = path.join(dir, ARCHIVE_FILE);
  const bytes = await fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new Error(`cannot read ${file}: ${e.message}`);
  });
  if (!bytes) return null;
  return decodeArchive(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Explores as the options say; onProgress sees the explorer after every step. */
export async function exploreRun(o: ExploreRunOptions, onProgress?: (e: Explorer, wallSeconds: number) => void): Promise<ExploreRunResult> {
  const task = getTask(o.task);
  const settings = validateExploreSettings({
    task: task.name, numEnvs: o.numEnvs, numWorkers: o.numWorkers, seed: o.seed, cellSpec: validateCellSpec(o.cellSpec, { ...validateCellSpec(undefined), ...task.cell }),
    exploreSteps: o.exploreSteps, repeatProb: o.repeatProb, freshProb: o.freshProb,
  });
  if (!(Number.isFinite(o.totalSteps) && o.totalSteps >= 1)) throw new Error(`explore: totalSteps must be a positive number, got ${o.totalSteps}`);
  if (!(Number.isFinite(o.saveSeconds) && o.saveSeconds > 0)) throw new Error(`explore: saveSeconds must be a positive number, got ${o.saveSeconds}`);
  await fs.mkdir(o.outDir, { recursive: true });
  // Temporary files of a run killed while saving.
  for (const f of await fs.readdir(o.outDir)) if (isAtomicTemp(f)) await fs.rm(path.join(o.outDir, f), { force: true });
  const prior = await readArchive(o.outDir);
  if (prior && !o.resume) throw new Error(`${o.outDir} holds an exploration archive; pass --resume to continue it, or choose another --out`);
  let history: ArchiveRunInfo['history'] = [];
  let wallBefore = 0;
  if (prior) {
    const p = prior.info;
    const want = runIdentity(settings), have = runIdentity(p);
    if (JSON.stringify(want) !== JSON.stringify(have)) throw new Error(`resume: the archive in ${o.outDir} was explored with ${JSON.stringify(have)}, this run asks for ${JSON.stringify(want)}`);
    history = p.history;
    wallBefore = p.wallSeconds;
  }
  const ex = await Explorer.start(settings, prior?.archive ?? null, prior?.info);
  const t0 = performance.now();
  const wall = () => wallBefore + (performance.now() - t0) / 1000;
  const save = async () => {
    const a = ex.archive;
    if (!history.length || history[history.length - 1][0] !== ex.envSteps) history.push([ex.envSteps, a.numCells, a.numSuccessCells]);
    const info: ArchiveRunInfo = { ...runIdentity(settings), envSteps: ex.envSteps, wallSeconds: wall(), history };
    await writeAtomic(path.join(o.outDir, ARCHIVE_FILE), await encodeArchive(a, info, ex.env.stateLayout, ex.env.actDim));
    await writeAtomic(path.join(o.outDir, 'cells.svg'), cellsPlot(history, `${settings.task}: Go-Explore cells, ${settings.numEnvs} envs, seed ${settings.seed}`));
  };
  try {
    let lastSave = performance.now();
    while (ex.envSteps < o.totalSteps) {
      ex.step();
      onProgress?.(ex, wall());
      if (performance.now() - lastSave > o.saveSeconds * 1000) {
        await save();
        lastSave = performance.now();
      }
    }
    await save();
    return { cells: ex.archive.numCells, successCells: ex.archive.numSuccessCells, successTrajectories: ex.archive.successes.length, envSteps: ex.envSteps, wallSeconds: wall() };
  } finally {
    await ex.close();
  }
}

/** The plot of cells and success cells against env steps. */
function cellsPlot(history: ArchiveRunInfo['history'], title: string): string {
  const x = history.map((h) => h[0]);
  return lineChartSvg([{ name: 'cells', x, y: history.map((h) => h[1]) }, { name: 'success cells', x, y: history.map((h) => h[2]) }], { title, xLabel: 'env steps', yLabel: 'cells in the archive' });
}
