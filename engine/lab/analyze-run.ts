/** The failure analysis of a run directory's checkpoint (analyze.ts over trace.ts), as `cairn analyze` and `cairn search` take it. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../fs-atomic.ts';
import { RunningNormalizer } from '../nn/normalizer.ts';
import { createBackend, type BackendKind } from '../nn/select-backend.ts';
import type { ShapingConfig } from '../shaping/spec.ts';
import { loadCheckpoint } from '../train/checkpoint-fs.ts';
import { checkpointSubgoals, MANIFEST_FILE, type CheckpointManifest } from '../train/checkpoint.ts';
import { evalSeed } from '../train/evaluate.ts';
import { checkWritableFile } from '../cli/paths.ts';
import { analyzeEpisodes, type RunAnalysis } from './analyze.ts';
import { traceEpisodes, type TraceOptions } from './trace.ts';

/** Name of the analysis file in a run directory. */
export const ANALYSIS_FILE = 'analysis.json';

/** A run's analysis with what it analyzed: task, the checkpoint's absolute path, its env steps and the episode seed. */
export interface RunDirAnalysis extends RunAnalysis {
  task: string;
  checkpoint: string;
  envSteps: number;
  seed: number;
}

/** How to analyze a run: episodes (≥ 1), episode seed (default: cairn eval's), backend (default auto), a JSON file to write, a start line's sink. */
export interface AnalyzeRunOptions {
  episodes: number;
  seed?: number;
  backend?: BackendKind;
  /** Written atomically with the analysis as JSON; checked writable once the checkpoint has loaded, before tracing. */
  out?: string;
  /** Gets one line before tracing: task, backend, episodes, seed, checkpoint steps. */
  log?: (line: string) => void;
}

/** The run's subgoal spec, shaping config, penalty coefficients and policy input from its manifest (absent: the env's defaults). */
function runSettings(m: CheckpointManifest): TraceOptions {
  const c = m.config as { shaping?: Partial<ShapingConfig>; run?: { ppo?: { actionPenalty?: number; boundPenalty?: number } } };
  const ppo = c.run?.ppo;
  return { subgoals: checkpointSubgoals(m), shaping: c.shaping, penalties: ppo && { action: ppo.actionPenalty, bound: ppo.boundPenalty }, stageInObs: m.stageInObs === true };
}

/** Traces `episodes` evaluation episodes of the checkpoint in dir (a run directory or its checkpoint.json) as cairn eval runs them, and analyzes them. */
export async function analyzeRunDir(dir: string, o: AnalyzeRunOptions): Promise<RunDirAnalysis> {
  const { manifest, arrays } = await loadCheckpoint(dir);
  if (o.out !== undefined) await checkWritableFile(o.out, '--out');
  const seed = o.seed ?? evalSeed(manifest.seed);
  const { backend, reason } = await createBackend(o.backend ?? 'auto', { obsDim: manifest.obsDim, actDim: manifest.actDim, hidden: manifest.hidden, seed: manifest.seed, maxBatch: Math.min(o.episodes, 500), params: arrays.params });
  try {
    const normalizer = new RunningNormalizer(manifest.obsDim);
    normalizer.load(manifest.normalizer);
    o.log?.(`cairn analyze: ${manifest.task}, backend ${backend.kind} (${reason}), ${o.episodes} episodes from seed ${seed}, checkpoint at ${manifest.envSteps} env steps`);
    const traced = await traceEpisodes(manifest.task, backend, normalizer, o.episodes, seed, runSettings(manifest));
    const result: RunDirAnalysis = { task: manifest.task, checkpoint: path.resolve(dir), envSteps: manifest.envSteps, seed, ...analyzeEpisodes(traced.traces, traced.stageNames, traced.termNames) };
    if (o.out !== undefined) await writeAtomic(o.out, JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    backend.destroy();
  }
}

/** Evaluation episodes of the failure analyses a sweep report and a search make of their runs. */
export const LAB_ANALYSIS_EPISODES = 100;

/**
 * The analysis cached in dir/analysis.json (by `cairn analyze`, a search or a sweep) if it is of this checkpoint, the
 * evaluation's seed and `episodes` episodes, else a new one on the CPU, cached there.
 */
export async function cachedRunAnalysis(dir: string, episodes: number): Promise<RunDirAnalysis> {
  const out = path.join(dir, ANALYSIS_FILE);
  const cached = await fs.readFile(out, 'utf8').then((t) => JSON.parse(t) as RunDirAnalysis, () => null);
  // Only an analysis of this checkpoint, with the evaluation's seed and this many episodes, answers for it (the manifest
  // says which checkpoint; its weights need not be read and hashed for that).
  const manifest = cached ? await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8').then((t) => JSON.parse(t) as CheckpointManifest, () => null) : null;
  const fits = cached && manifest && cached.episodes === episodes && cached.envSteps === manifest.envSteps && cached.seed === evalSeed(manifest.seed);
  return fits ? cached : analyzeRunDir(dir, { episodes, backend: 'wasm', out });
}
