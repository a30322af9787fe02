/** `cairn explore`: Go-Explore phase 1, building an archive of cells with sparse reward only. */
import { exploreRun } from '../explore/run.ts';
import { flag } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';
import { checkOutputDir } from './paths.ts';
import { ProgressBar } from './progress.ts';

/** `cairn explore`'s flags. */
export const EXPLORE_SPEC: CommandSpec = {
  name: 'explore',
  summary: 'Go-Explore phase 1: build an archive of cells and successful trajectories with the sparse reward only.',
  flags: {
    task: { kind: 'string', help: 'task: push, pickandplace, ...', default: 'push' },
    envs: { kind: 'number', help: 'parallel envs N', default: 256 },
    steps: { kind: 'number', help: 'env steps to explore for', default: '5e6' },
    out: { kind: 'string', help: 'archive directory (required)', value: 'dir' },
    workers: { kind: 'number', help: 'physics worker threads', default: 1 },
    seed: { kind: 'number', help: 'seed (uint32)', default: 0 },
    'explore-steps': { kind: 'number', help: 'random steps after each return', default: 20 },
    repeat: { kind: 'number', help: 'probability of repeating the last action', default: 0.9 },
    fresh: { kind: 'number', help: 'probability of a fresh episode instead of a return', default: 0.1 },
    'goal-cell': { kind: 'number', help: 'cell size of goal-relative positions, m', value: 'metres' },
    'grip-cell': { kind: 'number', help: 'cell size of the grip position, m', value: 'metres' },
    'save-seconds': { kind: 'number', help: 'seconds between archive saves', default: 30 },
    resume: { kind: 'boolean', help: 'continue the archive in --out' },
    json: { kind: 'boolean', help: 'print the result as one JSON line' },
  },
};

/** Runs `cairn explore`; returns the exit code. */
export async function exploreCommand(argv: string[]): Promise<number> {
  const f = parseCommand(EXPLORE_SPEC, argv);
  const out = f.out as string | undefined;
  if (out === undefined) throw new Error('--out DIR is required (the archive is written there)');
  await checkOutputDir(out, '--out');
  const totalSteps = flag(f, 'steps', 5e6);
  const cellSpec: Record<string, number> = {};
  if (f['goal-cell'] !== undefined) cellSpec.goalCell = f['goal-cell'] as number;
  if (f['grip-cell'] !== undefined) cellSpec.gripCell = f['grip-cell'] as number;
  const bar = new ProgressBar(totalSteps, 'explore');
  // The rate counts the steps of this invocation only (a resumed archive starts at its earlier envSteps).
  let since: { t: number; steps: number } | null = null;
  const r = await exploreRun({
    task: flag(f, 'task', 'push'), numEnvs: flag(f, 'envs', 256), numWorkers: flag(f, 'workers', 1), seed: flag(f, 'seed', 0), cellSpec, exploreSteps: flag(f, 'explore-steps', 20),
    repeatProb: flag(f, 'repeat', 0.9), freshProb: flag(f, 'fresh', 0.1), totalSteps, outDir: out, resume: flag(f, 'resume', false), saveSeconds: flag(f, 'save-seconds', 30),
  }, (ex) => {
    since ??= { t: performance.now(), steps: ex.envSteps };
    const dt = (performance.now() - since.t) / 1000;
    const sps = dt > 0 ? (ex.envSteps - since.steps) / dt : 0;
    bar.update(ex.envSteps, `cells ${ex.archive.numCells}, success cells ${ex.archive.numSuccessCells}, ${Math.round(sps).toLocaleString('en-US')} env-steps/s`);
  });
  bar.finish();
  if (f.json) console.log(JSON.stringify({ cells: r.cells, successCells: r.successCells, envSteps: r.envSteps, wallSeconds: +r.wallSeconds.toFixed(2) }));
  else console.log(`explored ${r.envSteps.toLocaleString('en-US')} env steps in ${r.wallSeconds.toFixed(1)} s: ${r.cells} cells, ${r.successCells} success cells, ${r.successTrajectories} successful trajectories kept; archive in ${out}`);
  return 0;
}
