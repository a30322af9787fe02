/**
 * The view's pure modules, in Node (no browser): URL parameters, stage targets, finished-episode statistics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PUSH_SUBGOALS, REACH_SUBGOALS } from '../../engine/shaping/specs.ts';
import { EpisodeTracker, Series } from '../../engine/view/episode-tracker.ts';
import { DEFAULT_PARAMS, formatViewParams, parseViewParams } from '../../engine/view/params.ts';
import { resolvePolicy } from '../../engine/view/sim.ts';
import { SubgoalTargets } from '../../engine/view/subgoal-targets.ts';

test('URL parameters: defaults, valid values, a checkpoint URL, and a warning per bad value', () => {
  assert.deepEqual(parseViewParams(''), { params: { ...DEFAULT_PARAMS }, warnings: [] });
  const ok = parseViewParams('?task=REACH&envs=256&shaping=pbrs&policy=random&seed=7&spf=0.5&focus=255');
  assert.deepEqual(ok.warnings, []);
  assert.deepEqual(ok.params, { task: 'Reach', numEnvs: 256, shaping: 'pbrs', policy: { kind: 'random' }, seed: 7, stepsPerFrame: 0.5, focus: 255 });
  // A link opens the same scene again.
  assert.deepEqual(parseViewParams(formatViewParams(ok.params)).params, ok.params);

  const url = 'https://example.org/runs/a/checkpoint.json?x=1';
  const ck = parseViewParams(`?policy=${encodeURIComponent(url)}`);
  assert.deepEqual(ck.params.policy, { kind: 'checkpoint', url });
  const r = resolvePolicy(ck.params.policy);
  assert.equal(r.kind, 'scripted');
  assert.match(r.note!, /not supported/);
  assert.ok(r.note!.includes(url));
  assert.deepEqual(resolvePolicy({ kind: 'random' }), { kind: 'random', note: null });

  const bad = parseViewParams('?task=stack&envs=0&shaping=magic&seed=-1&spf=3&focus=64');
  assert.deepEqual(bad.params, { ...DEFAULT_PARAMS });
  assert.equal(bad.warnings.length, 6, bad.warnings.join('\n'));
  for (const [k, w] of ['task=stack', 'envs=0', 'shaping=magic', 'seed=-1', 'spf=3', 'focus=64'].entries()) assert.ok(bad.warnings[k].startsWith(w), bad.warnings[k]);
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
