/**
 * The view's modules that need no browser, in Node: URL parameters, stage targets, finished-episode statistics,
 * the backend choice, checkpoint files and the checkpoint policy's actions (against engine/rollout.ts policySource).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PUSH_SUBGOALS } from '../../tasks/push.ts';
import { REACH_SUBGOALS } from '../../tasks/reach.ts';
import { EpisodeTracker, Series } from '../../engine/view/episode-tracker.ts';
import { DEFAULT_PARAMS, formatViewParams, parseViewParams } from '../../engine/view/params.ts';
import { checkTrainThreads, parseTrainParams } from '../../engine/view/train-params.ts';
import { makeEnv } from '../../engine/env.ts';
import { initParams } from '../../engine/nn/init.ts';
import { paramLayout } from '../../engine/nn/param-layout.ts';
import { policySource } from '../../engine/rollout.ts';
import { encodeCheckpoint } from '../../engine/train/checkpoint.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { chooseBackend } from '../../engine/nn/backend-kind.ts';
import {
  checkCheckpointFits, checkpointManifestUrl, preparePolicy, policyActionSource, readCheckpointFiles, type PickedFile,
} from '../../engine/view/policy.ts';
import { SubgoalTargets } from '../../engine/view/subgoal-targets.ts';
import { PICK_SUBGOALS, pickAndPlace } from '../../tasks/pick-and-place.ts';
import { STACK_SUBGOALS, stack } from '../../tasks/stack.ts';

test('URL parameters: defaults, valid values, a checkpoint URL, and a warning per bad value', () => {
  assert.deepEqual(parseViewParams(''), { params: { ...DEFAULT_PARAMS }, warnings: [] });
  const ok = parseViewParams('?task=REACH&envs=256&shaping=pbrs&policy=random&seed=7&spf=0.5&focus=255');
  assert.deepEqual(ok.warnings, []);
  assert.deepEqual(ok.params, { task: 'Reach', numEnvs: 256, shaping: 'pbrs', policy: { kind: 'random' }, backend: 'auto', seed: 7, stepsPerFrame: 0.5, focus: 255 });
  // A link opens the same scene again.
  assert.deepEqual(parseViewParams(formatViewParams(ok.params)).params, ok.params);

  const url = 'https://example.org/runs/a/checkpoint.json?x=1';
  const ck = parseViewParams(`?policy=${encodeURIComponent(url)}&backend=WebGPU`);
  assert.deepEqual(ck.params.policy, { kind: 'checkpoint', url });
  assert.equal(ck.params.backend, 'webgpu');
  assert.deepEqual(parseViewParams(formatViewParams(ck.params)).params, ck.params);
  // Picked files cannot be named in a URL: the link leaves policy out (and so opens the default source).
  assert.doesNotMatch(formatViewParams({ ...DEFAULT_PARAMS, policy: { kind: 'file', name: 'checkpoint.json + weights.bin' } }), /policy=/);
  assert.doesNotMatch(formatViewParams({ ...DEFAULT_PARAMS }), /backend=/);

  const bad = parseViewParams('?task=unicycle&envs=0&shaping=magic&backend=gpu&seed=-1&spf=3&focus=64');
  assert.deepEqual(bad.params, { ...DEFAULT_PARAMS });
  assert.equal(bad.warnings.length, 7, bad.warnings.join('\n'));
  for (const [k, w] of ['task=unicycle', 'envs=0', 'shaping=magic', 'backend=gpu', 'seed=-1', 'spf=3', 'focus=64'].entries()) assert.ok(bad.warnings[k].startsWith(w), bad.warnings[k]);
  assert.equal(parseViewParams('?envs=1.5').params.numEnvs, 64);
  assert.equal(parseViewParams('?envs=4097').params.numEnvs, 64);
});

test('stage targets: Push behind the cube (6 cm, horizontal, away from the goal), then the goal', () => {
  const t = new SubgoalTargets(PUSH_SUBGOALS, ['grip', 'object', 'goal']);
  assert.equal(t.numStages, 2);
  assert.deepEqual(t.targetNames, ['behindObject', 'goal']);
  // Env 0: object (1.3, 0.75, 0.425), goal 0.5 m away along (0.6, 0.8) and higher (ignored: xy).
  //   behind = object + 0.06 · (−0.6, −0.8) = (1.264, 0.702, 0.425).
  // Env 1: object on the goal (same xy): behind = object.
  const points = new Float32Array([
    1.0, 1.0, 0.6, /**/ 1.3, 0.75, 0.425, /**/ 1.6, 1.15, 0.5,
    1.0, 1.0, 0.6, /**/ 1.2, 0.70, 0.425, /**/ 1.2, 0.70, 0.425,
  ]);
  const out = new Float32Array(6);
  const near = (a: Float32Array, b: number[]) => b.forEach((v, k) => assert.ok(Math.abs(a[k] - v) < 1e-6, `${Array.from(a)} vs ${b}`));
  t.compute(points, new Int32Array([0, 0]), 2, out);
  near(out.subarray(0, 3), [1.264, 0.702, 0.425]);
  near(out.subarray(3, 6), [1.2, 0.7, 0.425]);
  t.compute(points, new Int32Array([1, 2]), 2, out); // stage 1: the goal; stage K = 2 (done): still the goal
  near(out.subarray(0, 3), [1.6, 1.15, 0.5]);
  near(out.subarray(3, 6), [1.2, 0.7, 0.425]);
  t.compute(points, new Int32Array([-3, 9]), 2, out); // out of range: clamped
  near(out.subarray(0, 3), [1.264, 0.702, 0.425]);
  near(out.subarray(3, 6), [1.2, 0.7, 0.425]);

  const reach = new SubgoalTargets(REACH_SUBGOALS, ['grip', 'goal']);
  reach.compute(new Float32Array([1, 2, 3, 4, 5, 6]), new Int32Array([0]), 1, out);
  near(out.subarray(0, 3), [4, 5, 6]);
  assert.throws(() => new SubgoalTargets(PUSH_SUBGOALS, ['grip', 'goal']), /unknown point 'object'/);
});

test('stage targets: a shift point (10 cm above the object) and an offset point built on it', () => {
  const spec = {
    points: {
      // Declared before the point it uses: the order comes from `from`.
      behindAbove: { from: 'above', awayFrom: 'goal', offset: 0.05, xy: true },
      above: { from: 'object', shift: [0, 0, 0.1] as [number, number, number] },
    },
    stages: [
      { name: 'above-object', predicate: { kind: 'distance' as const, a: 'grip', b: 'behindAbove', below: 0.03 }, progress: { a: 'grip', b: 'behindAbove', sigma: 0.1 } },
      { name: 'over', predicate: { kind: 'distance' as const, a: 'grip', b: 'above', below: 0.03 }, progress: { a: 'grip', b: 'above', sigma: 0.1 } },
    ],
  };
  const t = new SubgoalTargets(spec, ['grip', 'object', 'goal']);
  assert.deepEqual(t.targetNames, ['behindAbove', 'above']);
  // Object (1.3, 0.75, 0.425): above = (1.3, 0.75, 0.525). Goal (1.6, 1.15, 0.5): from above away from the
  // goal horizontally is (−0.6, −0.8), so behindAbove = (1.3 − 0.03, 0.75 − 0.04, 0.525) = (1.27, 0.71, 0.525).
  const points = new Float32Array([1.0, 1.0, 0.6, /**/ 1.3, 0.75, 0.425, /**/ 1.6, 1.15, 0.5]);
  const out = new Float32Array(3);
  const near = (b: number[]) => b.forEach((v, k) => assert.ok(Math.abs(out[k] - v) < 1e-6, `${Array.from(out)} vs ${b}`));
  t.compute(points, new Int32Array([0]), 1, out);
  near([1.27, 0.71, 0.525]);
  t.compute(points, new Int32Array([1]), 1, out);
  near([1.3, 0.75, 0.525]);
});

test('stage targets: PickAndPlace (a point 4 cm above the cube, then cube, carry height, goal) and Stack (five stages over two cubes)', () => {
  const pick = new SubgoalTargets(PICK_SUBGOALS, pickAndPlace.pointNames);
  assert.deepEqual(pick.targetNames, ['aboveObject', 'object', 'carryHeight', 'goal']);
  // Points grip, object, goal, carryHeight. Stage 0: the cube + (0, 0, 0.04) = (1.3, 0.8, 0.465); stage k >= 4 (done): the goal.
  const points = new Float32Array([1.34, 0.75, 0.55, /**/ 1.3, 0.8, 0.425, /**/ 1.4, 0.7, 0.6, /**/ 1.3, 0.8, 0.525]);
  const out = new Float32Array(3);
  const near = (b: number[]) => b.forEach((v, k) => assert.ok(Math.abs(out[k] - v) < 1e-6, `${Array.from(out)} vs ${b}`));
  const wants = [[1.3, 0.8, 0.465], [1.3, 0.8, 0.425], [1.3, 0.8, 0.525], [1.4, 0.7, 0.6], [1.4, 0.7, 0.6]];
  wants.forEach((w, k) => { pick.compute(points, new Int32Array([k]), 1, out); near(w); });

  const stack5 = new SubgoalTargets(STACK_SUBGOALS, stack.pointNames);
  assert.equal(stack5.numStages, 5);
  assert.deepEqual(stack5.targetNames, ['cubeA', 'goalA', 'aboveA', 'cubeB', 'goalB']);
  // Points grip, cubeA, cubeB, goalA, goalB: the targets are those points in stage order, release-a's a point 6 cm above cube A.
  const sp = new Float32Array([1.34, 0.75, 0.55, /**/ 1.2, 0.7, 0.425, /**/ 1.45, 0.8, 0.425, /**/ 1.3, 0.6, 0.425, /**/ 1.3, 0.6, 0.475]);
  [[1.2, 0.7, 0.425], [1.3, 0.6, 0.425], [1.2, 0.7, 0.485], [1.45, 0.8, 0.425], [1.3, 0.6, 0.475], [1.3, 0.6, 0.475]].forEach((w, k) => {
    stack5.compute(sp, new Int32Array([k]), 1, out);
    near(w);
  });
});

test('episode tracker: success and returns per finished episode, moving averages, bounded series', () => {
  const t = new EpisodeTracker(2, 2);
  const step = (reward: number[], shaped: number[] | null, success: number[], truncated: number[]) =>
    t.record({ reward: new Float32Array(reward), shapedReward: shaped && new Float32Array(shaped), success: new Uint8Array(success), terminated: new Uint8Array(2), truncated: new Uint8Array(truncated) });
  // Env 0: rewards −1, −1, 0 (ends in success, return −2); env 1: −1, −1, −1 (ends in failure, return −3).
  step([-1, -1], [0.5, 0.25], [0, 0], [0, 0]);
  step([-1, -1], [0.5, 0.25], [0, 0], [0, 0]);
  assert.equal(t.episodes, 0);
  step([0, -1], [1, 0.25], [1, 0], [1, 1]);
  assert.equal(t.episodes, 2);
  assert.equal(t.successes, 1);
  assert.deepEqual(t.successRate.values, [1, 0.5]); // after env 0: 1/1; after env 1: 1/2
  assert.deepEqual(t.sparseReturn.values, [-2, -2.5]);
  assert.deepEqual(t.shapedReturn.values, [2, 1.375]); // env 0: 0.5 + 0.5 + 1; env 1: 0.75; mean 1.375
  // The next episode of env 0 fails with return −1 in one step; the window (2) drops the first episode.
  step([-1, -1], null, [0, 0], [1, 0]);
  assert.equal(t.recentSuccessRate, 0); // episodes 2 and 3: 0 and 0
  assert.equal(t.recentSparseReturn, -2); // (−3 − 1) / 2
  assert.equal(t.recentShapedReturn, (0.75 - 1) / 2); // without shaping, the shaped sum is the sparse one
  t.clear();
  assert.equal(t.episodes, 0);
  assert.ok(Number.isNaN(t.recentSuccessRate));

  const s = new Series(4);
  for (let k = 1; k <= 9; k++) s.push(k);
  // 1 2 3 4 → full: keep 2 4, stride 2; then 6, 8 (5 and 7 skipped) → full: keep 4 8, stride 4.
  assert.deepEqual(s.values, [4, 8]);
  assert.equal(s.stride, 4);
});

test('backend choice: auto takes WebGPU only on a real GPU; a software adapter or none gives the CPU with a warning', () => {
  const real = { available: true, real: true, adapter: 'nvidia / hopper' };
  const soft = { available: true, real: false, adapter: 'google / swiftshader' };
  const none = { available: false, real: false, adapter: 'no navigator.gpu' };
  assert.deepEqual(chooseBackend('auto', real), { kind: 'webgpu', why: 'a real GPU adapter (nvidia / hopper)', warn: false });
  const s = chooseBackend('auto', soft);
  assert.equal(s.kind, 'wasm');
  assert.equal(s.warn, true);
  assert.match(s.why, /no real GPU.*swiftshader/);
  assert.deepEqual(chooseBackend('auto', none), { kind: 'wasm', why: 'no WebGPU in this browser (no navigator.gpu)', warn: true });
  // Forced: webgpu takes even a software adapter (and says so); without any adapter it falls back to the CPU.
  assert.deepEqual(chooseBackend('webgpu', soft).kind, 'webgpu');
  assert.equal(chooseBackend('webgpu', soft).warn, true);
  assert.equal(chooseBackend('webgpu', real).warn, false);
  assert.deepEqual(chooseBackend('webgpu', none).kind, 'wasm');
  assert.deepEqual(chooseBackend('wasm', real), { kind: 'wasm', why: 'as backend=wasm asks', warn: false });
});

test('checkpoint URLs: a .json as is, a run directory gets checkpoint.json, relative to the page', () => {
  const base = 'http://127.0.0.1:5173/?policy=x';
  assert.equal(checkpointManifestUrl('runs/reach/', base).href, 'http://127.0.0.1:5173/runs/reach/checkpoint.json');
  assert.equal(checkpointManifestUrl('/runs/reach', base).href, 'http://127.0.0.1:5173/runs/reach/checkpoint.json');
  assert.equal(checkpointManifestUrl('runs/reach/ck-7.json', base).href, 'http://127.0.0.1:5173/runs/reach/ck-7.json');
  assert.equal(checkpointManifestUrl('https://example.org/a/b', base).href, 'https://example.org/a/b/checkpoint.json');
});

/** A file as the browser's File gives it (name, text(), arrayBuffer()). */
function picked(name: string, data: string | Uint8Array): PickedFile {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return { name, text: async () => new TextDecoder().decode(bytes), arrayBuffer: async () => bytes.slice().buffer };
}

/** A Reach checkpoint (13 inputs, hidden [8], 4 actions) with initialized parameters and a non-trivial normalizer. */
async function reachCheckpoint() {
  const layout = paramLayout(13, 4, [8]);
  const norm = new RunningNormalizer(13);
  const rows = new Float32Array(3 * 13).map((_, k) => Math.sin(k) + (k % 13) * 0.1);
  norm.update(rows, 3);
  const meta = { task: 'Reach', obsDim: 13, actDim: 4, hidden: [8], seed: 5, envSteps: 1000, iteration: 2, adamStep: 8, normalizer: norm.state(), config: { run: { shaping: 'dense' } } };
  const { manifest, bytes } = await encodeCheckpoint(meta, { params: initParams(layout, 5) });
  return { manifest, bytes, text: JSON.stringify(manifest) };
}

test('checkpoint files: picked manifest + weights decode; missing, truncated and wrong-task checkpoints are named errors', async () => {
  const { manifest, bytes, text } = await reachCheckpoint();
  const ok = await readCheckpointFiles([picked('weights.bin', bytes), picked('checkpoint.json', text)]);
  assert.equal(ok.manifest.task, 'Reach');
  assert.equal(ok.arrays.params.length, manifest.numParams);
  assert.equal(ok.origin, 'weights.bin + checkpoint.json');
  // A renamed download: the only .bin is taken, and the SHA-256 still guards it.
  assert.equal((await readCheckpointFiles([picked('checkpoint.json', text), picked('weights (1).bin', bytes)])).arrays.params.length, manifest.numParams);
  await assert.rejects(readCheckpointFiles([picked('weights.bin', bytes)]), /no checkpoint\.json among the picked files \(weights\.bin\)/);
  await assert.rejects(readCheckpointFiles([picked('checkpoint.json', text)]), new RegExp(`${manifest.weights.file.replace('.', '\\.')} was not picked`));
  await assert.rejects(readCheckpointFiles([picked('checkpoint.json', text), picked('weights.bin', bytes.subarray(0, 100))]), /weights-[0-9a-f]{16}\.bin holds 100 bytes, the manifest says \d+ \(truncated/);
  await assert.rejects(readCheckpointFiles([picked('checkpoint.json', '{"format":'), picked('weights.bin', bytes)]), /not valid JSON/);
  checkCheckpointFits(manifest);
  assert.throws(() => checkCheckpointFits({ ...manifest, task: 'Push' }), /wrong task: its network maps 13 inputs to 4 actions, but Push gives 25 obs \+ 3 goal = 28 inputs/);
  assert.throws(() => checkCheckpointFits({ ...manifest, task: 'Unicycle' }), /trained on task 'Unicycle', which this view does not have/);
  assert.throws(() => checkCheckpointFits({ ...manifest, numParams: manifest.numParams + 1 }), /has \d+ parameters, the manifest says/);
});

test('checkpoint policy acts as evaluatePolicy does: the same mean actions as rollout.ts policySource on the same env', async () => {
  const { bytes, text } = await reachCheckpoint();
  const ck = await readCheckpointFiles([picked('checkpoint.json', text), picked('weights.bin', bytes)]);
  const policy = await preparePolicy(ck, { kind: 'wasm', why: 'test', warn: false });
  const env = await makeEnv('Reach', { numEnvs: 5, seed: 3, numWorkers: 1 });
  const ref = await WasmBackend.create({ obsDim: 13, actDim: 4, hidden: [8], seed: 5, maxBatch: 8, params: ck.arrays.params });
  try {
    const norm = new RunningNormalizer(13);
    norm.load(ck.manifest.normalizer);
    const mine = policyActionSource(policy, env), theirs = policySource(ref, norm, env, { deterministic: true });
    const a = new Float32Array(20), b = new Float32Array(20);
    let r = env.reset();
    for (let t = 0; t < 3; t++) {
      await mine.act(r, env, t, a);
      await theirs.act(r, env, t, b);
      assert.deepEqual(a, b, `step ${t}`);
      assert.ok(a.some((v) => Math.abs(v) > 1e-3), 'all-zero actions');
      r = env.step(a);
    }
    assert.throws(() => policyActionSource(policy, { numEnvs: 1, obsDim: 25, goalDim: 3, actDim: 4, task: { name: 'Push' } } as never), /maps 13 → 4, Push needs 28 → 4/);
  } finally {
    policy.net.destroy();
    ref.destroy();
    await env.close();
  }
});

test('training thread counts: a cross-origin isolated page takes them, any other trains on 1 with a note, and a bad count is named', () => {
  const isolated = parseTrainParams('?threads=2&workers=3', true);
  assert.deepEqual([isolated.params.threads, isolated.params.workers, isolated.warnings], [2, 3, []]);
  const plain = parseTrainParams('?threads=2&workers=1', false);
  assert.deepEqual([plain.params.threads, plain.params.workers], [1, 1]);
  assert.deepEqual(plain.warnings, ['threads=2: this page is not cross-origin isolated (no COOP/COEP headers), so it has no shared memory; training on 1 thread']);
  const bad = parseTrainParams('?threads=0&workers=2.5', true);
  assert.deepEqual([bad.params.threads, bad.params.workers], [1, 1]);
  assert.deepEqual(bad.warnings, ['threads=0: expected an integer in [1, 16]; using 1', 'workers=2.5: expected an integer in [1, 16]; using 1']);
  assert.deepEqual(checkTrainThreads("threads '17'", 17, true), { value: 1, error: "threads '17': expected an integer in [1, 16]" });
});
