/** `cairn rollout`: steps a task with a random or scripted policy and reports speed and success. */
import { makeEnv } from '../env.ts';
import { policySource, randomSource, rollout, scriptedSource, type ActionSource } from '../rollout.ts';
import type { ShapingMode } from '../shaping/spec.ts';
import { flag, parseHidden } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';
import { loadCheckpoint } from '../train/checkpoint-fs.ts';
import { checkpointSubgoals } from '../train/checkpoint.ts';
import { RunningNormalizer } from '../nn/normalizer.ts';
import { policyInputDim } from '../nn/policy-input.ts';
import { createBackend, type BackendKind } from '../nn/select-backend.ts';
import type { PolicyBackend } from '../nn/backend.ts';
import { getTask } from '../../tasks/registry.ts';
import { ProgressBar } from './progress.ts';
import { EpisodeRecorder } from '../record/recorder.ts';
import { writeAtomic } from '../fs-atomic.ts';
import { checkWritableFile } from './paths.ts';
import { checkIntIn } from '../numeric.ts';

/** `cairn rollout`'s flags. */
export const ROLLOUT_SPEC: CommandSpec = {
  name: 'rollout',
  summary: 'Step a task with a random, scripted or network policy; report speed and success; record episodes.',
  flags: {
    task: { kind: 'string', help: 'task: reach, push, pickandplace, slide, stack', default: 'push' },
    envs: { kind: 'number', help: 'parallel envs N', default: 1024 },
    steps: { kind: 'number', help: 'batched steps to run', default: 2000 },
    workers: { kind: 'number', help: 'physics worker threads', default: 1 },
    policy: { kind: 'string', help: 'random, scripted or mlp', default: 'random' },
    checkpoint: { kind: 'string', help: 'run directory whose network --policy mlp runs', value: 'dir' },
    hidden: { kind: 'string', help: 'hidden widths of a fresh --policy mlp', default: '64,64', value: 'widths' },
    backend: { kind: 'string', help: 'network backend of --policy mlp: auto, wasm, webgpu', default: 'auto' },
    deterministic: { kind: 'boolean', help: 'mean action instead of a sample (--policy mlp)' },
    shaping: { kind: 'string', help: 'reward: sparse, dense, pbrs, bonus, gated, progress (CaRL)', default: 'sparse' },
    seed: { kind: 'number', help: 'episode seed (uint32)', default: 0 },
    record: { kind: 'string', help: 'write episodes to this recording file', value: 'file' },
    'record-episodes': { kind: 'number', help: 'episodes to record (with --record)', default: 16 },
    json: { kind: 'boolean', help: 'print the result as one JSON line' },
  },
};

const POLICIES = ['random', 'scripted', 'mlp'];

/** Runs the rollout command with its arguments; returns the process exit code. */
export async function rolloutCommand(argv: string[]): Promise<number> {
  const f = parseCommand(ROLLOUT_SPEC, argv);
  const task = (f.task as string | undefined) ?? 'push';
  const steps = (f.steps as number | undefined) ?? 2000;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer, got ${steps}`);
  const policy = (f.policy as string | undefined) ?? 'random';
  if (!POLICIES.includes(policy)) throw new Error(`--policy must be one of ${POLICIES.join(', ')}, got '${policy}'`);
  const seed = (f.seed as number | undefined) ?? 0;
  const shaping = { mode: ((f.shaping as string | undefined) ?? 'sparse') as ShapingMode };
  const recordFile = f.record as string | undefined;
  const recordEpisodes = (f['record-episodes'] as number | undefined) ?? 16;
  if (f['record-episodes'] !== undefined && recordFile === undefined) throw new Error('--record-episodes goes with --record FILE');
  checkIntIn('--record-episodes', recordEpisodes, 1, 100000);
  if (recordFile !== undefined) await checkWritableFile(recordFile, '--record');
  if (policy !== 'mlp' && (f.checkpoint !== undefined || f.hidden !== undefined || f.backend !== undefined || f.deterministic !== undefined)) throw new Error('--checkpoint, --hidden, --backend and --deterministic go with --policy mlp');
  const ckpt = f.checkpoint !== undefined ? await loadCheckpoint(f.checkpoint as string) : null;
  if (ckpt && f.task !== undefined && getTask(task).name !== ckpt.manifest.task) throw new Error(`--task ${task} differs from the checkpoint's task ${ckpt.manifest.task}`);
  // A checkpoint's env uses the subgoal spec it was trained with (its stages make the stage one-hot of stageInObs).
  const subgoals = ckpt ? checkpointSubgoals(ckpt.manifest) : undefined;
  const env = await makeEnv(ckpt ? ckpt.manifest.task : task, { numEnvs: (f.envs as number | undefined) ?? 1024, numWorkers: (f.workers as number | undefined) ?? 1, seed, shaping, subgoals });
  const stageInObs = ckpt?.manifest.stageInObs === true;
  let backend: PolicyBackend | null = null;
  try {
    let source: ActionSource;
    if (policy === 'mlp') {
      const hidden = ckpt ? ckpt.manifest.hidden : parseHidden(flag(f, 'hidden', '64,64'));
      const choice = await createBackend(flag(f, 'backend', 'auto') as BackendKind, { obsDim: policyInputDim(env, stageInObs), actDim: env.actDim, hidden, seed, maxBatch: env.numEnvs, params: ckpt?.arrays.params });
      backend = choice.backend;
      console.error(`cairn rollout: policy network ${policyInputDim(env, stageInObs)}-${hidden.join('-')}-${env.actDim} on backend ${backend.kind} (${choice.reason}), ${ckpt ? `weights from ${f.checkpoint}` : `random initialization (seed ${seed})`}`);
      let normalizer: RunningNormalizer | null = null;
      if (ckpt) {
        normalizer = new RunningNormalizer(ckpt.manifest.obsDim);
        normalizer.load(ckpt.manifest.normalizer);
      }
      source = policySource(backend, normalizer, env, { deterministic: flag(f, 'deterministic', false), seed, stageInObs });
    } else source = policy === 'scripted' ? scriptedSource(env) : randomSource(seed);
    console.error(`cairn rollout: ${env.task.name}, ${env.numEnvs} envs, ${env.numWorkers} worker(s), ${steps} steps, policy ${source.name}, shaping ${env.shaping.mode}, physics dt ${env.physics.dt} × ${env.physics.substeps}`);
    env.takeEpisodeStats();
    const bar = new ProgressBar(steps, 'rollout');
    const recorder = recordFile === undefined ? null : new EpisodeRecorder(env, { maxEpisodes: recordEpisodes, seed });
    const stats = await rollout(env, source, steps, (done, s) => bar.update(done, `${Math.round(s.envStepsPerSec).toLocaleString('en-US')} env-steps/s, success ${fmtRate(s.successRate)}`), recorder ?? undefined);
    bar.finish();
    if (recorder) {
      await writeAtomic(recordFile!, await recorder.encode());
      console.error(`cairn rollout: recorded ${recorder.episodes} episode(s) into ${recordFile}${recorder.episodes < recordEpisodes ? ` (fewer than ${recordEpisodes} finished in ${steps} steps)` : ''}`);
    }
    const ep = env.takeEpisodeSummary();
    const stages = Object.fromEntries(env.stageNames.map((name, k) => [name, +ep.stageReached[k].toFixed(4)]));
    const summary = {
      task: env.task.name, policy: source.name, numEnvs: env.numEnvs, numWorkers: env.numWorkers, envSteps: stats.envSteps, wallSeconds: +stats.wallSeconds.toFixed(3),
      envStepsPerSec: Math.round(stats.envStepsPerSec), physicsEnvStepsPerSec: Math.round(stats.envSteps / stats.envSeconds), episodes: stats.episodes,
      successRate: stats.episodes ? +stats.successRate.toFixed(4) : null, meanReturn: stats.episodes ? +stats.meanReturn.toFixed(3) : null,
      shaping: env.shaping.mode, meanShapedReturn: ep.episodes ? +ep.meanShapedReturn.toFixed(3) : null,
      meanTerms: ep.episodes ? Object.fromEntries(Object.entries(ep.meanTerms).map(([k, v]) => [k, +v.toFixed(3)])) : null, stageReached: ep.episodes ? stages : null,
    };
    if (f.json) console.log(JSON.stringify(summary));
    else {
      console.log(`env-steps/s: ${summary.envStepsPerSec.toLocaleString('en-US')} (physics alone ${summary.physicsEnvStepsPerSec.toLocaleString('en-US')})`);
      console.log(`success rate: ${fmtRate(stats.successRate)} over ${stats.episodes} episodes, mean sparse return ${summary.meanReturn ?? 'n/a'}, mean shaped return (${summary.shaping}) ${summary.meanShapedReturn ?? 'n/a'}`);
      if (ep.episodes) {
        console.log(`reward terms per episode: ${Object.entries(summary.meanTerms!).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        console.log(`episodes reaching each stage: ${Object.entries(stages).map(([k, v]) => `${k} ${fmtRate(v)}`).join(', ')}`);
      }
    }
    return 0;
  } finally {
    backend?.destroy();
    await env.close();
  }
}

function fmtRate(x: number): string {
  return Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}
