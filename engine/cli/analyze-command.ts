/** `cairn analyze RUN_DIR`: a failure analysis of a run's policy over its subgoal stages (engine/lab/analyze.ts). */
import path from 'node:path';
import { formatAnalysis } from '../lab/analyze.ts';
import { ANALYSIS_FILE, analyzeRunDir } from '../lab/analyze-run.ts';
import { BACKEND_KINDS, type BackendKind } from '../nn/select-backend.ts';
import { checkIntIn } from '../numeric.ts';
import { flag } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';

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

/** Runs `cairn analyze`; returns the exit code. */
export async function analyzeCommand(argv: string[]): Promise<number> {
  const f = parseCommand(ANALYZE_SPEC, argv);
  const dir = f.positional?.[0];
  if (!dir) throw new Error('analyze needs a run directory (or its checkpoint.json)');
  const backend = flag(f, 'backend', 'auto') as BackendKind;
  if (!BACKEND_KINDS.includes(backend)) throw new Error(`--backend must be one of ${BACKEND_KINDS.join(', ')}, got '${backend}'`);
  const episodes = checkIntIn('--episodes', flag(f, 'episodes', 200), 1, MAX_EPISODES);
  if (f.seed !== undefined) checkIntIn('--seed', f.seed, 0, 0xffffffff);
  const out = flag(f, 'out', path.join(dir.endsWith('.json') ? path.dirname(dir) : dir, ANALYSIS_FILE));
  const result = await analyzeRunDir(dir, { episodes, seed: f.seed as number | undefined, backend, out, log: (line) => console.error(line) });
  console.log(formatAnalysis(result));
  console.log(`wrote ${out}`);
  if (flag(f, 'json', false)) console.log(JSON.stringify(result));
  return 0;
}
