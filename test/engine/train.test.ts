import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { makeEnv } from '../../index.ts';
import { loadCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { DEFAULT_PPO_CONFIG, PpoTrainer, type IterationMetrics } from '../../engine/train/ppo.ts';
import { policyInputDim } from '../../engine/nn/policy-input.ts';
import { computeGae } from '../../engine/train/gae.ts';
import { paramLayout } from '../../engine/nn/param-layout.ts';
import { trainRun, type TrainRunOptions } from '../../engine/train/run.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { tempDirs } from '../helpers/tmp.ts';
import { PICK_ENT_COEF } from '../../tasks/pick-and-place.ts';
import { STACK_PPO } from '../../tasks/stack.ts';

const tmp = tempDirs('cairn-train-');
const quiet = () => {};

function options(outDir: string, over: Partial<TrainRunOptions> = {}): TrainRunOptions {
  return {
    task: 'Reach', shaping: 'sparse', shapingWeight: 1, numEnvs: 16, numWorkers: 1, totalSteps: 16 * 10 * 10, seed: 3, outDir, backend: 'wasm', hidden: [16, 16],
    ppo: { numSteps: 10, numMinibatches: 2, updateEpochs: 2 }, evalEpisodes: 16, resume: false, checkpointSeconds: 0, ...over,
  };
}

describe('PPO training', () => {
  it('bootstraps truncated episodes from the value of finalObs, not from the next episode', async () => {
    const env = await makeEnv('Reach', { numEnvs: 4, seed: 1, shaping: { gamma: 0.98 } });
    const backend = await WasmBackend.create({ obsDim: policyInputDim(env), actDim: 4, hidden: [8], seed: 1, maxBatch: 4 * 50 });
    const trainer = new PpoTrainer(env, backend, { ...DEFAULT_PPO_CONFIG, gamma: 0.98, numSteps: 50, numMinibatches: 1, updateEpochs: 1, hp: { ...DEFAULT_PPO_CONFIG.hp, lr: 0 } }, 1, 200);
    await trainer.runIteration();
    const st = trainer.rollout;
    // Every env truncates at its 50th step (row 49): only there is truncValue set, to V(final obs) ≠ 0.
    for (let i = 0; i < 4; i++) {
      assert.equal(st.truncated[49 * 4 + i], 1);
      assert.notEqual(st.truncValues[49 * 4 + i], 0);
      assert.equal(st.truncated[48 * 4 + i], 0);
      assert.equal(st.truncValues[48 * 4 + i], 0);
    }
    backend.destroy();
    await env.close();
  });

  it('subtracts the action penalty p Σ a² of the raw sampled action from the learner reward', async () => {
    const env = await makeEnv('Reach', { numEnvs: 3, seed: 2, shaping: { gamma: 0.9 } });
    const backend = await WasmBackend.create({ obsDim: policyInputDim(env), actDim: 4, hidden: [8], seed: 1, maxBatch: 3 * 10 });
    const cfg = { ...DEFAULT_PPO_CONFIG, gamma: 0.9, numSteps: 10, numMinibatches: 1, updateEpochs: 1, actionPenalty: 0.25, boundPenalty: 0, rewardScale: 0.5, hp: { ...DEFAULT_PPO_CONFIG.hp, lr: 0 } };
    const trainer = new PpoTrainer(env, backend, cfg, 1, 30);
    await trainer.runIteration();
    const st = trainer.rollout;
    // Every Reach step in the first 10 is far from the goal: task reward −1, so r = (−1 − 0.25 Σ a²) × 0.5.
    for (let k = 0; k < 30; k++) {
      let sq = 0;
      for (let j = 0; j < 4; j++) sq += st.actions[k * 4 + j] ** 2;
      const reward = st.rewards[k] / 0.5 + 0.25 * sq;
      assert.ok(Math.abs(reward - -1) < 1e-5 || Math.abs(reward) < 1e-5, `step ${k}: recovered task reward ${reward}`);
    }
    assert.throws(() => new PpoTrainer(env, backend, { ...cfg, actionPenalty: -1 }, 1, 30), /actionPenalty must be a number ≥ 0/);
    backend.destroy();
    await env.close();
  });

  it('subtracts the bound penalty c Σ max(|a| − 1, 0)² of the raw sampled action, and only beyond the clip', async () => {
    const env = await makeEnv('Reach', { numEnvs: 8, seed: 2, shaping: { gamma: 0.9 } });
    const backend = await WasmBackend.create({ obsDim: policyInputDim(env), actDim: 4, hidden: [8], seed: 1, maxBatch: 8 * 10 });
    const params = await backend.getParams();
    const logStd = paramLayout(policyInputDim(env), 4, [8]).entries.find((e) => e.name === 'logStd')!;
    params.fill(0.5, logStd.offset, logStd.offset + 4);
    await backend.setParams(params);
    const cfg = { ...DEFAULT_PPO_CONFIG, gamma: 0.9, numSteps: 10, numMinibatches: 1, updateEpochs: 1, boundPenalty: 3, rewardScale: 0.5, hp: { ...DEFAULT_PPO_CONFIG.hp, lr: 0 } };
    const trainer = new PpoTrainer(env, backend, cfg, 1, 80);
    await trainer.runIteration();
    const st = trainer.rollout;
    // std e^0.5 = 1.65: about half the samples fall outside [−1, 1]. r = (task − 3 Σ max(|a| − 1, 0)²) × 0.5.
    let penalized = 0, inside = 0;
    for (let k = 0; k < 80; k++) {
      let excess = 0;
      for (let j = 0; j < 4; j++) excess += Math.max(Math.abs(st.actions[k * 4 + j]) - 1, 0) ** 2;
      const task = st.rewards[k] / 0.5 + 3 * excess;
      assert.ok(Math.abs(task - -1) < 1e-4 || Math.abs(task) < 1e-4, `step ${k}: recovered task reward ${task}`);
      if (excess > 0) penalized++;
      else inside++;
    }
    assert.ok(penalized > 10 && inside > 0, `${penalized} rows beyond the clip, ${inside} inside`);
    assert.throws(() => new PpoTrainer(env, backend, { ...cfg, boundPenalty: Number.NaN }, 1, 80), /boundPenalty must be a number ≥ 0/);
    backend.destroy();
    await env.close();
  });

  it('critic of the task reward: returns from the task reward, advantages from the shaped one over the same values', async () => {
    const env = await makeEnv('Push', { numEnvs: 6, seed: 4, shaping: { mode: 'pbrs', gamma: 0.98, weight: 5 } });
    const backend = await WasmBackend.create({ obsDim: policyInputDim(env), actDim: 4, hidden: [8], seed: 1, maxBatch: 6 * 60 });
    const run = async (criticReward: 'auto' | 'shaped' | 'task') => {
      const trainer = new PpoTrainer(env, backend, { ...DEFAULT_PPO_CONFIG, criticReward, numSteps: 60, numMinibatches: 1, updateEpochs: 1, hp: { ...DEFAULT_PPO_CONFIG.hp, lr: 0 } }, 1, 360);
      env.reset();
      await trainer.runIteration();
      const st = trainer.rollout;
      const next = trainer.bootstrapValues;
      const gae = (rewards: Float32Array) => computeGae({ numSteps: 60, numEnvs: 6, rewards, values: st.values, terminated: st.terminated, truncated: st.truncated, truncValue: st.truncValues, nextValue: next, gamma: 0.98, lambda: DEFAULT_PPO_CONFIG.gaeLambda });
      return { st, shaped: gae(st.rewards), task: gae(st.taskRewards) };
    };
    for (const choice of ['auto', 'task'] as const) {
      const { st, shaped, task } = await run(choice);
      // PBRS makes the two rewards differ on most rows; a truncation (step 50) lies inside the rollout.
      let differ = 0;
      for (let k = 0; k < 360; k++) if (Math.abs(st.rewards[k] - st.taskRewards[k]) > 1e-6) differ++;
      assert.ok(differ > 300, `${choice}: ${differ} rows with shaping`);
      assert.ok(st.truncated.some((x) => x === 1));
      assert.deepEqual(st.advantages, shaped.advantages, `${choice}: advantages are GAE of the shaped reward`);
      assert.deepEqual(st.returns, task.returns, `${choice}: returns are GAE of the task reward`);
    }
    const { st, shaped } = await run('shaped');
    assert.deepEqual(st.advantages, shaped.advantages);
    assert.deepEqual(st.returns, shaped.returns);
    assert.throws(() => new PpoTrainer(env, backend, { ...DEFAULT_PPO_CONFIG, criticReward: 'value' as 'task' }, 1, 100), /criticReward must be auto, shaped or task, got "value"/);
    backend.destroy();
    await env.close();
  });

  it('γ and the penalties come from the PPO config: the trainer sets the env\'s shaping γ and penalty terms', async () => {
    const env = await makeEnv('Reach', { numEnvs: 2, shaping: { mode: 'pbrs', gamma: 0.99 } });
    const backend = await WasmBackend.create({ obsDim: policyInputDim(env), actDim: 4, hidden: [8], seed: 1, maxBatch: 64 });
    new PpoTrainer(env, backend, { ...DEFAULT_PPO_CONFIG, gamma: 0.98, actionPenalty: 0.25, boundPenalty: 3 }, 1, 100);
    assert.equal(env.shaping.gamma, 0.98);
    assert.deepEqual(env.penalties, { action: 0.25, bound: 3 });
    backend.destroy();
    await env.close();
  });

  it('--resume continues exactly: a run stopped and resumed ends with the same weights as one straight run', async () => {
    const a = tmp(), b = tmp();
    const straight = await trainRun(options(a), quiet, quiet);
    // Episodes are 50 steps and T = 10, so iterations 5 and 10 are episode boundaries: stop at 5, resume.
    await trainRun(options(b, { stopAfter: 5 }), quiet, quiet);
    assert.equal((await loadCheckpoint(b)).manifest.iteration, 5);
    const resumed = await trainRun(options(b, { resume: true }), quiet, quiet);
    const pa = await loadCheckpoint(a), pb = await loadCheckpoint(b);
    assert.equal(pb.manifest.iteration, 10);
    assert.deepEqual(pb.arrays.params, pa.arrays.params);
    assert.deepEqual(pb.arrays.adamV, pa.arrays.adamV);
    assert.equal(resumed.successRate, straight.successRate);
    const lines = (await fs.readFile(path.join(b, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).iteration);
    assert.deepEqual(lines, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await assert.rejects(trainRun(options(b, { resume: true, seed: 4 }), quiet, quiet), /resume: the checkpoint .* was trained with/);
  });

  it('a task\'s tuned PPO defaults apply under the run\'s own options', async () => {
    const ppoOf = async (over: Partial<TrainRunOptions>) => {
      const dir = tmp();
      await trainRun(options(dir, { totalSteps: 16 * 10, evalEpisodes: 1, ...over }), quiet, quiet);
      const m = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8'));
      return m.config.run.ppo;
    };
    assert.equal((await ppoOf({})).gamma, 0.9, 'Reach: its own default');
    assert.equal((await ppoOf({ ppo: { numSteps: 10, gamma: 0.95 } })).gamma, 0.95, 'an explicit gamma wins');
    const push = await ppoOf({ task: 'Push', ppo: {} });
    assert.equal(push.gamma, DEFAULT_PPO_CONFIG.gamma, 'Push: the trainer\'s γ');
    assert.deepEqual([push.hp.lr, push.numMinibatches, push.hp.entCoef], [2e-3, 8, 0.05], 'Push: its lr, minibatches and entropy coefficient');
    const slide = await ppoOf({ task: 'Slide', ppo: {} });
    assert.deepEqual([slide.hp.lr, slide.numMinibatches, slide.hp.entCoef], [DEFAULT_PPO_CONFIG.hp.lr, DEFAULT_PPO_CONFIG.numMinibatches, 0], 'Slide: the trainer\'s');
    assert.equal((await ppoOf({ task: 'PickAndPlace' })).hp.entCoef, PICK_ENT_COEF, 'PickAndPlace: its entropy coefficient');
    assert.equal((await ppoOf({ task: 'PickAndPlace', ppo: { hp: { ...DEFAULT_PPO_CONFIG.hp, lr: 1e-3, entCoef: 0 } } })).hp.entCoef, 0, 'an explicit entCoef wins');
    const stack = await ppoOf({ task: 'Stack', ppo: {} });
    assert.deepEqual([stack.hp.entCoef, stack.stageInObs], [STACK_PPO.entCoef, true], 'Stack: its entropy coefficient and the stage in the input');
    assert.equal((await ppoOf({ task: 'Stack', ppo: { stageInObs: false } })).stageInObs, undefined, 'an explicit stageInObs: false wins (recorded only when on)');
  });

  it('a tiny-budget run improves the return on Reach', async () => {
    const dir = tmp();
    const iters: { envSteps: number; terms: Record<string, number>; episodes: number }[] = [];
    const r = await trainRun(options(dir, { shaping: 'dense', numEnvs: 128, totalSteps: 450_000, hidden: [64, 64], ppo: {}, evalEpisodes: 200 }), quiet, (m) => iters.push(m));
    const withEpisodes = iters.filter((m) => m.episodes > 0);
    const first = withEpisodes.slice(0, 3).reduce((s, m) => s + m.terms.dense, 0) / 3;
    const last = withEpisodes.slice(-3).reduce((s, m) => s + m.terms.dense, 0) / 3;
    // Per episode, the dense term sums −(distance to goal) over 50 steps: about −11 m at the start (random
    // actions); a policy that reaches the goal gets it under −3 m. Ask for a clear improvement.
    assert.ok(last > first + 3, `dense return went from ${first.toFixed(2)} to ${last.toFixed(2)}`);
    assert.ok(r.successRate > 0.2, `eval success ${r.successRate}`);
    const svg = await fs.readFile(r.plot, 'utf8');
    assert.match(svg, /<svg[^>]*>[\s\S]*<path d="M/);
  });
});

describe('cairn train and eval CLI', () => {
  it('trains, prints one JSON line, evaluates the run, and rejects a corrupt checkpoint', async () => {
    const dir = tmp();
    const run = (...args: string[]) => spawnSync(process.execPath, ['bin/cairn.mjs', ...args], { encoding: 'utf8' });
    const t = run('train', '--task', 'reach', '--shaping', 'sparse', '--envs', '8', '--steps', '800', '--num-steps', '10', '--hidden', '8', '--eval-episodes', '200', '--out', dir, '--backend', 'wasm', '--threads', '2', '--json');
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stderr, /backend wasm \(forced by --backend wasm; 2 threads\)/);
    const out = JSON.parse(t.stdout.trim().split('\n').pop()!);
    assert.deepEqual(Object.keys(out).sort(), ['checkpoint', 'envSteps', 'successRate', 'wallSeconds']);
    assert.equal(out.envSteps, 800);
    // cairn eval of the run (another process, one thread, the default episode seed) reproduces the run's own final
    // evaluation from eval.json. That evaluation is not all failures (a few goals lie near the start of the gripper),
    // so success rate and mean return both have something to disagree on.
    const own = JSON.parse(await fs.readFile(path.join(dir, 'eval.json'), 'utf8'));
    assert.equal(out.successRate, own.successRate);
    assert.equal(own.episodes, 200);
    assert.ok(own.successRate > 0 && own.meanReturn > -50, `a seeded run that fails every episode (${own.successRate}, ${own.meanReturn}) compares nothing`);
    const e = run('eval', dir, '--episodes', '200', '--backend', 'wasm', '--json');
    assert.equal(e.status, 0, e.stderr);
    const ev = JSON.parse(e.stdout.trim().split('\n').pop()!);
    assert.deepEqual([ev.successRate, ev.goalProgress, ev.envSteps], [own.successRate, +own.goalProgress.toFixed(4), 200 * 50]);
    const text = run('eval', dir, '--episodes', '200', '--backend', 'wasm');
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout.trim(), `success rate: ${(own.successRate * 100).toFixed(1)}% over 200 episodes (mean action), mean sparse return ${own.meanReturn.toFixed(2)}, goal progress ${own.goalProgress.toFixed(2)} (1: at the goal, 0: unmoved)`);
    const bin = path.join(dir, JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8')).weights.file);
    const bytes = await fs.readFile(bin);
    await fs.writeFile(bin, bytes.subarray(0, bytes.length - 4));
    const bad = run('eval', dir, '--backend', 'wasm');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /truncated or replaced/);
    const flagErr = run('train', '--shaping', 'pbr');
    assert.equal(flagErr.status, 2);
    assert.match(flagErr.stderr, /--shaping must be one of sparse, dense, pbrs, bonus, gated, progress, got 'pbr'/);
    // A bad PPO setting is refused before the run directory exists.
    const fresh = path.join(dir, 'never');
    const criticErr = run('train', '--critic', 'value', '--out', fresh);
    assert.equal(criticErr.status, 2);
    assert.match(criticErr.stderr, /ppo.criticReward must be auto, shaped or task, got "value"/);
    await assert.rejects(fs.stat(fresh), /ENOENT/);
    // Domain-randomization ranges from a file: a bad range or a broken file is named before anything runs.
    const drFile = path.join(dir, 'dr.json');
    await fs.writeFile(drFile, JSON.stringify({ objectMass: [3, 1] }));
    const drErr = run('train', '--task', 'pickandplace', '--dr', drFile, '--out', fresh);
    assert.equal(drErr.status, 2);
    assert.match(drErr.stderr, /domainRandomization\.objectMass: lo 3 is above hi 1/);
    await fs.writeFile(drFile, '{ "objectMass": [0.5, ');
    const drJson = run('train', '--dr', drFile, '--out', fresh);
    assert.equal(drJson.status, 2);
    assert.match(drJson.stderr, /--dr: .*dr\.json is not valid JSON/);
    assert.match(run('train', '--dr', path.join(dir, 'none.json'), '--out', fresh).stderr, /--dr: cannot read .*none\.json/);
    await assert.rejects(fs.stat(fresh), /ENOENT/);
  });
});

describe('training on the grasping tasks', () => {
  for (const task of ['PickAndPlace', 'Slide', 'Stack']) {
    it(`${task}: a tiny run in every shaping mode (wasm) finishes with finite metrics and a loadable checkpoint`, async () => {
      for (const shaping of ['sparse', 'dense', 'pbrs', 'bonus', 'gated', 'progress'] as const) {
        const dir = tmp();
        const iters: IterationMetrics[] = [];
        const r = await trainRun(options(dir, { task, shaping, totalSteps: 16 * 10 * 2, evalEpisodes: 16 }), quiet, (m) => iters.push(m));
        assert.equal(iters.length, 2, `${task}/${shaping}: two iterations`);
        for (const m of iters) for (const [k, v] of Object.entries(m.loss)) assert.ok(Number.isFinite(v), `${task}/${shaping} iteration ${m.iteration}: loss.${k} = ${v}`);
        // The evaluation ran 16 whole episodes (one round of 16 envs; Stack's episodes are 100 steps, the others' 50).
        assert.deepEqual([r.eval.episodes, r.eval.envSteps], [16, 16 * (task === 'Stack' ? 100 : 50)], `${task}/${shaping}: evaluated`);
        const ck = await loadCheckpoint(dir);
        assert.equal(ck.manifest.task, task);
        assert.deepEqual([ck.manifest.iteration, ck.manifest.envSteps], [2, 16 * 10 * 2], `${task}/${shaping}: the checkpoint of the last iteration`);
        assert.equal((ck.manifest.config as { shaping: { mode: string } }).shaping.mode, shaping, `${task}/${shaping}: the env shaped with the mode asked for`);
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('Stack trains on the WebGPU backend too (SwiftShader here), with domain randomization', async (t) => {
    const { testDevice } = await import('../gpu/test-device.ts');
    const d = await testDevice();
    if (typeof d === 'string') return t.skip(d);
    const dir = tmp();
    const r = await trainRun(options(dir, { task: 'Stack', shaping: 'pbrs', backend: 'webgpu', totalSteps: 16 * 10, evalEpisodes: 16, domainRandomization: { objectMass: [0.5, 1.5], actionNoise: [0, 0.05] } }), quiet, quiet);
    assert.equal(r.backend, 'webgpu');
    const ck = await loadCheckpoint(dir);
    assert.deepEqual((ck.manifest.config as { run: { domainRandomization: unknown } }).run.domainRandomization, { objectMass: [0.5, 1.5], actionNoise: [0, 0.05] });
    assert.deepEqual([r.eval.episodes, r.eval.envSteps], [16, 16 * 100], 'evaluated over 16 whole Stack episodes');
    await fs.rm(dir, { recursive: true, force: true });
  });
});
