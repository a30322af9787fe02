/**
 * A whole training run in a directory: PPO iterations with per-iteration metrics (metrics.jsonl), aligned
 * checkpoints (checkpoint.json + weights.bin), a learning-curve plot (curve.svg) and a final evaluation
 * with the mean action (eval.json). `resume` continues from the directory's checkpoint.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeEnv } from '../env.ts';
import type { DomainRandomization } from '../domain-randomization.ts';
import { getTask } from '../../tasks/registry.ts';
import type { ShapingMode } from '../shaping/spec.ts';
import type { PpoHyperparams } from './backend.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-fs.ts';
import { evaluatePolicy, type EvalResult } from './evaluate.ts';
import { lineChartSvg, type Series } from './plot.ts';
import { DEFAULT_PPO_CONFIG, PpoTrainer, policyInputDim, validatePpoConfig, type IterationMetrics, type PpoConfig } from './ppo.ts';
import { createBackend, type BackendKind } from './select-backend.ts';
import { paramLayout } from '../policy/param-layout.ts';
import { VALUE_OUT_GAIN } from '../policy/init.ts';
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

/** Options of a training run. */
export interface TrainRunOptions {
  task: string;
  shaping: ShapingMode;
  /** Shaping weight w (Φ scale). */
  shapingWeight: number;
  numEnvs: number;
  numWorkers: number;
  /** Env steps to train for (rounded up to whole iterations). */
  totalSteps: number;
  seed: number;
  outDir: string;
  backend: BackendKind;
  /** Threads of the WASM backend: > 1 splits every batch across worker threads (ParallelWasmBackend); default 1. */
  threads?: number;
  hidden: number[];
  ppo: Partial<Omit<PpoConfig, 'hp'>> & { hp?: Partial<PpoHyperparams> };
  evalEpisodes: number;
  resume: boolean;
  /** Seconds between checkpoints (taken at the next episode-aligned iteration). */
  checkpointSeconds: number;
  /** A subgoal spec (JSON) replacing the task's own. */
  subgoals?: unknown;
  /** Domain-randomization ranges of the training envs (engine/domain-randomization.ts); evaluation runs without them. */
  domainRandomization?: DomainRandomization;
  /** Gain of the value output layer's orthogonal init (cleanrl: 1); ignored on resume. */
  valueOutGain?: number;
  /** Initial log standard deviation of the policy (cleanrl: 0); ignored on resume. */
  initLogStd?: number;
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

/** Greatest common divisor. */
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Settings a resumed run must share with the checkpoint. */
function identity(o: TrainRunOptions, cfg: PpoConfig) {
  return { task: o.task, shaping: o.shaping, shapingWeight: o.shapingWeight, numEnvs: o.numEnvs, numWorkers: o.numWorkers, totalSteps: o.totalSteps, seed: o.seed, hidden: o.hidden, initLogStd: o.initLogStd ?? null, valueOutGain: o.valueOutGain ?? null, subgoals: o.subgoals ?? null, domainRandomization: o.domainRandomization ?? null, ppo: cfg, ...(o.starts !== undefined ? { starts: path.resolve(o.starts), curriculum: { ...DEFAULT_CURRICULUM, ...o.curriculum } } : {}) };
}

/** Trains as the options say; onIteration sees each iteration's metrics (for progress bars). */
export async function trainRun(o: TrainRunOptions, onStart: (info: { backend: string; reason: string; iterations: number; startIteration: number; demos?: { kept: number; failed: number } }) => void, onIteration: (m: IterationMetrics, t: PpoTrainer) => void): Promise<TrainRunResult> {
  // Checked before anything is created, so a bad setting leaves no run directory behind.
  const cfg: PpoConfig = validatePpoConfig({ ...DEFAULT_PPO_CONFIG, ...getTask(o.task).ppoDefaults, ...o.ppo, hp: { ...DEFAULT_PPO_CONFIG.hp, ...o.ppo.hp } });
  if (o.curriculum) validateCurriculum({ ...DEFAULT_CURRICULUM, ...o.curriculum });
  // Demonstrations first: a bad archive fails before the run directory is touched.
  const demoSet = o.starts === undefined ? null : await loadDemos(o.starts, o.task);
  await fs.mkdir(o.outDir, { recursive: true });
  const metricsPath = path.join(o.outDir, 'metrics.jsonl');
  const want = identity(o, cfg);
  const resumed = o.resume ? await loadCheckpoint(o.outDir) : null;
  if (resumed) {
    const have = JSON.stringify(resumed.manifest.config.run), mine = JSON.stringify(want);
    if (have !== mine) throw new Error(`resume: the checkpoint in ${o.outDir} was trained with ${have}, this run asks for ${mine}`);
  }
  const env = await makeEnv(o.task, { numEnvs: o.numEnvs, numWorkers: o.numWorkers, seed: o.seed, shaping: { mode: o.shaping, gamma: cfg.gamma, weight: o.shapingWeight }, subgoals: o.subgoals, domainRandomization: o.domainRandomization });
  const mbSize = Math.ceil((o.numEnvs * cfg.numSteps) / cfg.numMinibatches);
  const choice = await createBackend(o.backend, { obsDim: policyInputDim(env), actDim: env.actDim, hidden: o.hidden, seed: o.seed, maxBatch: Math.max(mbSize, o.numEnvs, Math.min(o.evalEpisodes, 500)), threads: o.threads });
  const backend = choice.backend;
  const t0 = performance.now();
  try {
    const trainer = new PpoTrainer(env, backend, cfg, o.seed, o.totalSteps);
    const curriculum = demoSet ? new StartCurriculum(demoSet.demos, { ...DEFAULT_CURRICULUM, ...o.curriculum }, env.numEnvs, o.seed) : null;
    if (curriculum) {
      trainer.onStep = (e) => curriculum.afterStep(e);
      const restored = (resumed?.manifest.config as { curriculumBack?: number } | undefined)?.curriculumBack;
      if (restored !== undefined) curriculum.back = restored;
    }
    // Episodes are 50 steps for every env at once, so every `aligned` iterations all envs start new episodes:
    // checkpoints are taken there, and a resumed run restarts those episodes exactly.
    const episodeLen = env.task.maxEpisodeSteps;
    const aligned = episodeLen / gcd(episodeLen, cfg.numSteps);
    if ((o.initLogStd !== undefined || o.valueOutGain !== undefined) && !resumed) {
      const p = await backend.getParams();
      const layout = paramLayout(policyInputDim(env), env.actDim, o.hidden);
      if (o.initLogStd !== undefined) {
        const at = layout.entries.find((e) => e.name === 'logStd')!;
        p.fill(o.initLogStd, at.offset, at.offset + env.actDim);
      }
      if (o.valueOutGain !== undefined) {
        // Orthogonal init is linear in the gain: rescale the value output weights from VALUE_OUT_GAIN.
        const last = layout.valueLayers[layout.valueLayers.length - 1];
        for (let k = 0; k < last.inDim * last.outDim; k++) p[last.weightOffset + k] *= o.valueOutGain / VALUE_OUT_GAIN;
      }
      backend.setParams(p);
    }
    if (resumed) {
      const m = resumed.manifest;
      if (m.iteration % aligned !== 0) throw new Error(`resume: checkpoint iteration ${m.iteration} is not at an episode boundary (every ${aligned} iterations)`);
      backend.setParams(resumed.arrays.params);
      if (resumed.arrays.adamM && resumed.arrays.adamV) backend.setOptimizerState({ m: resumed.arrays.adamM, v: resumed.arrays.adamV, t: m.adamStep });
      trainer.normalizer.load(m.normalizer);
      trainer.restoreCounters(m.iteration, m.envSteps);
      env.reset({ seed: o.seed, startEpisode: (m.iteration * cfg.numSteps) / episodeLen });
      trainer.markStarted();
      const kept = (await fs.readFile(metricsPath, 'utf8').catch(() => '')).split('\n').filter((l) => l && JSON.parse(l).iteration <= m.iteration);
      await fs.writeFile(metricsPath, kept.map((l) => l + '\n').join(''));
    } else {
      await fs.writeFile(metricsPath, '');
    }
    onStart({ backend: backend.kind, reason: choice.reason, iterations: trainer.totalIterations, startIteration: trainer.iteration, demos: demoSet ? { kept: demoSet.demos.length, failed: demoSet.failed } : undefined });
    let checkpoint = path.join(o.outDir, 'checkpoint.json');
    let lastSave = performance.now();
    const save = async () => {
      const opt = await backend.getOptimizerState();
      checkpoint = await saveCheckpoint(o.outDir, {
        task: env.task.name, obsDim: policyInputDim(env), actDim: env.actDim, hidden: o.hidden, seed: o.seed, envSteps: trainer.envSteps, iteration: trainer.iteration,
        adamStep: opt.t, normalizer: trainer.normalizer.state(), config: { run: want, shaping: env.shaping, subgoals: env.subgoals, inputs: 'obs ⊕ desiredGoal', backend: backend.kind, ...(curriculum ? { curriculumBack: curriculum.back } : {}) },
      }, { params: await backend.getParams(), adamM: opt.m, adamV: opt.v });
      lastSave = performance.now();
    };
    const stopAt = Math.min(trainer.totalIterations, trainer.iteration + (o.stopAfter ?? Infinity));
    while (trainer.iteration < stopAt) {
      const m = await trainer.runIteration();
      if (curriculum) {
        curriculum.endIteration();
        m.starts = { back: curriculum.back, ...curriculum.last };
      }
      await fs.appendFile(metricsPath, JSON.stringify(m) + '\n');
      onIteration(m, trainer);
      if (trainer.iteration % aligned === 0 && performance.now() - lastSave > o.checkpointSeconds * 1000) await save();
    }
    // A run cut short by stopAfter keeps its last episode-aligned checkpoint, so --resume continues exactly.
    if (trainer.iteration === trainer.totalIterations || trainer.iteration % aligned === 0) await save();
    const evaluation = await evaluatePolicy(o.task, backend, trainer.normalizer, o.evalEpisodes, (o.seed + 0x9e3779b9) >>> 0, { subgoals: o.subgoals });
    await fs.writeFile(path.join(o.outDir, 'eval.json'), JSON.stringify(evaluation, null, 2) + '\n');
    const plot = await writeCurve(o.outDir, `${env.task.name}, ${o.shaping} reward, ${o.numEnvs} envs, seed ${o.seed}`, env.stageNames, evaluation);
    return { successRate: evaluation.successRate, envSteps: trainer.envSteps, wallSeconds: (performance.now() - t0) / 1000, checkpoint, eval: evaluation, plot, backend: backend.kind };
  } finally {
    backend.destroy();
    await env.close();
  }
}

/** Reads metrics.jsonl and writes curve.svg: training success rate and stages reached against env steps. */
export async function writeCurve(dir: string, title: string, stageNames: readonly string[], evaluation?: EvalResult): Promise<string> {
  const rows = (await fs.readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as IterationMetrics);
  const x = rows.map((r) => r.envSteps);
  const series: Series[] = [{ name: 'success (train)', x, y: rows.map((r) => (r.episodes ? r.successRate : Number.NaN)) }];
  stageNames.forEach((name, k) => series.push({ name: `reached ${name}`, x, y: rows.map((r) => (r.episodes ? r.stageReached[k] : Number.NaN)) }));
  if (evaluation && x.length) series.push({ name: `eval ${(evaluation.successRate * 100).toFixed(1)}%`, x: [x[x.length - 1]], y: [evaluation.successRate], color: '#000' });
  const file = path.join(dir, 'curve.svg');
  await fs.writeFile(file, lineChartSvg(series, { title, xLabel: 'env steps', yLabel: 'fraction of episodes', yRange: [0, 1] }));
  return file;
}
