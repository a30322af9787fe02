/**
 * Learning benchmark: PPO with the same budget on Reach/sparse, Push/sparse, Push/dense, Push/pbrs and
 * Push/gated, several seeds each; success rate (training episodes, and a final evaluation with the mean
 * action) against env steps. Runs go to runs/learning/<task>-<mode>-s<seed>/ as `cairn train` writes them.
 * Mode 'go-explore' spends `--explore-share` of the budget in `cairn explore` (sparse reward only) and the rest in
 * `cairn train --shaping sparse --starts --init-log-std -1` on its archive; the budget counts both. Modes 'pbrs-stage'
 * and 'pbrs-carl' are PBRS with `--stage-in-obs` (Words as Beacons) and with `--terminate-on-infraction` (CaRL).
 *
 * Usage: node --import tsx bench/learning.ts [--steps 5e6] [--seeds 3] [--envs 256] [--parallel 2] [--only push-pbrs,...] [--tag NAME] [--explore-share 0.2] [--start-threshold 0.5] [--init-log-std -1] [--demo-share 0.5]
 * Writes bench/results/learning-<host>.json, bench/results/learning-<host>.svg and the README table.
 */
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { exitWithHelpIfAsked, parseFlags } from '../engine/cli/args.ts';
import { lineChartSvg, type Series } from '../engine/train/plot.ts';
import { cairnJson, runPool } from '../engine/lab/pool.ts';
import { gitCommit, machineInfo, markdownTable, updateReadmeTable } from './util.ts';
import { getTask } from '../tasks/registry.ts';

const CONFIGS = [
  { task: 'reach', mode: 'sparse' },
  { task: 'push', mode: 'sparse' },
  { task: 'push', mode: 'dense' },
  { task: 'push', mode: 'pbrs' },
  { task: 'push', mode: 'gated' },
  { task: 'pickandplace', mode: 'sparse' },
  { task: 'pickandplace', mode: 'pbrs' },
  { task: 'stack', mode: 'sparse' },
  { task: 'stack', mode: 'pbrs' },
  { task: 'slide', mode: 'pbrs' },
  { task: 'push', mode: 'go-explore' },
  { task: 'pickandplace', mode: 'go-explore' },
  { task: 'push', mode: 'pbrs-stage' },
  { task: 'push', mode: 'pbrs-carl' },
];

/** The `cairn train` shaping mode and extra flags of a bench mode other than go-explore. */
const TRAIN_MODES: Record<string, string[]> = {
  'pbrs-stage': ['--shaping', 'pbrs', '--stage-in-obs'],
  'pbrs-carl': ['--shaping', 'pbrs', '--terminate-on-infraction'],
};

exitWithHelpIfAsked(process.argv.slice(2), import.meta.url);
const f = parseFlags(process.argv.slice(2), { steps: 'number', seeds: 'number', envs: 'number', parallel: 'number', only: 'string', tag: 'string', 'explore-share': 'number', 'start-threshold': 'number', 'init-log-std': 'number', 'demo-share': 'number' });
/** Share of go-explore's robustify episodes started from demonstrations (cairn train --demo-share); the trainer's default when absent. */
const demoShare = f['demo-share'] as number | undefined;
/** The go-explore flags given, as the README table's command repeats them. */
const goExploreFlags = [['explore-share', f['explore-share']], ['start-threshold', f['start-threshold']], ['init-log-std', f['init-log-std']], ['demo-share', demoShare]]
  .filter(([, v]) => v !== undefined).map(([k, v]) => ` --${k} ${v}`).join('');
/** Initial log std of go-explore's robustify phase: a narrower policy (std e^-1) disturbs the demo starts less. */
const initLogStd = (f['init-log-std'] as number | undefined) ?? -1;
/** The start curriculum's threshold for go-explore runs (cairn train --start-threshold); the trainer's default when absent. */
const startThreshold = f['start-threshold'] as number | undefined;
const exploreShare = (f['explore-share'] as number | undefined) ?? 0.2;
if (!(exploreShare > 0 && exploreShare < 1)) throw new Error(`--explore-share must be in (0, 1), got ${exploreShare}`);
/** A name for a set of runs with its own budget: results go to learning-<tag>-<host>.json and the README table 'learning-<tag>'. */
const tag = typeof f.tag === 'string' ? f.tag : null;
if (tag !== null && !/^[a-z0-9-]+$/.test(tag)) throw new Error(`--tag must be lowercase letters, digits and '-', got '${tag}'`);
const steps = (f.steps as number | undefined) ?? 5e6;
const numSeeds = (f.seeds as number | undefined) ?? 3;
const envs = (f.envs as number | undefined) ?? 256;
const parallel = (f.parallel as number | undefined) ?? 2;
/** Threads per run: the cores shared among the runs at a time. */
const threads = Math.max(1, Math.floor(availableParallelism() / parallel));
const only = typeof f.only === 'string' ? f.only.split(',') : null;
const configs = CONFIGS.filter((c) => !only || only.includes(`${c.task}-${c.mode}`));
if (configs.length === 0) throw new Error(`--only matches no config (known: ${CONFIGS.map((c) => `${c.task}-${c.mode}`).join(', ')})`);

interface Job { task: string; mode: string; seed: number; dir: string }
const jobs: Job[] = configs.flatMap((c) => Array.from({ length: numSeeds }, (_, k) => ({ ...c, seed: k + 1, dir: `runs/learning/${c.task}-${c.mode}-s${k + 1}` })));

/** What `cairn train --json` and `cairn explore --json` print last. */
type CairnResult = { successRate: number; envSteps: number; wallSeconds: number };

/** Runs one training (after its exploration, for go-explore) and resolves with its result; envSteps counts both. */
async function runJob(j: Job): Promise<CairnResult> {
  // The bench's own run directories start empty (train refuses a directory that holds a run, explore an archive).
  for (const d of [j.dir, `${j.dir}-explore`]) await rm(d, { recursive: true, force: true });
  const common = ['--task', j.task, '--envs', String(envs), '--seed', String(j.seed), '--json'];
  if (j.mode !== 'go-explore') return cairnJson<CairnResult>(['train', ...common, ...(TRAIN_MODES[j.mode] ?? ['--shaping', j.mode]), '--steps', String(steps), '--out', j.dir, '--backend', 'wasm', '--threads', String(threads)], j.dir);
  const explored = await cairnJson<CairnResult>(['explore', ...common, '--steps', String(Math.round(steps * exploreShare)), '--out', `${j.dir}-explore`], `${j.dir}-explore`);
  const trained = await cairnJson<CairnResult>(['train', ...common, '--shaping', 'sparse', '--starts', `${j.dir}-explore`, '--init-log-std', String(initLogStd), ...(startThreshold === undefined ? [] : ['--start-threshold', String(startThreshold)]), ...(demoShare === undefined ? [] : ['--demo-share', String(demoShare)]), '--steps', String(steps - explored.envSteps), '--out', j.dir, '--backend', 'wasm', '--threads', String(threads)], j.dir);
  return { successRate: trained.successRate, envSteps: explored.envSteps + trained.envSteps, wallSeconds: explored.wallSeconds + trained.wallSeconds };
}

const t0 = performance.now();
const results: (Job & { successRate: number; wallSeconds: number; envSteps: number })[] = [];
await runPool(jobs, parallel, async (j) => {
  const r = await runJob(j);
  results.push({ ...j, ...r });
  console.log(`${j.task}/${j.mode} seed ${j.seed}: eval success ${(r.successRate * 100).toFixed(1)}% after ${r.envSteps} steps in ${r.wallSeconds.toFixed(0)} s`);
});

// With --only, the configs not rerun keep their results from the previous JSON of this machine, if it had the
// same budget, envs and seeds (their run directories stay in runs/learning).
const machine = machineInfo();
const jsonPath = `bench/results/learning-${tag ? `${tag}-` : ''}${machine.host}.json`;
const tableConfigs = only && existsSync(jsonPath) ? (() => {
  const prev = JSON.parse(readFileSync(jsonPath, 'utf8')) as { steps: number; envs: number; seeds: number; results: typeof results };
  if (prev.steps !== steps || prev.envs !== envs || prev.seeds !== numSeeds) return configs;
  results.push(...prev.results.filter((r) => !configs.some((c) => c.task === r.task && c.mode === r.mode)));
  return CONFIGS.filter((c) => results.some((r) => r.task === c.task && r.mode === c.mode));
})() : configs;

// Curves: training success rate per iteration, averaged over seeds at each iteration index.
const series: Series[] = [];
const curves: Record<string, { envSteps: number[]; successRate: number[] }> = {};
for (const c of tableConfigs) {
  const runs = results.filter((r) => r.task === c.task && r.mode === c.mode).map((r) => readFileSync(`${r.dir}/metrics.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { envSteps: number; successRate: number; episodes: number }));
  const len = Math.min(...runs.map((r) => r.length));
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < len; i++) {
    const ys = runs.map((r) => r[i]).filter((m) => m.episodes > 0).map((m) => m.successRate);
    if (ys.length === runs.length) { x.push(runs[0][i].envSteps); y.push(ys.reduce((a, b) => a + b, 0) / ys.length); }
  }
  curves[`${c.task}-${c.mode}`] = { envSteps: x, successRate: y };
  series.push({ name: `${c.task} ${c.mode}`, x, y });
}
mkdirSync('bench/results', { recursive: true });
const svgPath = jsonPath.replace(/\.json$/, '.svg');
writeFileSync(svgPath, lineChartSvg(series, { title: `PPO success rate (training episodes), mean of ${numSeeds} seeds, ${envs} envs`, xLabel: 'env steps', yLabel: 'success rate', yRange: [0, 1] }));
const table = tableConfigs.map((c) => {
  const rs = results.filter((r) => r.task === c.task && r.mode === c.mode).sort((a, b) => a.seed - b.seed);
  const mean = rs.reduce((a, r) => a + r.successRate, 0) / rs.length;
  return [getTask(c.task).name, c.mode, rs.map((r) => `${(r.successRate * 100).toFixed(1)}%`).join(' / '), `${(mean * 100).toFixed(1)}%`, `${(rs.reduce((a, r) => a + r.wallSeconds, 0) / rs.length / 60).toFixed(1)} min`];
});
const out = { benchmark: 'learning', date: new Date().toISOString(), commit: gitCommit(), machine, steps, envs, seeds: numSeeds, parallel, results, curves, wallSeconds: (performance.now() - t0) / 1000 };
writeFileSync(jsonPath, JSON.stringify(out, null, 2) + '\n');
const md = markdownTable(['task', 'reward', 'eval success per seed (500 episodes, mean action)', 'mean', 'wall time per run'], table) +
  `\n\nBudget ${steps.toExponential(0)} env steps per run, ${envs} envs, WASM backend, ${parallel} runs at a time (${threads} thread${threads > 1 ? 's' : ''} each) on ${machine.cpu} (${machine.cores} cores), commit ${out.commit}; ` +
  `\`node --import tsx bench/learning.ts --steps ${steps} --seeds ${numSeeds} --envs ${envs} --parallel ${parallel}${only ? ` --only ${only.join(',')}` : ''}${tag ? ` --tag ${tag}` : ''}${goExploreFlags}\`. Curves: [${svgPath}](${svgPath}).`;
if (updateReadmeTable(tag ? `learning-${tag}` : 'learning', md)) console.log('updated the README table');
console.log(`wrote ${jsonPath} and ${svgPath}`);
