/** `cairn analyze RUN_DIR`: a failure analysis of a run's policy over its subgoal stages (engine/lab/analyze.ts). */
import path from 'node:path';
import { writeAtomic } from '../fs-atomic.ts';
import { analyzeEpisodes, formatAnalysis } from '../lab/analyze.ts';
import { traceEpisodes, type TraceOptions } from '../lab/trace.ts';
import { RunningNormalizer } from '../nn/normalizer.ts';
import { BACKEND_KINDS, createBackend, type BackendKind } from '../nn/select-backend.ts';
import { checkIntIn } from '../numeric.ts';
import type { ShapingConfig } from '../shaping/spec.ts';
import { loadCheckpoint } from '../train/checkpoint-fs.ts';
import type { CheckpointManifest } from '../train/checkpoint.ts';
import { evalSeed } from '../train/evaluate.ts';
import { flag } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';
import { checkWritableFile } from './paths.ts';

/** Name of the analysis file in a run directory. */
export const ANALYSIS_FILE = 'analysis.json';
/** Most episodes one analysis traces (each is kept step by step in memory). */
const MAX_EPISODES = 100_000;

/** `cairn analyze`'s flags. */
export const ANALYZE_SPEC: CommandSpec = {
  name: 'analyze',
  summary: 'Failure analysis of a run: how its episodes reach, lose and stall at each subgoal stage.',
  positional: { name: 'RUN_DIR', help: 'run directory (or its checkpoint.json)' },
  flags: {
    episodes: { kind: 'number', help: 'evaluation episodes to trace, with the mean action', default: 200 },
    seed: { kind: 'number', help: 'episode seed (uint32)', default: 'the run\'s seed + 0x9e3779b9, as cairn eval' },
    backend: { kind: 'string', help: 'network backend: auto, wasm, webgpu', default: 'auto' },
    json: { kind: 'boolean', help: 'also print the analysis as one JSON line at the end' },
    out: { kind: 'string', help: 'file the analysis is written to as JSON', default: `RUN_DIR/${ANALYSIS_FILE}`, value: 'file' },
  },
};

/** The run's subgoal spec, shaping config, penalty coefficients and policy input from its manifest (absent: the env's defaults). */
function runSettings(m: CheckpointManifest): TraceOptions {
  const c = m.config as { subgoals?: unknown; shaping?: Partial<ShapingConfig>; run?: { ppo?: { actionPenalty?: number; boundPenalty?: number } } };
  const ppo = c.run?.ppo;
  return { subgoals: c.subgoals, shaping: c.shaping, penalties: ppo && { action: ppo.actionPenalty, bound: ppo.boundPenalty }, stageInObs: m.stageInObs === true };
}

/** Runs `cairn analyze`; returns the exit code. */
export async function analyzeCommand(argv: string[]): Promise<number> {
  const f = parseCommand(ANALYZE_SPEC, argv);
  const dir = f.positional?.[0];
  if (!dir) throw new Error('analyze needs a run directory (or its checkpoint.json)');
  const backendKind = flag(f, 'backend', 'auto') as BackendKind;
  if (!BACKEND_KINDS.includes(backendKind)) throw new Error(`--backend must be one of ${BACKEND_KINDS.join(', ')}, got '${backendKind}'`);
  const episodes = checkIntIn('--episodes', flag(f, 'episodes', 200), 1, MAX_EPISODES);
  if (f.seed !== undefined) checkIntIn('--seed', f.seed, 0, 0xffffffff);
  const { manifest, arrays } = await loadCheckpoint(dir);
  const out = flag(f, 'out', path.join(dir.endsWith('.json') ? path.dirname(dir) : dir, ANALYSIS_FILE));
  await checkWritableFile(out, '--out');
  const seed = flag(f, 'seed', evalSeed(manifest.seed));
  const { backend, reason } = await createBackend(backendKind, { obsDim: manifest.obsDim, actDim: manifest.actDim, hidden: manifest.hidden, seed: manifest.seed, maxBatch: Math.min(episodes, 500), params: arrays.params });
  try {
    const normalizer = new RunningNormalizer(manifest.obsDim);
    normalizer.load(manifest.normalizer);
    console.error(`cairn analyze: ${manifest.task}, backend ${backend.kind} (${reason}), ${episodes} episodes from seed ${seed}, checkpoint at ${manifest.envSteps} env steps`);
    const traced = await traceEpisodes(manifest.task, backend, normalizer, episodes, seed, runSettings(manifest));
    const analysis = analyzeEpisodes(traced.traces, traced.stageNames, traced.termNames);
    const result = { task: manifest.task, checkpoint: path.resolve(dir), envSteps: manifest.envSteps, seed, ...analysis };
    await writeAtomic(out, JSON.stringify(result, null, 2) + '\n');
    console.log(formatAnalysis(analysis));
    console.log(`wrote ${out}`);
    if (flag(f, 'json', false)) console.log(JSON.stringify(result));
    return 0;
  } finally {
    backend.destroy();
  }
}
