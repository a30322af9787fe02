/** `cairn rollout`: steps a task with a random or scripted policy and reports speed and success. */
import { makeEnv } from '../env.ts';
import { randomSource, rollout, scriptedSource, type ActionSource } from '../rollout.ts';
import type { ShapingMode } from '../shaping/spec.ts';
import { parseFlags } from './args.ts';
import { ProgressBar } from './progress.ts';

export const ROLLOUT_USAGE = `cairn rollout [--task push] [--envs 1024] [--steps 2000] [--workers 1] [--policy random|scripted] [--shaping sparse|dense|pbrs|bonus|gated] [--seed 0] [--json]`;

const POLICIES = ['random', 'scripted'];

/** Runs the rollout command with its arguments; returns the process exit code. */
export async function rolloutCommand(argv: string[]): Promise<number> {
  const f = parseFlags(argv, { task: 'string', envs: 'number', steps: 'number', workers: 'number', policy: 'string', shaping: 'string', seed: 'number', json: 'boolean' });
  const task = (f.task as string | undefined) ?? 'push';
  const steps = (f.steps as number | undefined) ?? 2000;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer, got ${steps}`);
  const policy = (f.policy as string | undefined) ?? 'random';
  if (!POLICIES.includes(policy)) throw new Error(`--policy must be one of ${POLICIES.join(', ')}, got '${policy}'`);
  const seed = (f.seed as number | undefined) ?? 0;
  const shaping = { mode: ((f.shaping as string | undefined) ?? 'sparse') as ShapingMode };
  const env = await makeEnv(task, { numEnvs: (f.envs as number | undefined) ?? 1024, numWorkers: (f.workers as number | undefined) ?? 1, seed, shaping });
  try {
    const source: ActionSource = policy === 'scripted' ? scriptedSource(env) : randomSource(seed);
    console.error(`cairn rollout: ${env.task.name}, ${env.numEnvs} envs, ${env.numWorkers} worker(s), ${steps} steps, policy ${source.name}, shaping ${env.shaping.mode}, physics dt ${env.physics.dt} × ${env.physics.substeps}`);
    env.takeEpisodeStats();
    const bar = new ProgressBar(steps, 'rollout');
    const stats = await rollout(env, source, steps, (done, s) => bar.update(done, `${Math.round(s.envStepsPerSec).toLocaleString('en-US')} env-steps/s, success ${fmtRate(s.successRate)}`));
    bar.finish();
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
    await env.close();
  }
}

function fmtRate(x: number): string {
  return Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}
