/** `cairn explore`: Go-Explore phase 1, building an archive of cells with sparse reward only. */
import { exploreRun } from '../explore/run.ts';
import { flag, parseFlags } from './args.ts';
import { checkOutputDir } from './paths.ts';
import { ProgressBar } from './progress.ts';

export const EXPLORE_USAGE = 'cairn explore [--task push] [--envs 256] [--steps 5e6] --out DIR [--workers 1] [--seed 0] [--explore-steps 20] [--repeat 0.9] [--fresh 0.1] [--goal-cell M] [--grip-cell M] [--save-seconds 30] [--resume] [--json]';

/** Runs `cairn explore`; returns the exit code. */
export async function exploreCommand(argv: string[]): Promise<number> {
  const f = parseFlags(argv, {
    task: 'string', envs: 'number', steps: 'number', out: 'string', workers: 'number', seed: 'number', 'explore-steps': 'number', repeat: 'number', fresh: 'number',
    'goal-cell': 'number', 'grip-cell': 'number', 'save-seconds': 'number', resume: 'boolean', json: 'boolean',
  });
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
