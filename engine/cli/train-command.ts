/** `cairn train` and `cairn eval`: PPO training runs and evaluation of saved runs. */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { SHAPING_MODES, type ShapingMode } from '../shaping/spec.ts';
import { validateDomainRandomization } from '../domain-randomization.ts';
import { loadCheckpoint } from '../train/checkpoint-fs.ts';
import { checkpointSubgoals } from '../train/checkpoint.ts';
import { evalSeed, evaluatePolicy } from '../train/evaluate.ts';
import { RunningNormalizer } from '../nn/normalizer.ts';
import { trainRun } from '../train/run.ts';
import { DEFAULT_TRAIN_WEIGHT } from '../train/session.ts';
import type { IterationMetrics } from '../train/ppo.ts';
import { BACKEND_KINDS, createBackend, type BackendKind } from '../nn/select-backend.ts';
import { flag, readJsonFlag, parseHidden } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';
import { ProgressBar } from './progress.ts';

/** `cairn train`'s flags. */
export const TRAIN_SPEC: CommandSpec = {
  name: 'train',
  summary: 'Train PPO on a task into a run directory (metrics, checkpoints, curve, evaluation).',
  flags: {
    task: { kind: 'string', help: 'task: reach, push, pickandplace, slide, stack', default: 'push' },
    shaping: { kind: 'string', help: 'reward: sparse, dense, pbrs, bonus, gated, progress (CaRL)', default: 'pbrs' },
    weight: { kind: 'number', help: 'shaping weight w (Φ in [0, w·stages])', default: 20 },
    envs: { kind: 'number', help: 'parallel envs N', default: 256 },
    steps: { kind: 'number', help: 'env steps to train for (rounded up to whole iterations)', default: '5e6' },
    seed: { kind: 'number', help: 'seed of envs, init and sampling (uint32)', default: 1 },
    workers: { kind: 'number', help: 'physics worker threads', default: 1 },
    out: { kind: 'string', help: 'run directory', default: 'runs/TASK-SHAPING-sSEED', value: 'dir' },
    backend: { kind: 'string', help: 'network backend: auto, wasm, webgpu', default: 'auto' },
    threads: { kind: 'number', help: 'threads of the WASM backend', default: 'min(2, cores)' },
    hidden: { kind: 'string', help: 'hidden layer widths', default: '64,64', value: 'widths' },
    lr: { kind: 'number', help: 'Adam learning rate (annealed linearly)', default: '1e-3 (Push 2e-3)' },
    'num-steps': { kind: 'number', help: 'rollout length T per iteration', default: 16 },
    epochs: { kind: 'number', help: 'PPO epochs per iteration', default: 4 },
    minibatches: { kind: 'number', help: 'minibatches per epoch', default: '4 (Push 8)' },
    gamma: { kind: 'number', help: 'discount γ (also the shaping γ)', default: '0.98 (Reach 0.9)' },
    'gae-lambda': { kind: 'number', help: 'GAE λ', default: 0.9 },
    'ent-coef': { kind: 'number', help: 'entropy coefficient', default: '0 (Push 0.05, PickAndPlace 0.01, Stack 0.03)' },
    'init-log-std': { kind: 'number', help: 'initial log std of the policy, in [-5, 2]', default: 0 },
    'value-out-gain': { kind: 'number', help: 'gain of the value output layer init', default: 1 },
    'action-penalty': { kind: 'number', help: 'reward − c·|a|² of the raw sample', default: 0 },
    'bound-penalty': { kind: 'number', help: 'reward − c·Σ max(|a| − 1, 0)² of the raw sample', default: 1 },
    critic: { kind: 'string', help: 'critic reward: auto, shaped, task', default: 'auto' },
    'stage-in-obs': { kind: 'boolean', help: 'append the latched subgoal stage (one-hot) to the policy input (Words as Beacons); --stage-in-obs=false turns a task default off', default: 'false (Stack true)' },
    'terminate-on-infraction': { kind: 'boolean', help: 'end a training episode where an object falls off the table (CaRL), with the forgone sparse return as its penalty' },
    'norm-adv': { kind: 'string', help: 'normalize advantages per minibatch: true, false', default: 'true' },
    subgoals: { kind: 'string', help: 'subgoal spec JSON replacing the task\'s own', value: 'file' },
    dr: { kind: 'string', help: 'domain-randomization ranges JSON', value: 'file' },
    'eval-episodes': { kind: 'number', help: 'episodes of the final evaluation (mean action)', default: 500 },
    'checkpoint-seconds': { kind: 'number', help: 'seconds between checkpoints', default: 30 },
    'stop-after': { kind: 'number', help: 'stop after this many iterations (--resume goes on)', value: 'iterations' },
    starts: { kind: 'string', help: 'Go-Explore directory: episodes also start along its successes', value: 'dir' },
    'demo-share': { kind: 'number', help: 'share of episodes started from demonstrations until the curriculum completes (with --starts)', default: 0.8 },
    'start-threshold': { kind: 'number', help: 'success rate of demo-started episodes that moves their start back (with --starts)', default: 0.5 },
    resume: { kind: 'boolean', help: 'continue the run in --out from its checkpoint' },
    overwrite: { kind: 'boolean', help: 'replace the run in --out (its run files only)' },
    json: { kind: 'boolean', help: 'print the result as one JSON line' },
  },
};
/** `cairn eval`'s flags. */
export const EVAL_SPEC: CommandSpec = {
  name: 'eval',
  summary: 'Evaluate a run\'s checkpoint with the mean action.',
  positional: { name: 'RUN_DIR', help: 'run directory (or its checkpoint.json)' },
  flags: {
    episodes: { kind: 'number', help: 'episodes to run', default: 500 },
    backend: { kind: 'string', help: 'network backend: auto, wasm, webgpu', default: 'auto' },
    seed: { kind: 'number', help: 'episode seed', default: 'the run\'s seed + 0x9e3779b9' },
    json: { kind: 'boolean', help: 'print the result as one JSON line' },
  },
};

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`);

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return v;
}

/** Runs `cairn train`; returns the exit code. */
export async function trainCommand(argv: string[]): Promise<number> {
  const f = parseCommand(TRAIN_SPEC, argv);
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
  if (f['stage-in-obs'] !== undefined) ppo.stageInObs = f['stage-in-obs'];
  if (f['norm-adv'] !== undefined) {
    if (f['norm-adv'] !== 'true' && f['norm-adv'] !== 'false') throw new Error(`--norm-adv must be true or false, got '${f['norm-adv']}'`);
    ppo.hp.normAdv = f['norm-adv'] === 'true';
  }
  if ((f['demo-share'] !== undefined || f['start-threshold'] !== undefined) && f.starts === undefined) throw new Error(`--${f['demo-share'] !== undefined ? 'demo-share' : 'start-threshold'} goes with --starts EXPLORE_DIR`);
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
    terminateOnInfraction: f['terminate-on-infraction'] as boolean | undefined,
    domainRandomization: f.dr === undefined ? undefined : validateDomainRandomization(await readJsonFlag('dr', f.dr as string)),
    stopAfter: f['stop-after'] === undefined ? undefined : positiveInt('stop-after', f['stop-after'] as number),
    starts: f.starts as string | undefined,
    curriculum: f['demo-share'] === undefined && f['start-threshold'] === undefined ? undefined : {
      ...(f['demo-share'] !== undefined ? { demoShare: f['demo-share'] as number } : {}),
      ...(f['start-threshold'] !== undefined ? { threshold: f['start-threshold'] as number } : {}),
    },
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
  const f = parseCommand(EVAL_SPEC, argv);
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
    const seed = flag(f, 'seed', evalSeed(manifest.seed));
    const r = await evaluatePolicy(manifest.task, backend, normalizer, episodes, seed, { subgoals: checkpointSubgoals(manifest), stageInObs: manifest.stageInObs === true });
    if (flag(f, 'json', false)) console.log(JSON.stringify({ successRate: r.successRate, goalProgress: +r.goalProgress.toFixed(4), envSteps: r.envSteps, wallSeconds: +((performance.now() - t0) / 1000).toFixed(2), checkpoint: path.resolve(dir) }));
    else console.log(`success rate: ${pct(r.successRate)} over ${r.episodes} episodes (mean action), mean sparse return ${r.meanReturn.toFixed(2)}, goal progress ${r.goalProgress.toFixed(2)} (1: at the goal, 0: unmoved)`);
    return 0;
  } finally {
    backend.destroy();
  }
}
