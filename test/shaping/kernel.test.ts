// The WASM kernel against the TypeScript reference on seeded random trajectories (every mode, the Push spec, a
// spec using every feature and one built on shift points, plain and shared memory; random specs with both kinds
// of derived point), slicing, where the kernel writes, run-time config changes and the episode accumulators at
// an episode's end (what the env's finished-episode statistics are made of).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KERNEL_RESERVED_BYTES, MAX_REWARD_TERMS, type Batch } from '../../engine/batch.ts';
import {
  SHAPING_MODES, SHAPING_TABLE_BYTES, SHAPING_TABLE_OFFSET, ShapingKernel, ShapingReference, type Shaper, type ShapingConfig,
  type SubgoalSpec,
} from '../../engine/shaping/index.ts';
import { PUSH_SUBGOALS } from '../../tasks/push.ts';
import { isShiftPoint } from '../../engine/shaping/spec.ts';
import { recordEpisode, SLOT_STAT_WORDS, statsFromWords } from '../../engine/shaping/stats.ts';
import {
  assertClose, assertOutputsEqual, copyBatch, KITCHEN_SINK_SPEC, OUTPUT_FIELDS, PUSH_POINTS, PUSH_SIGMA_01, pushDims, randomReadback, randomSpec, randomState, rng,
  SHIFT_SPEC, twinBatches,
} from './helpers.ts';

/**
 * Runs `steps` control steps on kernel and reference twins with identical random inputs, the loop's order
 * (READBACK → step → AUTORESET → reset(onlyDone)), requiring the same output bits after each call: so the
 * accumulators (episodeReturn, episodeShapedReturn, episodeTermSums, maxStage) agree bit for bit at every step,
 * in particular at each episode's end, where the slice copies them to the finalEpisode* fields. Returns how often
 * each stage was the latched stage and how many episodes ended.
 */
function runTwins(a: Batch, b: Batch, ka: Shaper, rb: Shaper, seed: number, steps: number): { stageCounts: number[]; finished: number } {
  const r = rng(seed);
  const N = a.numEnvs;
  const stageCounts = new Array(ka.numStages + 1).fill(0);
  let finished = 0;
  for (let i = 0; i < N; i++) randomState(a, i, r);
  copyBatch(a, b);
  ka.reset(0, N, false);
  rb.reset(0, N, false);
  assertOutputsEqual(a, b, 'reset');
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < N; i++) {
      randomState(a, i, r);
      randomReadback(a, i, r);
    }
    copyInputs(a, b); // inputs only: the outputs of kernel and reference evolve separately
    ka.step(0, N);
    rb.step(0, N);
    assertOutputsEqual(a, b, `step ${t}`);
    for (let i = 0; i < N; i++) stageCounts[a.stage[i]]++;
    for (let i = 0; i < N; i++) if (a.done[i]) finished++;
    for (let i = 0; i < N; i++) if (a.done[i]) randomState(a, i, r);
    copyInputs(a, b);
    ka.reset(0, N, true);
    rb.reset(0, N, true);
    assertOutputsEqual(a, b, `reset after step ${t}`);
  }
  return { stageCounts, finished };
}

/** Copies the fields the env writes (points, gripper opening, readback flags) from a to b. */
function copyInputs(a: Batch, b: Batch): void {
  b.points.set(a.points);
  b.gripperOpening.set(a.gripperOpening);
  b.reward.set(a.reward);
  b.success.set(a.success);
  b.terminated.set(a.terminated);
  b.truncated.set(a.truncated);
  b.done.set(a.done);
}

const SPECS: [string, SubgoalSpec][] = [['Push', PUSH_SUBGOALS], ['kitchen sink', KITCHEN_SINK_SPEC], ['shift points', SHIFT_SPEC]];

for (const [specName, spec] of SPECS) {
  for (const mode of SHAPING_MODES) {
    test(`kernel equals reference: ${specName} spec, mode ${mode}`, async () => {
      const [a, b] = twinBatches(pushDims(37));
      const config: ShapingConfig = { mode, gamma: 0.97, weight: 1.5, ...(mode === 'bonus' ? { bonus: 0.7 } : {}) };
      const ka = await ShapingKernel.create(a, spec, PUSH_POINTS, config);
      const rb = ShapingReference.create(b, spec, PUSH_POINTS, config);
      const { stageCounts, finished } = runTwins(a, b, ka, rb, 1234 + mode.length, 40);
      // The random states reach every stage, so the comparison covers every predicate kind and the latch.
      for (let k = 0; k <= ka.numStages; k++) assert.ok(stageCounts[k] > 0, `stage ${k} never latched: ${stageCounts}`);
      // shapedReward is exactly reward + the mode's term (sparse: reward).
      const m = SHAPING_MODES.indexOf(mode);
      for (let i = 0; i < a.numEnvs; i++) {
        assert.equal(a.shapedReward[i], Math.fround(a.reward[i] + (m === 0 ? 0 : a.rewardTerms[i * MAX_REWARD_TERMS + m])));
      }
      // Many episodes ended, each with its accumulators compared bit for bit at that step.
      assert.ok(finished > 100, `only ${finished} finished episodes`);
      ka.free();
    });
  }
}

test('kernel equals reference on 24 random specs with shift and offset points, every mode', async () => {
  const r = rng(2024);
  let shiftPoints = 0, offsetPoints = 0, advanced = 0, finished = 0;
  for (let n = 0; n < 24; n++) {
    const spec = randomSpec(r, PUSH_POINTS);
    for (const d of Object.values(spec.points ?? {})) isShiftPoint(d) ? shiftPoints++ : offsetPoints++;
    const mode = SHAPING_MODES[n % SHAPING_MODES.length];
    const [a, b] = twinBatches(pushDims(23));
    const config: ShapingConfig = { mode, gamma: 0.9 + 0.01 * (n % 10), weight: 0.5 + r() * 2 };
    const ka = await ShapingKernel.create(a, spec, PUSH_POINTS, config);
    const rb = ShapingReference.create(b, spec, PUSH_POINTS, config);
    try {
      const run = runTwins(a, b, ka, rb, 100 + n, 12);
      advanced += run.stageCounts.slice(1).reduce((x, y) => x + y, 0);
      finished += run.finished;
    } catch (e) {
      throw new Error(`random spec ${n}: ${JSON.stringify(spec)}: ${(e as Error).message}`);
    }
    ka.free();
  }
  // Both kinds were exercised, and states latched past stage 0 (so derived points decided predicates).
  assert.ok(shiftPoints >= 24 && offsetPoints > 10, `${shiftPoints} shift and ${offsetPoints} offset points`);
  assert.ok(advanced > 500, `only ${advanced} env-steps past stage 0`);
  assert.ok(finished > 100, `only ${finished} finished episodes`);
});

test('shared-memory kernel equals the plain reference', async () => {
  const [b, a] = twinBatches(pushDims(29), true);
  assert.ok(a.memory.buffer instanceof SharedArrayBuffer, 'shared memory');
  const config: ShapingConfig = { mode: 'pbrs', gamma: 0.99, weight: 1 };
  const ka = await ShapingKernel.create(a, KITCHEN_SINK_SPEC, PUSH_POINTS, config);
  const rb = ShapingReference.create(b, KITCHEN_SINK_SPEC, PUSH_POINTS, config);
  assert.ok(runTwins(a, b, ka, rb, 77, 20).finished > 30, 'episodes finished');
  await assert.rejects(ShapingKernel.create(a, KITCHEN_SINK_SPEC, PUSH_POINTS, config, { shared: false }), /memory is shared/);
});

test('[0, N) equals [0, k) then [k, N), byte for byte after every call', async () => {
  const [a, b] = twinBatches(pushDims(50));
  const config: ShapingConfig = { mode: 'gated', gamma: 0.95, weight: 2 };
  const ka = await ShapingKernel.create(a, KITCHEN_SINK_SPEC, PUSH_POINTS, config);
  const kb = await ShapingKernel.create(b, KITCHEN_SINK_SPEC, PUSH_POINTS, config);
  const r = rng(5);
  for (let i = 0; i < 50; i++) randomState(a, i, r);
  copyBatch(a, b);
  ka.reset();
  kb.reset(0, 13);
  kb.reset(13, 50);
  assertOutputsEqual(a, b, 'reset');
  let finished = 0;
  for (let t = 0; t < 30; t++) {
    for (let i = 0; i < 50; i++) {
      randomState(a, i, r);
      randomReadback(a, i, r, 0.1);
    }
    copyInputs(a, b);
    ka.step();
    kb.step(0, 17);
    kb.step(17, 17);
    kb.step(17, 50);
    assertOutputsEqual(a, b, `step ${t}`); // the accumulators too, at every episode's end
    for (let i = 0; i < 50; i++) if (a.done[i]) finished++;
    for (let i = 0; i < 50; i++) if (a.done[i]) randomState(a, i, r);
    copyInputs(a, b);
    ka.reset(0, 50, true);
    kb.reset(0, 31, true);
    kb.reset(31, 50, true);
    assertOutputsEqual(a, b, `reset after step ${t}`);
  }
  for (const f of OUTPUT_FIELDS) assert.deepEqual(a[f], b[f], f);
  assert.ok(finished > 100, `only ${finished} episodes finished`);
  assert.throws(() => ka.step(10, 51), /env range \[10, 51\) is not inside \[0, 50\)/);
  assert.throws(() => ka.reset(-1, 3), /env range/);
});

test('the kernel writes only its outputs and its table', async () => {
  const [a] = twinBatches(pushDims(16));
  const mem = new Uint8Array(a.memory.buffer);
  const r = rng(9);
  for (let j = 0; j < mem.length; j++) mem[j] = (r() * 256) | 0; // every byte random, outputs included
  for (let i = 0; i < 16; i++) {
    randomState(a, i, r);
    randomReadback(a, i, r);
    a.stage[i] = 0;
    a.maxStage[i] = 0;
  }
  const before = mem.slice();
  const k = await ShapingKernel.create(a, KITCHEN_SINK_SPEC, PUSH_POINTS, { mode: 'pbrs', gamma: 0.9, weight: 1 });
  k.reset(0, 16, true);
  k.step();
  k.reset(0, 16, false);
  k.setConfig({ weight: 3 });
  const writable: [number, number][] = [[SHAPING_TABLE_OFFSET, SHAPING_TABLE_OFFSET + SHAPING_TABLE_BYTES]];
  for (const f of OUTPUT_FIELDS) writable.push([a.layout.offsets[f], a.layout.offsets[f] + a[f].byteLength]);
  let changedOutside = 0;
  for (let j = 0; j < mem.length; j++) {
    if (mem[j] !== before[j] && !writable.some(([lo, hi]) => j >= lo && j < hi)) changedOutside++;
  }
  assert.equal(changedOutside, 0);
  assert.ok(SHAPING_TABLE_OFFSET + SHAPING_TABLE_BYTES <= KERNEL_RESERVED_BYTES, 'table fits');
  // 1664 bytes of spec, then 64 slots × (32 bytes of staging + 12 points × 3 × 16 bytes = 608) = 40576 bytes, at
  // the top of the reserved bytes: 65536 − 40576 = 24960 = 390 × 64.
  assert.deepEqual([SHAPING_TABLE_BYTES, SHAPING_TABLE_OFFSET], [40576, 24960]);
});

test('setConfig switches modes at run time and re-weights Φ; kernel and reference agree', async () => {
  const [a, b] = twinBatches(pushDims(21));
  const ka = await ShapingKernel.create(a, PUSH_SUBGOALS, PUSH_POINTS, { mode: 'sparse', gamma: 0.99, weight: 1 });
  const rb = ShapingReference.create(b, PUSH_SUBGOALS, PUSH_POINTS, {});
  assert.deepEqual(rb.config, { mode: 'sparse', gamma: 0.99, weight: 1 }); // the defaults
  const r = rng(31);
  for (let i = 0; i < 21; i++) randomState(a, i, r);
  copyBatch(a, b);
  ka.reset();
  rb.reset();
  for (const [t, change] of ([[0, { mode: 'pbrs' }], [1, { weight: 2.5 }], [2, { mode: 'bonus', bonus: 4 }], [3, { mode: 'dense', gamma: 0.5 }], [4, { mode: 'gated' }]] as const)) {
    const phiBefore = Float32Array.from(a.potential);
    ka.setConfig(change);
    rb.setConfig(change);
    assert.deepEqual(ka.config, rb.config);
    if (t === 1) {
      // Φ scales with the weight at an unchanged stage: Φ_new = 2.5 · Φ_old up to f32 rounding.
      for (let i = 0; i < 21; i++) assertClose(a.potential[i], 2.5 * phiBefore[i], 1e-6, `Φ[${i}]`);
      assertOutputsEqual(a, b, 'after re-weighting');
    }
    for (let i = 0; i < 21; i++) {
      randomState(a, i, r);
      randomReadback(a, i, r, 0);
    }
    copyInputs(a, b);
    ka.step();
    rb.step();
    assertOutputsEqual(a, b, `after ${JSON.stringify(change)}`);
    const m = SHAPING_MODES.indexOf(ka.config.mode);
    for (let i = 0; i < 21; i++) assert.equal(a.shapedReward[i], Math.fround(a.reward[i] + a.rewardTerms[i * MAX_REWARD_TERMS + m]));
  }
  assert.deepEqual(ka.config, { mode: 'gated', gamma: 0.5, weight: 2.5, bonus: 4 });
  assert.throws(() => ka.setConfig({ gamma: 2 }), /^Error: shaping.gamma: must be a number in \[0, 1\], got number 2$/);
  assert.equal(ka.config.gamma, 0.5);
});

test('episode accumulators at the end of an episode, hand-counted on 4 envs, and the statistics made of them', async () => {
  const [a] = twinBatches(pushDims(4));
  const k = await ShapingKernel.create(a, PUSH_SIGMA_01, PUSH_POINTS, { mode: 'pbrs', gamma: 1, weight: 1 });
  // Every env: object at the goal, grip far from it. behindObject is undefined when object = goal and falls
  // back to the object itself, so stage 0's distance is ‖(−0.3, −0.35, 0.175)‖ = √0.243125 = 0.493077 > 0.03:
  // stage 0, Φ0 = 1 − tanh(4.93077) = 2 / (e^9.86154 + 1) = 2 / 19179.4 = 1.0428e-4.
  const far = [1.0, 0.4, 0.6], obj = [1.3, 0.75, 0.425];
  for (let i = 0; i < 4; i++) a.points.set([...far, ...obj, ...obj], i * 9);
  k.reset();
  assert.deepEqual([...a.stage], [0, 0, 0, 0]);
  const phi0 = a.potential[0];
  assertClose(phi0, 1.0428e-4, 2e-8, 'Φ0');
  // Step: env 1 puts the grip on the object: stages 0 and 1 both hold → stage 2, Φ = 1 + (1 − tanh 0) = 2.
  // Rewards −1, 0, −1, 0; env 1 truncated with success, env 2 truncated, env 3 terminated with success.
  a.points.set(obj, 1 * 9);
  a.reward.set([-1, 0, -1, 0]);
  a.success.set([0, 1, 0, 1]);
  a.truncated.set([0, 1, 1, 0]);
  a.terminated.set([0, 0, 0, 1]);
  a.done.set([0, 1, 1, 1]);
  k.step();
  assert.deepEqual([...a.stage], [0, 2, 0, 0]);
  // Per env, the one-step episode's sums are that step's values. F (γ = 1): env 0 and env 2 (unmoved): Φ0 − Φ0 = 0;
  // env 1: 2 − Φ0; env 3 (terminated, Φ' = 0): −Φ0. Shaped = r + F. Bonus: env 1 completed 2 stages → 2.
  // Dense: −w·‖object − goal‖ = 0 everywhere; gated −w·d_0 = −0.493077 at stage 0, −w·d_1 = 0 for env 1.
  const T = MAX_REWARD_TERMS, fr = Math.fround;
  assert.deepEqual([...a.episodeReturn], [-1, 0, -1, 0]);
  assert.deepEqual([...a.episodeShapedReturn], [-1, fr(2 - phi0), -1, -phi0]);
  assert.deepEqual([...a.maxStage], [0, 2, 0, 0]);
  const terms = (i: number) => [...a.episodeTermSums.subarray(i * T, i * T + 5)];
  assert.deepEqual(terms(1), [0, 0, fr(2 - phi0), 2, 0]);
  assert.deepEqual(terms(3).slice(0, 4), [0, 0, -phi0, 0]);
  for (const i of [0, 2]) assert.deepEqual(terms(i).slice(0, 4), [-1, 0, 0, 0]);
  for (const i of [0, 2, 3]) assertClose(terms(i)[4], -0.493077, 1e-6, `gated[${i}]`);
  // Progress: env 1 went from P0 = Φ0 (w = 1) to P = 1 + g(0) = 2, so w · (2 − P0); the unmoved envs gained nothing.
  assert.deepEqual([0, 1, 2, 3].map((i) => a.episodeTermSums[i * T + 5]), [0, fr(2 - phi0), 0, 0]);
  assert.deepEqual([...a.bestProgress], [phi0, 2, phi0, phi0]);
  for (let i = 0; i < 4; i++) assert.ok(a.episodeTermSums.subarray(i * T + 6, i * T + T).every((x) => x === 0), 'terms 6..11 are 0');
  // The env's statistics of these accumulators (engine/env.ts adds the done envs 1, 2, 3 in env order):
  // count 3, successes 2, Σ return 0 − 1 + 0 = −1, Σ shaped = (2 − Φ0) − 1 − Φ0 = 1 − 2Φ0, Σ F = 2 − 2Φ0,
  // Σ bonus 2, Σ gated over envs 2 and 3 = −2 · 0.493077, maxStage histogram [2, 0, 1].
  const words = new Float64Array(SLOT_STAT_WORDS);
  for (let i = 0; i < 4; i++) if (a.done[i]) recordEpisode(words, a.success[i], a.episodeReturn[i], a.episodeShapedReturn[i], a.episodeTermSums, i * T, a.maxStage[i], 50);
  const s = statsFromWords(words, k.numStages);
  assert.equal(s.count, 3);
  assert.equal(s.successCount, 2);
  assert.equal(s.sumReturn, -1);
  assert.equal(s.termSums.sparse, -1);
  assert.equal(s.termSums.bonus, 2);
  assert.deepEqual(s.maxStageCounts, [2, 0, 1]);
  assertClose(s.termSums.pbrs, 2 - 2 * phi0, 1e-6, 'Σ F');
  assertClose(s.sumShapedReturn, 1 - 2 * phi0, 1e-6, 'Σ shaped');
  assert.equal(s.termSums.dense, 0);
  assertClose(s.termSums.gated, -2 * 0.493077, 1e-5, 'Σ gated');
});

test('refreshPotential recomputes Φ on a sub-range only, at the stored stage; kernel and reference agree', async () => {
  const [a, b] = twinBatches(pushDims(13));
  const ka = await ShapingKernel.create(a, KITCHEN_SINK_SPEC, PUSH_POINTS, { mode: 'pbrs', gamma: 0.9, weight: 1.5 });
  const rb = ShapingReference.create(b, KITCHEN_SINK_SPEC, PUSH_POINTS, { mode: 'pbrs', gamma: 0.9, weight: 1.5 });
  const r = rng(77);
  for (let i = 0; i < 13; i++) randomState(a, i, r);
  copyBatch(a, b);
  ka.reset();
  rb.reset();
  // A restore: new points and a stored stage that the latch did not produce, in envs 3..8 only.
  for (let i = 0; i < 13; i++) randomState(a, i, r);
  for (let i = 3; i < 9; i++) a.stage[i] = i % 4;
  copyBatch(a, b);
  const before = Float32Array.from(a.potential);
  ka.refreshPotential(3, 9);
  rb.refreshPotential(3, 9);
  assertOutputsEqual(a, b, 'after refreshPotential');
  for (let i = 0; i < 13; i++) if (i < 3 || i >= 9) assert.equal(a.potential[i], before[i], `Φ[${i}] outside the range changed`);
  let changed = 0;
  for (let i = 3; i < 9; i++) if (a.potential[i] !== before[i]) changed++;
  assert.ok(changed >= 4, `only ${changed} of 6 potentials changed`);
  // Φ at stage k lies in [w·k, w·(k + 1)] (the progress term is in [0, 1]); the stage stays as stored.
  for (let i = 3; i < 9; i++) {
    const k = Math.min(a.stage[i], 3);
    assert.equal(a.stage[i], i % 4);
    assert.ok(a.potential[i] >= 1.5 * k - 1e-5 && a.potential[i] <= 1.5 * (k + 1) + 1e-5, `Φ[${i}] = ${a.potential[i]} at stage ${k}`);
  }
  assert.throws(() => ka.refreshPotential(5, 14), /env range \[5, 14\) is not inside \[0, 13\)/);
});
