// The stage in the observation (Words as Beacons): the policy input ends with the latched stage's one-hot [K + 1], the
// trainer builds it from the step's stages (the final state's stage for the time-limit bootstrap), checkpoints record
// it, and evaluation, rollout and the view rebuild the same input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEnv } from '../../index.ts';
import { policyInputDim, writePolicyInput } from '../../engine/nn/policy-input.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { loadCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { evalSeed, evaluatePolicy } from '../../engine/train/evaluate.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { DEFAULT_PPO_CONFIG, PpoTrainer } from '../../engine/train/ppo.ts';
import { trainRun } from '../../engine/train/run.ts';
import { policySafetensors } from '../../engine/train/export.ts';
import { decodeSafetensors } from '../../engine/train/safetensors.ts';
import { checkCheckpointFits } from '../../engine/view/policy.ts';
import { tempDirs } from '../helpers/tmp.ts';

const tmp = tempDirs('cairn-stage-obs-');

test('writePolicyInput appends the stage one-hot, worked by hand; a stage outside [0, K] is clamped', () => {
  // 3 envs, obs [2], goal [1], K = 2 stages → width 2 + 1 + 3 = 6.
  const obs = new Float32Array([1, 2, 3, 4, 5, 6]), goal = new Float32Array([7, 8, 9]);
  const out = new Float32Array(18).fill(NaN);
  writePolicyInput(obs, goal, 3, 2, 1, out, { values: new Int32Array([0, 2, 9]), numStages: 2 });
  assert.deepEqual([...out], [1, 2, 7, 1, 0, 0, /**/ 3, 4, 8, 0, 0, 1, /**/ 5, 6, 9, 0, 0, 1]);
  const plain = new Float32Array(9);
  writePolicyInput(obs, goal, 3, 2, 1, plain);
  assert.deepEqual([...plain], [1, 2, 7, 3, 4, 8, 5, 6, 9]);
  assert.equal(policyInputDim({ obsDim: 25, goalDim: 3, stageNames: ['behind', 'push'] }, true), 31);
  assert.throws(() => policyInputDim({ obsDim: 25, goalDim: 3 }, true), /needs the env's stage names/);
});

test('the trainer feeds the one-hot of each step\'s stage: raw inputs of a rollout carry r.stage', async () => {
  const env = await makeEnv('Push', { numEnvs: 8, seed: 2, shaping: { mode: 'pbrs' } });
  const D = policyInputDim(env, true);
  const backend = await WasmBackend.create({ obsDim: D, actDim: 4, hidden: [8], seed: 1, maxBatch: 8 * 50 });
  try {
    assert.throws(() => new PpoTrainer(env, backend, { ...DEFAULT_PPO_CONFIG, stageInObs: 'yes' as never }, 1, 400), /ppo\.stageInObs must be a boolean/);
    const trainer = new PpoTrainer(env, backend, { ...DEFAULT_PPO_CONFIG, stageInObs: true, normObs: false, numSteps: 50, numMinibatches: 1, updateEpochs: 1, hp: { ...DEFAULT_PPO_CONFIG.hp, lr: 0 } }, 1, 400);
    assert.equal(trainer.inputDim, 25 + 3 + 3);
    // Without normalization the stored inputs are the raw ones: each row's last 3 columns are one-hot.
    await trainer.runIteration();
    const obs = trainer.rollout.obs;
    const seen = new Set<number>();
    for (let row = 0; row < 50 * 8; row++) {
      const hot = [...obs.subarray(row * D + 28, row * D + 31)];
      assert.equal(hot.reduce((a, b) => a + b, 0), 1, `row ${row}: ${hot}`);
      seen.add(hot.indexOf(1));
    }
    assert.ok(seen.has(0), 'stage 0 seen');
    // A network of the plain width does not fit a stage-in-obs trainer.
    const plain = await WasmBackend.create({ obsDim: 28, actDim: 4, hidden: [8], seed: 1, maxBatch: 8 });
    assert.throws(() => new PpoTrainer(env, plain, { ...DEFAULT_PPO_CONFIG, stageInObs: true }, 1, 400), /backend is 28→4, the env's policy input is 31→4/);
    plain.destroy();
  } finally {
    backend.destroy();
    await env.close();
  }
});

test('a stage-in-obs run: the checkpoint records it, evaluation rebuilds the input, the view checks the width', async () => {
  const dir = tmp();
  const r = await trainRun({
    task: 'Push', shaping: 'pbrs', shapingWeight: 20, numEnvs: 16, numWorkers: 1, totalSteps: 16 * 10 * 5, seed: 4, outDir: dir, backend: 'wasm', hidden: [16],
    ppo: { numSteps: 10, numMinibatches: 2, updateEpochs: 1, stageInObs: true }, evalEpisodes: 32, resume: false, checkpointSeconds: 0,
  }, () => {}, () => {});
  const { manifest, arrays } = await loadCheckpoint(dir);
  assert.equal(manifest.stageInObs, true);
  assert.equal(manifest.obsDim, 31);
  assert.equal(manifest.normalizer.dim, 31);
  const backend = await WasmBackend.create({ obsDim: 31, actDim: 4, hidden: [16], seed: 4, maxBatch: 32, params: arrays.params });
  try {
    const norm = new RunningNormalizer(31);
    norm.load(manifest.normalizer);
    const again = await evaluatePolicy('Push', backend, norm, 32, evalSeed(4), { stageInObs: true });
    assert.equal(again.successRate, r.eval.successRate);
    assert.equal(again.meanReturn, r.eval.meanReturn);
    await assert.rejects(evaluatePolicy('Push', backend, norm, 32, evalSeed(4)), /maps 31 → 4, Push needs 28 → 4/);
  } finally {
    backend.destroy();
  }
  // The safetensors export says what the input is: the stage one-hot and the stage names.
  const meta = decodeSafetensors(policySafetensors(manifest, arrays)).metadata;
  assert.equal(meta.input, 'observation ⊕ desired_goal ⊕ one_hot(latched stage, K + 1)');
  assert.deepEqual(JSON.parse(meta.stage_names), ['behind-object', 'object-at-goal']);
  assert.equal(meta.obs_dim, '31');
  checkCheckpointFits(manifest);
  assert.throws(() => checkCheckpointFits({ ...manifest, stageInObs: false }), /maps 31 inputs to 4 actions, but Push gives 25 obs \+ 3 goal = 28 inputs/);
  // A run without it keeps the identity runs had before the option (they resume).
  const plain = tmp();
  await trainRun({
    task: 'Reach', shaping: 'sparse', shapingWeight: 1, numEnvs: 8, numWorkers: 1, totalSteps: 8 * 10 * 5, seed: 1, outDir: plain, backend: 'wasm', hidden: [8],
    ppo: { numSteps: 10, numMinibatches: 1, updateEpochs: 1 }, evalEpisodes: 8, resume: false, checkpointSeconds: 0,
  }, () => {}, () => {});
  const pm = (await loadCheckpoint(plain)).manifest;
  assert.equal(pm.stageInObs, undefined);
  assert.equal('stageInObs' in ((pm.config.run as { ppo: object }).ppo), false);
});
