/**
 * A whole training run in a directory: its resolved configuration (config.json), PPO iterations with
 * per-iteration metrics (metrics.jsonl, and flat in metrics.csv), aligned checkpoints (checkpoint.json + weights-<hash>.bin), a
 * learning-curve plot (curve.svg), the final policy as safetensors (policy.safetensors) and a final evaluation with the mean action (eval.json). `resume` continues
 * from the directory's checkpoint.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOutputDir } from '../cli/paths.ts';
import { isAtomicTemp, writeAtomic } from '../fs-atomic.ts';
import { checkIntIn, checkNumberIn } from '../numeric.ts';
import { getTask } from '../../tasks/registry.ts';
import { cleanCheckpointDir, loadCheckpoint, saveCheckpoint } from './checkpoint-fs.ts';
import { MANIFEST_FILE, WEIGHTS_FILE_PATTERN } from './checkpoint.ts';
import type { EvalResult } from './evaluate.ts';
import { lineChartSvg, stackedChartsSvg, type Series } from './plot.ts';
import { csvLine, flattenMetrics, metricsCsv } from './metrics-csv.ts';
import { policySafetensors } from './export.ts';
import type { IterationMetrics, PpoConfig, PpoTrainer } from './ppo.ts';
import { resolveSessionConfig, TrainSession, type TrainSessionOptions } from './session.ts';
import { readArchive } from '../explore/run.ts';
import { DEFAULT_CURRICULUM, replayDemos, StartCurriculum, validateCurriculum, type CurriculumSettings } from '../explore/start-curriculum.ts';

/** Reads a Go-Explore directory's successful trajectories and re-simulates them into demonstrations. */
async function loadDemos(dir: string, task: string) {
  const found = await readArchive(dir);
  if (!found) throw new Error(`--starts: ${dir} holds no exploration archive (archive.bin); run cairn explore --out ${dir} first`);
  const want = getTask(task).name;
  if (found.info.task !== want) throw new Error(`--starts: the archive in ${dir} explored ${found.info.task}, this run trains ${want}`);
  if (!found.archive.successes.length) throw new Error(`--starts: the archive in ${dir} holds no successful trajectory; explore longer`);
  return replayDemos(want, found.archive.successes);
}

/** Options of a training run: a session's (engine/train/session.ts) and its directory's. */
export interface TrainRunOptions extends TrainSessionOptions {
  outDir: string;
  resume: boolean;
  /** Replace the run in outDir (its run files are deleted first); without it, or resume, a directory that holds a run is refused. */
  overwrite?: boolean;
  /** Seconds between checkpoints (taken at the next episode-aligned iteration). */
  checkpointSeconds: number;
  /** Stop after this many iterations of this invocation (a later --resume goes on); default: run to the end. */
  stopAfter?: number;
  /** A Go-Explore run directory: episodes also start from states along its successful trajectories (engine/explore/start-curriculum.ts). */
  starts?: string;
  /** Settings of that start curriculum over DEFAULT_CURRICULUM. */
  curriculum?: Partial<CurriculumSettings>;
}

/** The run's result, as `--json` prints it. */
export interface TrainRunResult {
  successRate: number;
  envSteps: number;
  wallSeconds: number;
  checkpoint: string;
  eval: EvalResult;
  plot: string;
  backend: string;
}

/** Settings a resumed run must share with the checkpoint. */
function identity(o: TrainRunOptions, cfg: PpoConfig) {
  // Runs from before stageInObs existed resume: the field enters the identity only when it is on.
  const { stageInObs, ...rest } = cfg;
  const ppo = stageInObs ? cfg : rest;
  return { task: o.task, shaping: o.shaping, shapingWeight: o.shapingWeight, numEnvs: o.numEnvs, numWorkers: o.numWorkers, totalSteps: o.totalSteps, seed: o.seed, hidden: o.hidden, initLogStd: o.initLogStd ?? null, valueOutGain: o.valueOutGain ?? null, subgoals: o.subgoals ?? null, domainRandomization: o.domainRandomization ?? null, ppo, ...(o.terminateOnInfraction ? { terminateOnInfraction: true } : {}), ...(o.starts !== undefined ? { starts: path.resolve(o.starts), curriculum: { ...DEFAULT_CURRICULUM, ...o.curriculum } } : {}) };
}

/** The policy's safetensors export in a run directory (engine/train/export.ts). */
export const EXPORT_FILE = 'policy.safetensors';
/** Files a training run writes into its directory (beside content-named weights-<hash>.bin files). */
export const RUN_FILES = ['config.json', 'metrics.jsonl', 'metrics.csv', MANIFEST_FILE, EXPORT_FILE, 'eval.json', 'curve.svg'] as const;

/** The run files (RUN_FILES, weights files, leftover temporaries) present in dir; [] when dir does not exist. */
async function runFilesIn(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => (RUN_FILES as readonly string[]).includes(n) || WEIGHTS_FILE_PATTERN.test(n) || isAtomicTemp(n)).sort();
}

export { INIT_LOG_STD_RANGE } from './session.ts';

/** Checks the options of the run directory (the session's are checked by resolveSessionConfig; PPO, shaping, spec, physics and DR check their own). */
function checkRunOptions(o: TrainRunOptions): void {
  if (typeof o.outDir !== 'string' || !o.outDir) throw new Error('train: outDir must be a directory path');
  checkNumberIn('train: checkpointSeconds', o.checkpointSeconds, 0, 1e9);
  if (o.stopAfter !== undefined) checkIntIn('train: stopAfter', o.stopAfter, 1, Number.MAX_SAFE_INTEGER);
  if (o.resume && o.overwrite) throw new Error('train: resume and overwrite exclude each other (resume continues the run in outDir, overwrite replaces it)');
}

/**
 * The rows of metrics.jsonl up to iteration `upTo`, parsed and as text. A torn last line (a kill mid-append) is
 * dropped; a corrupt line before it is an error naming it.
 */
function metricsUpTo(text: string, upTo: number, file: string): { text: string; rows: object[] } {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const kept: string[] = [], rows: object[] = [];
  for (let i = 0; i < lines.length; i++) {
    let row: { iteration?: unknown };
    try {
      row = JSON.parse(lines[i]);
    } catch {
      if (i === lines.length - 1) break;
      throw new Error(`resume: ${file} line ${i + 1} is not JSON; repair or remove that line`);
    }
    if (typeof row?.iteration !== 'number') throw new Error(`resume: ${file} line ${i + 1} has no iteration`);
    if (row.iteration <= upTo) {
      kept.push(lines[i] + '\n');
      rows.push(row);
    }
  }
  return { text: kept.join(''), rows };
}

/** The resolved configuration a run writes to config.json at its start. */
function runConfig(o: TrainRunOptions, identityJson: unknown, backend: string) {
  return { cairn: packageInfo(), createdAt: new Date().toISOString(), run: identityJson, backend, threads: o.threads ?? 1, evalEpisodes: o.evalEpisodes, checkpointSeconds: o.checkpointSeconds };
}

/** This package's name, version and git commit (null outside a git checkout). */
function packageInfo(): { name: string; version: string; commit: string | null } {
  // The package root: two levels up from source (engine/train/), three from the compiled package (dist/engine/train/).
  let root = fileURLToPath(new URL('../../', import.meta.url));
  let pkg = { name: 'cairn', version: 'unknown' };
  for (const up of ['../../', '../../../']) {
    try {
      root = fileURLToPath(new URL(up, import.meta.url));
      pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
      break;
    } catch { /* not here */ }
  }
  let commit: string | null = null;
  try {
    // Only cairn's own checkout: an installed copy must not report the commit of the project that installed it.
    if (!existsSync(path.join(root, '.git'))) throw new Error('not a checkout');
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim() || null;
  } catch { /* not a git checkout, or no git */ }
  return { name: pkg.name, version: pkg.version, commit };
}

/**
 * Trains as the options say; onIteration sees each iteration's metrics (for progress bars). Every option is
 * checked, and the env and backend built, before the run directory is touched; a directory that holds a run
 * is refused unless `resume` or `overwrite`. A fresh run writes config.json and an iteration-0 checkpoint first,
 * so a kill at any later instant leaves a checkpoint that loads and resumes.
 */
export async function trainRun(o: TrainRunOptions, onStart: (info: { backend: string; reason: string; iterations: number; startIteration: number; finished: boolean; cleaned: string[]; demos?: { kept: number; failed: number } }) => void, onIteration: (m: IterationMetrics, t: PpoTrainer) => void): Promise<TrainRunResult> {
  const cfg = resolveSessionConfig(o);
  checkRunOptions(o);
  if (o.curriculum) validateCurriculum({ ...DEFAULT_CURRICULUM, ...o.curriculum });
  await checkOutputDir(o.outDir, 'outDir');
  const present = await runFilesIn(o.outDir);
  const metricsPath = path.join(o.outDir, 'metrics.jsonl'), configPath = path.join(o.outDir, 'config.json');
  const want = identity(o, cfg);
  let resumed: Awaited<ReturnType<typeof loadCheckpoint>> | null = null;
  if (o.resume) {
    if (present.includes(MANIFEST_FILE)) {
      resumed = await loadCheckpoint(o.outDir);
      const have = JSON.stringify(resumed.manifest.config.run), mine = JSON.stringify(want);
      if (have !== mine) throw new Error(`resume: the checkpoint in ${o.outDir} was trained with ${have}, this run asks for ${mine}`);
    } else if (present.includes('config.json')) {
      // Killed before its first checkpoint: the run starts over, if it is the same run.
      const have = await fs.readFile(configPath, 'utf8').then((t) => JSON.stringify(JSON.parse(t).run), () => 'unreadable');
      if (have !== JSON.stringify(want)) throw new Error(`resume: the run in ${o.outDir} was started with ${have}, this run asks for ${JSON.stringify(want)}`);
    } else {
      throw new Error(`resume: ${o.outDir} holds no run to resume (no ${MANIFEST_FILE}, no config.json); start it without resume`);
    }
  } else if (present.length && !o.overwrite) {
    throw new RunExistsError(o.outDir, present);
  }
  // Demonstrations first: a bad archive fails before the run directory is touched.
  const demoSet = o.starts === undefined ? null : await loadDemos(o.starts, o.task);
  const session = await TrainSession.open(o, cfg);
  const { env, backend, trainer, aligned } = session;
  const t0 = performance.now();
  try {
    const curriculum = demoSet ? new StartCurriculum(demoSet.demos, { ...DEFAULT_CURRICULUM, ...o.curriculum }, env.numEnvs, o.seed) : null;
    if (curriculum) {
      trainer.onStep = (e) => curriculum.afterStep(e);
      const restored = (resumed?.manifest.config as { curriculumBack?: number } | undefined)?.curriculumBack;
      if (restored !== undefined) curriculum.back = restored;
    }
    // Episodes are 50 steps for every env at once, so every `aligned` iterations all envs start new episodes:
    // checkpoints are taken there, and a resumed run restarts those episodes exactly.
    if (resumed) session.checkResumable(resumed.manifest);
    if (!resumed) await session.initParams();
    const csvPath = path.join(o.outDir, 'metrics.csv');
    // metrics.csv's columns: those of its first row (null until a row exists, when the next append writes the header).
    let csvColumns: string[] | null = null;
    // Everything is checked: from here on the run directory is written.
    await fs.mkdir(o.outDir, { recursive: true });
    if (o.overwrite) for (const name of present) await fs.rm(path.join(o.outDir, name), { force: true });
    const cleaned = o.overwrite ? [] : await cleanCheckpointDir(o.outDir);
    if (resumed) {
      const m = resumed.manifest;
      session.restore(m, resumed.arrays);
      const kept = metricsUpTo(await fs.readFile(metricsPath, 'utf8').catch(() => ''), m.iteration, metricsPath);
      await writeAtomic(metricsPath, kept.text);
      // metrics.csv follows metrics.jsonl: rebuilt from the rows kept.
      await writeAtomic(csvPath, metricsCsv(kept.rows));
      if (kept.rows.length) csvColumns = Object.keys(flattenMetrics(kept.rows[0]));
      if (!present.includes('config.json')) await writeAtomic(configPath, JSON.stringify(runConfig(o, want, backend.kind), null, 2) + '\n');
    } else {
      await writeAtomic(configPath, JSON.stringify(runConfig(o, want, backend.kind), null, 2) + '\n');
      await writeAtomic(metricsPath, '');
      await writeAtomic(csvPath, '');
    }
    let checkpoint = path.join(o.outDir, MANIFEST_FILE);
    let lastSave = performance.now();
    const save = async () => {
      const { meta, arrays } = await session.checkpointMeta({ run: want, ...(curriculum ? { curriculumBack: curriculum.back } : {}) });
      checkpoint = await saveCheckpoint(o.outDir, meta, arrays);
      lastSave = performance.now();
    };
    if (!resumed) await save();
    // Announced once a checkpoint exists: from here on a kill leaves a run that loads and resumes.
    const finished = trainer.iteration >= trainer.totalIterations;
    onStart({ backend: backend.kind, reason: session.reason, iterations: trainer.totalIterations, startIteration: trainer.iteration, finished, cleaned, demos: demoSet ? { kept: demoSet.demos.length, failed: demoSet.failed } : undefined });
    const startIteration = trainer.iteration;
    const stopAt = Math.min(trainer.totalIterations, trainer.iteration + (o.stopAfter ?? Infinity));
    while (trainer.iteration < stopAt) {
      const m = await trainer.runIteration();
      if (curriculum) {
        curriculum.endIteration();
        m.starts = { back: curriculum.back, ...curriculum.last };
      }
      // One write per line: a kill leaves at most a torn last line, which resume drops.
      const row = { time: new Date().toISOString(), ...m };
      await fs.appendFile(metricsPath, JSON.stringify(row) + '\n');
      const header = csvColumns === null;
      csvColumns ??= Object.keys(flattenMetrics(row));
      await fs.appendFile(csvPath, (header ? csvColumns.join(',') + '\n' : '') + csvLine(csvColumns, row) + '\n');
      onIteration(m, trainer);
      if (trainer.iteration % aligned === 0 && performance.now() - lastSave > o.checkpointSeconds * 1000) await save();
    }
    // A run cut short by stopAfter keeps its last episode-aligned checkpoint, so --resume continues exactly.
    if (trainer.iteration > startIteration && (trainer.iteration === trainer.totalIterations || trainer.iteration % aligned === 0)) await save();
    const final = await loadCheckpoint(o.outDir);
    await writeAtomic(path.join(o.outDir, EXPORT_FILE), policySafetensors(final.manifest, final.arrays));
    const evaluation = await session.evaluate();
    await writeAtomic(path.join(o.outDir, 'eval.json'), JSON.stringify(evaluation, null, 2) + '\n');
    const plot = await writeCurve(o.outDir, `${env.task.name}, ${o.shaping} reward, ${o.numEnvs} envs, seed ${o.seed}`, env.stageNames, evaluation);
    return { successRate: evaluation.successRate, envSteps: trainer.envSteps, wallSeconds: (performance.now() - t0) / 1000, checkpoint, eval: evaluation, plot, backend: backend.kind };
  } finally {
    await session.close();
  }
}

/** Thrown when a run's directory already holds a run and neither resume nor overwrite was asked for. */
export class RunExistsError extends Error {
  constructor(readonly dir: string, readonly files: string[]) {
    super(`${dir} already holds a run (${files.join(', ')}); pass --resume to continue it or --overwrite to replace it`);
  }
}

/** Most points a curve gets: iterations are pooled into this many bins of env steps. */
const CURVE_BINS = 100;

/**
 * Pools per-iteration metrics into at most `bins` bins of consecutive iterations and averages `value` over the
 * episodes that finished in each (weighted by their count); bins where no episode finished are left out, so
 * the curve is drawn from finished episodes only and never breaks into isolated points.
 */
export function episodeCurve(rows: readonly IterationMetrics[], value: (r: IterationMetrics) => number, bins = CURVE_BINS): { x: number[]; y: number[] } {
  const x: number[] = [], y: number[] = [];
  const per = Math.max(1, Math.ceil(rows.length / bins));
  for (let lo = 0; lo < rows.length; lo += per) {
    let sum = 0, n = 0;
    const hi = Math.min(rows.length, lo + per);
    for (let i = lo; i < hi; i++) {
      const r = rows[i];
      const v = value(r);
      if (r.episodes > 0 && Number.isFinite(v)) {
        sum += v * r.episodes;
        n += r.episodes;
      }
    }
    if (n > 0) {
      x.push(rows[hi - 1].envSteps);
      y.push(sum / n);
    }
  }
  return { x, y };
}

/**
 * Reads metrics.jsonl and writes curve.svg: the training success rate and stages reached (top) and the sparse
 * and shaped returns (bottom) against env steps, from finished episodes, with the final evaluation marked.
 */
export async function writeCurve(dir: string, title: string, stageNames: readonly string[], evaluation?: EvalResult): Promise<string> {
  const rows = (await fs.readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as IterationMetrics);
  const top: Series[] = [{ name: 'success (train)', ...episodeCurve(rows, (r) => r.successRate) }];
  stageNames.forEach((name, k) => top.push({ name: `reached ${name}`, ...episodeCurve(rows, (r) => r.stageReached[k]) }));
  const last = rows.length ? rows[rows.length - 1].envSteps : 0;
  if (evaluation && rows.length) top.push({ name: `eval ${(evaluation.successRate * 100).toFixed(1)}%`, x: [last], y: [evaluation.successRate], color: '#000' });
  const bottom: Series[] = [
    { name: 'sparse return', ...episodeCurve(rows, (r) => r.sparseReturn) },
    { name: 'shaped return', ...episodeCurve(rows, (r) => r.shapedReturn) },
  ];
  const file = path.join(dir, 'curve.svg');
  await writeAtomic(file, stackedChartsSvg([
    lineChartSvg(top, { title, xLabel: 'env steps', yLabel: 'fraction of episodes', yRange: [0, 1] }),
    lineChartSvg(bottom, { title: 'episode return (training episodes)', xLabel: 'env steps', yLabel: 'return' }),
  ]));
  return file;
}
