/** `cairn train` and `cairn eval`: PPO training runs and evaluation of saved runs. */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { SHAPING_MODES, type ShapingMode } from '../shaping/spec.ts';
import { validateDomainRandomization } from '../domain-randomization.ts';
import { loadCheckpoint } from '../train/checkpoint-fs.ts';
import { evaluatePolicy } from '../train/evaluate.ts';
import { RunningNormalizer } from '../train/normalizer.ts';
import { trainRun } from '../train/run.ts';
import type { IterationMetrics } from '../train/ppo.ts';
import { BACKEND_KINDS, createBackend, type BackendKind } from '../train/select-backend.ts';
import { flag, parseFlags, parseHidden } from './args.ts';
import { ProgressBar } from './progress.ts';

export const TRAIN_USAGE = 'cairn train [--task push] [--shaping pbrs] [--weight 20] [--envs 256] [--steps 5e6] [--seed 1] [--workers 1] [--out runs/NAME] [--backend auto|wasm|webgpu] [--threads min(2, cores)] [--hidden 64,64] [--lr 1e-3] [--num-steps 16] [--epochs 4] [--minibatches 4] [--gamma 0.98 (Reach 0.9)] [--gae-lambda 0.9] [--ent-coef 0] [--init-log-std 0] [--value-out-gain 1] [--action-penalty 0] [--bound-penalty 1] [--critic auto|shaped|task] [--norm-adv true] [--subgoals SPEC.json] [--dr RANGES.json] [--eval-episodes 500] [--checkpoint-seconds 30] [--stop-after ITERATIONS] [--starts EXPLORE_DIR] [--demo-share 0.5] [--resume] [--overwrite] [--json]';
/** Shaping weight w of `cairn train` (Φ in [0, w·K]); 20 gave Push with PBRS ≥ 90% in 5M steps (README, Learning). */
export const DEFAULT_TRAIN_WEIGHT = 20;
export const EVAL_USAGE = 'cairn eval RUN_DIR [--episodes 500] [--backend auto|wasm|webgpu] [--seed S] [--json]';

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`);

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return v;
}

/** Reads the JSON file given to --flagName (a subgoal spec or DR ranges; validated later, where its meaning is known). */
async function readJsonFlag(flagName: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`--${flagName}: cannot read ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`--${flagName}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** Runs `cairn train`; returns the exit code. */
export async function trainCommand(argv: string[]): Promise<number> {
  const f = parseFlags(argv, {
    task: 'string', shaping: 'string', weight: 'number', envs: 'number', steps: 'number', seed: 'number', workers: 'number', out: 'string', backend: 'string', threads: 'number',
    hidden: 'string', lr: 'number', 'num-steps': 'number', epochs: 'number', minibatches: 'number', gamma: 'number', 'ent-coef': 'number',
    'eval-episodes': 'number', resume: 'boolean', overwrite: 'boolean', json: 'boolean', 'checkpoint-seconds': 'number', 'stop-after': 'number', 'init-log-std': 'number', 'norm-adv': 'string', subgoals: 'string', dr: 'string', 'value-out-gain': 'number', 'action-penalty': 'number', critic: 'string', 'gae-lambda': 'number', 'bound-penalty': 'number', starts: 'string', 'demo-share': 'number',
  });
  const task = flag(f, 'task', 'push');
  const shaping = flag(f, 'shaping', 'pbrs') as ShapingMode;
  if (!SHAPING_MODES.includes(shaping)) throw new Error(`--shaping must be one of ${SHAPING_MODES.join(', ')}, got '${shaping}'`);
  const backend = flag(f, 'backend', 'auto') as BackendKind;
  if (!BACKEND_KINDS.includes(backend)) throw new Error(`--backend must be one of ${BACKEND_KINDS.join(', ')}, got '${backend}'`);
  const hidden = parseHidden(flag(f, 'hidden', '64,64'));
  const totalSteps = flag(f, 'steps', 5e6);
  if (!(Number.isFinite(totalSteps) && totalSteps >= 1)) throw new Error(`--steps must be a positive number, got ${totalSteps}`);
  const seed = flag(f, 'seed', 1);
  const ppo: Record<string, unknown> & { hp: Record<string, unknown> } = { hp: {} };
  if (f.lr !== undefined) ppo.hp.lr = f.lr;
  if (f['ent-coef'] !== undefined) ppo.hp.entCoef = f['ent-coef'];
  if (f['num-steps'] !== undefined) ppo.numSteps = positiveInt('num-steps', f['num-steps'] as number);
  if (f.epochs !== undefined) ppo.updateEpochs = positiveInt('epochs', f.epochs as number);
  if (f.minibatches !== undefined) ppo.numMinibatches = positiveInt('minibatches', f.minibatches as number);
  if (f.gamma !== undefined) ppo.gamma = f.gamma;
  if (f['gae-lambda'] !== undefined) ppo.gaeLambda = f['gae-lambda'];
  if (f['action-penalty'] !== undefined) ppo.actionPenalty = f['action-penalty'];
  if (f['bound-penalty'] !== undefined) ppo.boundPenalty = f['bound-penalty'];
  if (f.critic !== undefined) ppo.criticReward = f.critic;
  if (f['norm-adv'] !== undefined) {
    if (f['norm-adv'] !== 'true' && f['norm-adv'] !== 'false') throw new Error(`--norm-adv must be true or false, got '${f['norm-adv']}'`);
    ppo.hp.normAdv = f['norm-adv'] === 'true';
  }
  if (f['demo-share'] !== undefined && f.starts === undefined) throw new Error('--demo-share goes with --starts EXPLORE_DIR');
  const outDir = flag(f, 'out', path.join('runs', `${task.toLowerCase()}-${shaping}-s${seed}`));
  const json = flag(f, 'json', false);
  let bar: ProgressBar | null = null;
  let last: IterationMetrics | null = null;
  const result = await trainRun({
    task, shaping, shapingWeight: flag(f, 'weight', DEFAULT_TRAIN_WEIGHT), numEnvs: flag(f, 'envs', 256), numWorkers: flag(f, 'workers', 1), totalSteps, seed, outDir, backend, threads: positiveInt('threads', flag(f, 'threads', backend === 'webgpu' ? 1 : Math.min(2, availableParallelism()))), hidden,
    ppo, evalEpisodes: positiveInt('eval-episodes', flag(f, 'eval-episodes', 500)), resume: flag(f, 'resume', false), overwrite: flag(f, 'overwrite', false), checkpointSeconds: flag(f, 'checkpoint-seconds', 30),
    initLogStd: f['init-log-std'] as number | undefined,
    valueOutGain: f['value-out-gain'] as number | undefined,
    subgoals: f.subgoals === undefined ? undefined : await readJsonFlag('subgoals', f.subgoals as string),
    domainRandomization: f.dr === undefined ? undefined : validateDomainRandomization(await readJsonFlag('dr', f.dr as string)),
    stopAfter: f['stop-after'] === undefined ? undefined : positiveInt('stop-after', f['stop-after'] as number),
    starts: f.starts as string | undefined,
    curriculum: f['demo-share'] === undefined ? undefined : { demoShare: f['demo-share'] as number },
  }, (info) => {
    console.error(`cairn train: ${task}, ${shaping} shaping, backend ${info.backend} (${info.reason}), ${info.iterations} iterations${info.startIteration ? `, resuming at ${info.startIteration}` : ''}, out ${outDir}`);
    if (info.cleaned.length) console.error(`cairn train: removed ${info.cleaned.length} file(s) an interrupted write left behind (${info.cleaned.join(', ')})`);
    if (info.finished) console.error(`cairn train: the run in ${outDir} is already finished; evaluating its checkpoint again`);
    if (info.demos) console.error(`cairn train: ${info.demos.kept} demonstration(s) from ${f.starts} reproduce a success that holds (${info.demos.failed} did not); episodes start along them, moving back as they succeed`);
    bar = new ProgressBar(info.iterations, 'train');
  }, (m) => {
    // Episodes end every 50 steps, not every iteration: show the latest iteration that finished some.
    if (m.episodes > 0) last = m;
    const e = last;
    const starts = m.starts ? `, demo start ${m.starts.back} steps back` : '';
    bar!.update(m.iteration, `${fmt(m.envSteps)} steps, ${fmt(m.sps)} env-steps/s, success ${e ? pct(e.successRate) : 'n/a'}, return ${e ? e.sparseReturn.toFixed(1) : 'n/a'} (shaped ${e ? e.shapedReturn.toFixed(1) : 'n/a'})${starts}`);
  });
  (bar as ProgressBar | null)?.finish();
  if (json) console.log(JSON.stringify({ successRate: result.successRate, envSteps: result.envSteps, wallSeconds: +result.wallSeconds.toFixed(1), checkpoint: result.checkpoint }));
  else {
    console.log(`learned success rate: ${pct(result.successRate)} over ${result.eval.episodes} evaluation episodes (mean action)`);
    console.log(`${fmt(result.envSteps)} env steps in ${result.wallSeconds.toFixed(0)} s; checkpoint ${result.checkpoint}; learning curve ${result.plot}`);
  }
  return 0;
}

/** Runs `cairn eval RUN_DIR`; returns the exit code. */
export async function evalCommand(argv: string[]): Promise<number> {
  const f = parseFlags(argv, { episodes: 'number', backend: 'string', seed: 'number', json: 'boolean' }, 1);
  const dir = f.positional?.[0];
  if (!dir) throw new Error('eval needs a run directory (or its checkpoint.json)');
  const { manifest, arrays } = await loadCheckpoint(dir);
  const backendKind = flag(f, 'backend', 'auto') as BackendKind;
  const episodes = positiveInt('episodes', flag(f, 'episodes', 500));
  const { backend, reason } = await createBackend(backendKind, { obsDim: manifest.obsDim, actDim: manifest.actDim, hidden: manifest.hidden, seed: manifest.seed, maxBatch: Math.min(episodes, 500), params: arrays.params });
  try {
    const normalizer = new RunningNormalizer(manifest.obsDim);
    normalizer.load(manifest.normalizer);
    console.error(`cairn eval: ${manifest.task}, backend ${backend.kind} (${reason}), ${episodes} episodes, checkpoint at ${manifest.envSteps} env steps`);
    const t0 = performance.now();
    const seed = flag(f, 'seed', (manifest.seed + 0x9e3779b9) >>> 0);
    const r = await evaluatePolicy(manifest.task, backend, normalizer, episodes, seed, { subgoals: (manifest.config as { subgoals?: unknown }).subgoals });
    if (flag(f, 'json', false)) console.log(JSON.stringify({ successRate: r.successRate, envSteps: r.envSteps, wallSeconds: +((performance.now() - t0) / 1000).toFixed(2), checkpoint: path.resolve(dir) }));
    else console.log(`success rate: ${pct(r.successRate)} over ${r.episodes} episodes (mean action), mean sparse return ${r.meanReturn.toFixed(2)}`);
    return 0;
  } finally {
    backend.destroy();
  }
}
