/**
 * Physics benchmark (warm-up, then medians of repeats; JSON to bench/results/): the peer's scripted push driven through cairn's API on Push,
 * success rate over seeded episodes next to control env-steps/s, for several batch sizes, 1 vs 2
 * workers, a sweep of physics settings, every other task's scripted controller (tasks/scripted.ts) at
 * N = 256 and 1024, and mujoco-js on the peer push and pick scenes in the same run; then rounds of Push at N = 256,
 * Push at N = 1024 and mujoco-js push back to back, whose per-round ratios give the paired speed-ups.
 *
 * Usage: node --import tsx bench/physics.ts [--quick] [--out bench/results/physics-<host>.json]
 * Env-steps/s = N × timed steps / seconds spent inside env.step (controller time excluded); warm-up excluded.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { makeEnv, type PhysicsConfig } from '../index.ts';
import { DEFAULT_PHYSICS } from '../engine/physics/config.ts';
import { RAPIER_BUILD } from '../engine/physics/rapier.ts';
import { scriptedController } from '../tasks/scripted.ts';
import { getTask } from '../tasks/registry.ts';
import { exitWithHelpIfAsked, parseFlags } from '../engine/cli/args.ts';
import { gitCommit, machineInfo, markdownTable, median, updateReadmeTable } from './util.ts';

interface PushRun {
  task: string;
  numEnvs: number;
  numWorkers: number;
  physics: PhysicsConfig;
  episodes: number;
  successRate: number;
  envStepsPerSec: number;
  /** Median over repeats of the timed section, env-steps/s. */
  repeats: number[];
}

/** Runs a task's scripted controller: warm-up steps, then `repeats` timed sections of whole episodes, minEpisodes episodes in all. */
async function runScripted(task: string, numEnvs: number, numWorkers: number, physics: Partial<PhysicsConfig>, minEpisodes: number, warmSteps: number, repeats: number): Promise<PushRun> {
  const env = await makeEnv(task, { numEnvs, numWorkers, seed: 2026, physics });
  const ctl = scriptedController(env.task.name, numEnvs);
  const act = new Float32Array(numEnvs * 4);
  let r = env.reset();
  const stepOnce = () => {
    ctl.act(r.obs, r.desiredGoal, env.batch.episodeStep, act);
    const t0 = performance.now();
    r = env.step(act);
    return performance.now() - t0;
  };
  for (let t = 0; t < warmSteps; t++) stepOnce();
  // Restart episodes so every counted episode is whole.
  r = env.reset();
  const len = getTask(task).maxEpisodeSteps;
  const stepsPerRepeat = len * Math.max(1, Math.ceil(minEpisodes / numEnvs / repeats));
  let episodes = 0, successes = 0;
  const rates: number[] = [];
  for (let rep = 0; rep < repeats; rep++) {
    let ms = 0;
    for (let t = 0; t < stepsPerRepeat; t++) {
      ms += stepOnce();
      for (let i = 0; i < numEnvs; i++) if (r.truncated[i]) { episodes++; successes += r.success[i]; }
    }
    rates.push((numEnvs * stepsPerRepeat) / (ms / 1000));
  }
  await env.close();
  return { task: env.task.name, numEnvs, numWorkers, physics: env.physics, episodes, successRate: successes / episodes, envStepsPerSec: median(rates), repeats: rates.map(Math.round) };
}

/** Runs a mujoco-js peer script (bench/peers/mujoco-push.mjs or mujoco-pick.mjs) in a child process and returns its JSON line. */
function runMujoco(script: string, numEnvs: number, episodes: number): Record<string, unknown> {
  const res = spawnSync(process.execPath, [new URL(`./peers/${script}`, import.meta.url).pathname, String(numEnvs), String(episodes), '1'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`mujoco-js peer failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!);
}

exitWithHelpIfAsked(process.argv.slice(2), import.meta.url);
const flags = parseFlags(process.argv.slice(2), { quick: 'boolean', out: 'string' });
const quick = flags.quick === true;
const minEpisodes = quick ? 64 : 256;
const repeats = quick ? 2 : 3;
const warm = quick ? 100 : 300;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
/** The settings a row ran with: step, substeps, solver iterations and contact prediction. */
const physicsLabel = (p: PhysicsConfig) => `dt ${p.dt} × ${p.substeps}, ${p.solverIterations} it, prediction ${p.contactPrediction * 1000} mm`;

console.log(`cairn physics benchmark (${quick ? 'quick' : 'full'}): ${RAPIER_BUILD}, default physics ${JSON.stringify(DEFAULT_PHYSICS)}`);
const sizes: PushRun[] = [];
for (const n of [1, 64, 256, 1024]) {
  const run = await runScripted('Push', n, 1, {}, minEpisodes, warm, repeats);
  sizes.push(run);
  console.log(`N=${n} workers=1: ${fmt(run.envStepsPerSec)} env-steps/s, success ${(run.successRate * 100).toFixed(1)}% of ${run.episodes}`);
}
const workers: PushRun[] = [];
for (const w of [1, 2]) {
  const run = w === 1 ? sizes[sizes.length - 1] : await runScripted('Push', 1024, w, {}, minEpisodes, warm, repeats);
  workers.push(run);
  if (w > 1) console.log(`N=1024 workers=${w}: ${fmt(run.envStepsPerSec)} env-steps/s, success ${(run.successRate * 100).toFixed(1)}% of ${run.episodes}`);
}
// The settings sweep at N = 256: Push over step size, solver iterations and contact prediction, and Stack (the task
// whose contacts a weaker solver loses first: a cube resting on a cube) over solver iterations and contact prediction.
const sweep: PushRun[] = [];
for (const [task, physics] of [
  ['Push', { dt: 0.01, substeps: 4, solverIterations: 1 }],
  ['Push', { dt: 0.01, substeps: 4, solverIterations: 2 }],
  ['Push', { dt: 0.01, substeps: 4, solverIterations: 4 }],
  ['Push', { dt: 0.01, substeps: 4, solverIterations: 8 }],
  ['Push', { dt: 0.005, substeps: 8, solverIterations: 2 }],
  ['Push', { dt: 0.002, substeps: 20, solverIterations: 2 }],
  ['Push', { contactPrediction: 0.02 }],
  ['Push', { contactPrediction: 0.005 }],
  ['Stack', { dt: 0.01, substeps: 4, solverIterations: 1 }],
  ['Stack', { dt: 0.01, substeps: 4, solverIterations: 2 }],
  ['Stack', { dt: 0.01, substeps: 4, solverIterations: 4 }],
  ['Stack', { contactPrediction: 0.02 }],
  ['Stack', { contactPrediction: 0.005 }],
] as const) {
  const run = await runScripted(task, 256, 1, physics, minEpisodes, warm, repeats);
  sweep.push(run);
  console.log(`sweep ${task} N=256 ${JSON.stringify(physics)}: ${fmt(run.envStepsPerSec)} env-steps/s, success ${(run.successRate * 100).toFixed(1)}%`);
}
const tasks: PushRun[] = [];
for (const task of ['PickAndPlace', 'Slide', 'Stack']) {
  for (const n of quick ? [256] : [256, 1024]) {
    const run = await runScripted(task, n, 1, {}, minEpisodes, warm, repeats);
    tasks.push(run);
    console.log(`${task} N=${n} workers=1: ${fmt(run.envStepsPerSec)} env-steps/s, scripted success ${(run.successRate * 100).toFixed(1)}% of ${run.episodes}`);
  }
}
const mujoco = runMujoco('mujoco-push.mjs', quick ? 16 : 64, quick ? 2 : 4);
console.log(`mujoco-js push N=${mujoco.N}: ${fmt(mujoco.env_steps_per_s as number)} env-steps/s, success ${((mujoco.success_rate as number) * 100).toFixed(1)}% of ${mujoco.episodes}`);
const mujocoPick = runMujoco('mujoco-pick.mjs', quick ? 16 : 64, quick ? 2 : 4);
console.log(`mujoco-js pick N=${mujocoPick.N}: ${fmt(mujocoPick.env_steps_per_s as number)} env-steps/s, success ${((mujocoPick.success_rate as number) * 100).toFixed(1)}% of ${mujocoPick.episodes}`);

// Paired ratios: Push at N = 256, Push at N = 1024 and mujoco-js push, measured back to back `pairRounds` times. On a
// shared machine the speed drifts over a run by more than the targets' margins; the median of per-round ratios is
// less exposed to that drift than a ratio of figures taken minutes apart.
const pairRounds = quick ? 1 : 3;
const pairs: { push256: number; push1024: number; mujocoPush: number; speedup: number; n1024OverN256: number }[] = [];
for (let round = 0; round < pairRounds; round++) {
  const a = await runScripted('Push', 256, 1, {}, minEpisodes, warm, 1);
  const b = await runScripted('Push', 1024, 1, {}, minEpisodes, warm, 1);
  const m = runMujoco('mujoco-push.mjs', quick ? 16 : 64, quick ? 2 : 4).env_steps_per_s as number;
  pairs.push({ push256: Math.round(a.envStepsPerSec), push1024: Math.round(b.envStepsPerSec), mujocoPush: m, speedup: +(b.envStepsPerSec / m).toFixed(2), n1024OverN256: +(b.envStepsPerSec / a.envStepsPerSec).toFixed(3) });
  console.log(`paired round ${round + 1}: Push N=256 ${fmt(a.envStepsPerSec)}, N=1024 ${fmt(b.envStepsPerSec)}, mujoco-js push ${fmt(m)} env-steps/s: ${pairs[round].speedup}×, N=1024/N=256 ${pairs[round].n1024OverN256}`);
}

const single = sizes.find((s) => s.numEnvs === 1024)!;
const n256 = sizes.find((s) => s.numEnvs === 256)!;
const pick = tasks.filter((t) => t.task === 'PickAndPlace').pop()!;
const summary = {
  speedupVsMujocoAtN1024: +(single.envStepsPerSec / (mujoco.env_steps_per_s as number)).toFixed(2),
  pushN1024OverN256: +(single.envStepsPerSec / n256.envStepsPerSec).toFixed(2),
  pickSpeedupVsMujocoPick: +(pick.envStepsPerSec / (mujocoPick.env_steps_per_s as number)).toFixed(2),
  pickAtN: pick.numEnvs,
  twoWorkerScalingAtN1024: +(workers[1].envStepsPerSec / workers[0].envStepsPerSec).toFixed(2),
  fidelityGate: single.successRate >= 0.9,
  pairedSpeedupVsMujocoAtN1024: median(pairs.map((p) => p.speedup)),
  pairedPushN1024OverN256: median(pairs.map((p) => p.n1024OverN256)),
};
console.log(JSON.stringify(summary));
const machine = machineInfo();
const result = {
  benchmark: 'physics', date: new Date().toISOString(), quick, commit: gitCommit(), machine, rapier: RAPIER_BUILD, node: process.version,
  task: 'Push', controller: 'tasks/scripted.ts (push: shared/peers/controller.mjs; pick: shared/peers/pick_controller.mjs)', sizes, workers, sweep, tasks, mujoco, mujocoPick, pairs, summary,
};
const out = typeof flags.out === 'string' ? flags.out : `bench/results/physics-${machine.host}.json`;
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(`wrote ${out}`);

if (!quick) {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const rows: (string | number)[][] = [
    ...sizes.map((r) => [`cairn Push, ${r.numEnvs} env${r.numEnvs > 1 ? 's' : ''}, 1 thread`, physicsLabel(r.physics), fmt(r.envStepsPerSec), pct(r.successRate), r.episodes]),
    ...workers.slice(1).map((r) => [`cairn Push, ${r.numEnvs} envs, ${r.numWorkers} workers`, physicsLabel(r.physics), fmt(r.envStepsPerSec), pct(r.successRate), r.episodes]),
    ...sweep.map((r) => [`cairn ${r.task}, ${r.numEnvs} envs, 1 thread (sweep)`, physicsLabel(r.physics), fmt(r.envStepsPerSec), pct(r.successRate), r.episodes]),
    ...tasks.map((r) => [`cairn ${r.task}, ${r.numEnvs} envs, 1 thread`, physicsLabel(r.physics), fmt(r.envStepsPerSec), pct(r.successRate), r.episodes]),
    [`mujoco-js push_mocap, ${mujoco.N} envs, 1 thread`, 'dt 0.002 × 20, Newton', fmt(mujoco.env_steps_per_s as number), pct(mujoco.success_rate as number), mujoco.episodes as number],
    [`mujoco-js pick_mocap, ${mujocoPick.N} envs, 1 thread`, 'dt 0.002 × 20, Newton', fmt(mujocoPick.env_steps_per_s as number), pct(mujocoPick.success_rate as number), mujocoPick.episodes as number],
  ];
  const table = markdownTable(['run', 'physics', 'control env-steps/s', 'scripted success', 'episodes'], rows);
  const note = `Measured ${result.date.slice(0, 10)} on ${machine.cpu} (${machine.cores} cores), commit ${result.commit}, \`npm run bench:physics\`. ` +
    `Single thread at N = 1024 Push runs ${summary.speedupVsMujocoAtN1024}× mujoco-js push (${summary.pushN1024OverN256}× its N = 256 rate) and PickAndPlace ${summary.pickSpeedupVsMujocoPick}× mujoco-js pick; 2 workers run ${summary.twoWorkerScalingAtN1024}× 1 worker. ` +
    `Measured back to back in ${pairRounds} rounds (Push at N = 256, at N = 1024, mujoco-js push), the medians of the rounds' ratios: ` +
    `${summary.pairedSpeedupVsMujocoAtN1024}× mujoco-js push and ${summary.pairedPushN1024OverN256}× the N = 256 rate (rounds: ${pairs.map((p) => `${p.speedup}× / ${p.n1024OverN256}`).join(', ')}).`;
  if (updateReadmeTable('physics', `${table}\n\n${note}`)) console.log('updated the README table');
}

