// Potential-based shaping: hand-worked Φ and F for Reach and Push, termination versus truncation, the
// telescoping identity per episode, and the stage latch (never decreases, restarts at reset).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatch, MAX_REWARD_TERMS, type Batch } from '../../engine/batch.ts';
import { ShapingKernel, ShapingReference, type Shaper, type ShapingConfig } from '../../engine/shaping/index.ts';
import { PUSH_SUBGOALS } from '../../tasks/push.ts';
import { REACH_SUBGOALS } from '../../tasks/reach.ts';
import { assertClose, KITCHEN_SINK_SPEC, PUSH_POINTS, PUSH_SIGMA_01, pushDims, randomReadback, randomState, rng } from './helpers.ts';

const T = MAX_REWARD_TERMS;
const TERM_DENSE = 1, TERM_PBRS = 2, TERM_BONUS = 3, TERM_GATED = 4;

/** Both implementations on their own batch, so every hand-worked check runs on each. */
async function both(make: () => Batch, spec: unknown, points: readonly string[], config: ShapingConfig): Promise<[string, Batch, Shaper][]> {
  const a = make(), b = make();
  return [
    ['kernel', a, await ShapingKernel.create(a, spec, points, config)],
    ['reference', b, ShapingReference.create(b, spec, points, config)],
  ];
}

const reachBatch = () => createBatch({ numEnvs: 2, obsDim: 10, actDim: 4, goalDim: 3, numPoints: 2 });

test('Reach: Φ and F by hand; termination zeroes Φ(s′), truncation keeps it', async () => {
  for (const [name, b, s] of await both(reachBatch, REACH_SUBGOALS, ['grip', 'goal'], { mode: 'pbrs', gamma: 0.9, weight: 1 })) {
    // Both envs: goal at (1.3, 0.75, 0.6), grip 0.1 m away along x: d = 0.1, σ = 0.1, stage 0 (0.1 ≥ 0.05).
    // Φ(s) = 1 − tanh(1) = 1 − 0.761594 = 0.238406.
    for (const i of [0, 1]) b.points.set([1.4, 0.75, 0.6, 1.3, 0.75, 0.6], i * 6);
    s.reset();
    assertClose(b.potential[0], 0.238406, 1e-6, `${name} Φ(s)`);
    // Transition: grip to d = 0.06 (still ≥ 0.05): Φ(s′) = 1 − tanh(0.6) = 1 − 0.537050 = 0.462950.
    // Env 0 truncated: F = 0.9 × 0.462950 − 0.238406 = 0.416655 − 0.238406 = 0.178249; Φ stored 0.462950.
    // Env 1 terminated: Φ(s′) = 0, F = −0.238406; Φ stored 0.
    for (const i of [0, 1]) b.points.set([1.36, 0.75, 0.6], i * 6);
    b.reward.set([-1, -1]);
    b.truncated.set([1, 0]);
    b.terminated.set([0, 1]);
    s.step();
    assertClose(b.rewardTerms[TERM_PBRS], 0.178249, 2e-6, `${name} F truncated`);
    assertClose(b.potential[0], 0.46295, 2e-6, `${name} Φ(s′) truncated`);
    assertClose(b.rewardTerms[T + TERM_PBRS], -0.238406, 2e-6, `${name} F terminated`);
    assert.equal(b.potential[1], 0, `${name} Φ(s′) terminated`);
    // shapedReward = −1 + F; dense = gated = −d = −0.06; no stage completed.
    assertClose(b.shapedReward[0], -0.821751, 2e-6, `${name} shaped`);
    assertClose(b.rewardTerms[TERM_DENSE], -0.06, 1e-6, `${name} dense`);
    assertClose(b.rewardTerms[TERM_GATED], -0.06, 1e-6, `${name} gated`);
    assert.equal(b.rewardTerms[TERM_BONUS], 0);
    assert.deepEqual([...b.stage], [0, 0]);
  }
});

test('Push: latch through both stages by hand, with bonus and gated terms', async () => {
  const make = () => createBatch(pushDims(1));
  for (const [name, b, s] of await both(make, PUSH_SIGMA_01, PUSH_POINTS, { mode: 'pbrs', gamma: 0.99, weight: 1 })) {
    // object (1.30, 0.75, 0.425), goal (1.20, 0.75, 0.425): object − goal = (0.1, 0, 0), so behindObject =
    // (1.36, 0.75, 0.425). Grip at (1.36, 0.79, 0.425): d = 0.04 ≥ 0.03 → stage 0, Φ = 1 − tanh(0.4) = 0.620051.
    b.points.set([1.36, 0.79, 0.425, 1.3, 0.75, 0.425, 1.2, 0.75, 0.425]);
    s.reset();
    assert.equal(b.stage[0], 0);
    assertClose(b.potential[0], 0.620051, 1e-6, `${name} Φ0`);
    // Grip to (1.36, 0.77, 0.425): d = 0.02 < 0.03 → stage 0 completes; ‖object − goal‖ = 0.1 ≥ 0.05 → k = 1.
    // Φ′ = 1 + 1 − tanh(1) = 1.238406; F = 0.99 × 1.238406 − 0.620051 = 1.226022 − 0.620051 = 0.605971.
    // dense = gated = −0.1 (object to goal, the last stage and the open one); bonus = 1 (b = w).
    b.points.set([1.36, 0.77, 0.425]);
    b.reward[0] = -1;
    s.step();
    assert.equal(b.stage[0], 1);
    assertClose(b.potential[0], 1.238406, 1e-6, `${name} Φ1`);
    assertClose(b.rewardTerms[TERM_PBRS], 0.605971, 2e-6, `${name} F1`);
    assertClose(b.rewardTerms[TERM_DENSE], -0.1, 1e-6, `${name} dense1`);
    assertClose(b.rewardTerms[TERM_GATED], -0.1, 1e-6, `${name} gated1`);
    assert.equal(b.rewardTerms[TERM_BONUS], 1);
    // Object to (1.23, 0.75, 0.425): 0.03 < 0.05 → stage 1 completes, k = K = 2. The last stage's progress
    // stays live: Φ = 1 + 1 − tanh(0.3) = 1.708687; F = 0.99 × 1.708687 − 1.238406 = 0.453195;
    // dense = gated = −0.03 (the last stage's term); bonus = 1.
    b.points.set([1.23, 0.75, 0.425], 3);
    b.reward[0] = 0;
    s.step();
    assert.equal(b.stage[0], 2);
    assertClose(b.potential[0], 1.708687, 1e-6, `${name} Φ2`);
    assertClose(b.rewardTerms[TERM_PBRS], 0.453195, 2e-6, `${name} F2`);
    assertClose(b.rewardTerms[TERM_DENSE], -0.03, 1e-6, `${name} dense2`);
    assertClose(b.rewardTerms[TERM_GATED], -0.03, 1e-6, `${name} gated2`);
    assert.equal(b.rewardTerms[TERM_BONUS], 1);
    // The latch holds but Φ follows the goal: the object leaves to (1.4, 0.9), 0.25 from the goal, and the grip
    // leaves; stage stays 2, Φ = 1 + 1 − tanh(2.5) = 1.013386, F = 0.99 × 1.013386 − 1.708687 = −0.705436.
    b.points.set([1.0, 0.5, 0.6, 1.4, 0.9, 0.425]);
    b.reward[0] = -1;
    s.step();
    assert.equal(b.stage[0], 2);
    assertClose(b.potential[0], 1.013386, 1e-6, `${name} Φ3`);
    assertClose(b.rewardTerms[TERM_PBRS], -0.705436, 2e-6, `${name} F3`);
    assert.equal(b.rewardTerms[TERM_BONUS], 0);
    // Episode sums: return −1 + 0 − 1 = −2, bonus 2; maxStage 2.
    assert.equal(b.episodeReturn[0], -2);
    assert.equal(b.episodeTermSums[TERM_BONUS], 2);
    assert.equal(b.maxStage[0], 2);
    // Reset restarts the latch from 0 on the new state (both stages in one step → bonus 2 next time).
    b.points.set([1.36, 0.79, 0.425, 1.3, 0.75, 0.425, 1.2, 0.75, 0.425]);
    b.done[0] = 1;
    s.reset(0, 1, true);
    assert.deepEqual([b.stage[0], b.maxStage[0], b.episodeReturn[0], b.episodeTermSums[TERM_BONUS]], [0, 0, 0, 0]);
    assertClose(b.rewardTerms[TERM_PBRS], -0.705436, 2e-6, `${name} reset(onlyDone) keeps the last transition's terms`);
    b.points.set([1.36, 0.75, 0.425, 1.3, 0.75, 0.425, 1.28, 0.75, 0.425]);
    b.done[0] = 0;
    s.step();
    // object − goal = (0.02, 0, 0): behindObject = (1.36, 0.75, 0.425) = grip → stage 0 holds; 0.02 < 0.05 → 2.
    assert.equal(b.stage[0], 2);
    assert.equal(b.rewardTerms[TERM_BONUS], 2);
  }
});

test('reset latches in order: a later stage that holds does not count before the earlier one', async () => {
  const make = () => createBatch(pushDims(2));
  for (const [name, b, s] of await both(make, PUSH_SUBGOALS, PUSH_POINTS, { mode: 'sparse', gamma: 0.99, weight: 1 })) {
    // Env 0: object at the goal (stage 1's predicate holds) but the grip far from behindObject → stage 0.
    // Env 1: the same with the grip on behindObject → stages 0 and 1 → 2.
    b.points.set([1.0, 0.5, 0.6, 1.3, 0.75, 0.425, 1.28, 0.75, 0.425]);
    b.points.set([1.36, 0.75, 0.425, 1.3, 0.75, 0.425, 1.28, 0.75, 0.425], 9);
    // Leftovers of an earlier transition: env.reset() has no transition, so reset(…, false) clears them.
    b.shapedReward.fill(-3);
    b.rewardTerms.fill(5);
    b.episodeTermSums.fill(7);
    b.episodeReturn.fill(-9);
    s.reset();
    assert.deepEqual([...b.stage], [0, 2], name);
    assert.deepEqual([...b.maxStage], [0, 2], name);
    for (const f of ['shapedReward', 'rewardTerms', 'episodeTermSums', 'episodeReturn'] as const) assert.ok(b[f].every((x) => x === 0), `${name}: ${f} zeroed`);
  }
});

test('telescoping: Σ_t γ^t F_t = γ^T Φ(s_T) − Φ(s_0) per episode to 1e-5, terminated and truncated', async () => {
  for (const impl of ['kernel', 'reference'] as const) {
    const N = 64, gamma = 0.99;
    const b = createBatch(pushDims(N));
    const config: ShapingConfig = { mode: 'pbrs', gamma, weight: 1 };
    const s: Shaper = impl === 'kernel' ? await ShapingKernel.create(b, KITCHEN_SINK_SPEC, PUSH_POINTS, config) : ShapingReference.create(b, KITCHEN_SINK_SPEC, PUSH_POINTS, config);
    const r = rng(2024);
    // Per env: Σ γ^t F_t so far, γ^t, Φ(s_0) of the running episode.
    const sum = new Float64Array(N), disc = new Float64Array(N).fill(1), phi0 = new Float64Array(N);
    for (let i = 0; i < N; i++) randomState(b, i, r);
    s.reset();
    phi0.set(b.potential);
    let episodes = 0, terminatedEpisodes = 0, largestSum = 0;
    for (let t = 0; t < 400; t++) {
      for (let i = 0; i < N; i++) {
        randomState(b, i, r);
        randomReadback(b, i, r, 0.02);
      }
      s.step();
      for (let i = 0; i < N; i++) {
        sum[i] += disc[i] * b.rewardTerms[i * T + TERM_PBRS];
        disc[i] *= gamma;
        if (!b.done[i]) continue;
        // disc = γ^T; b.potential = Φ(s_T), 0 when terminated.
        const err = Math.abs(sum[i] - (disc[i] * b.potential[i] - phi0[i]));
        largestSum = Math.max(largestSum, Math.abs(sum[i]));
        assert.ok(err < 1e-5, `${impl} env ${i} step ${t}: Σ γ^t F = ${sum[i]}, γ^T Φ_T − Φ_0 = ${disc[i] * b.potential[i] - phi0[i]}`);
        if (b.terminated[i]) {
          assert.equal(b.potential[i], 0);
          terminatedEpisodes++;
        }
        episodes++;
        randomState(b, i, r);
        sum[i] = 0;
        disc[i] = 1;
      }
      s.reset(0, N, true);
      for (let i = 0; i < N; i++) if (b.done[i]) phi0[i] = b.potential[i];
    }
    assert.ok(episodes > 500 && terminatedEpisodes > 200, `${impl}: ${episodes} episodes, ${terminatedEpisodes} terminated`);
    assert.ok(largestSum > 1, `${impl}: the identity is checked on sums up to ${largestSum}`);
  }
});

test('the latch never decreases inside an episode and restarts at reset', async () => {
  const N = 40;
  const b = createBatch(pushDims(N));
  const s = await ShapingKernel.create(b, KITCHEN_SINK_SPEC, PUSH_POINTS, { mode: 'bonus', gamma: 0.99, weight: 1 });
  const r = rng(99);
  for (let i = 0; i < N; i++) randomState(b, i, r);
  s.reset();
  const prev = Int32Array.from(b.stage);
  let rises = 0, restarts = 0, stayedHigh = 0;
  for (let t = 0; t < 200; t++) {
    for (let i = 0; i < N; i++) {
      randomState(b, i, r);
      randomReadback(b, i, r, 0.03);
    }
    s.step();
    for (let i = 0; i < N; i++) {
      assert.ok(b.stage[i] >= prev[i], `env ${i} step ${t}: stage fell from ${prev[i]} to ${b.stage[i]}`);
      // The bonus term counts exactly the stages gained.
      assert.equal(b.rewardTerms[i * T + TERM_BONUS], b.stage[i] - prev[i]);
      if (b.stage[i] > prev[i]) rises++;
      else if (b.stage[i] > 0) stayedHigh++;
      assert.ok(b.maxStage[i] === b.stage[i], 'maxStage tracks the latched stage');
    }
    for (let i = 0; i < N; i++) if (b.done[i]) randomState(b, i, r);
    const before = Int32Array.from(b.stage);
    s.reset(0, N, true);
    for (let i = 0; i < N; i++) {
      if (b.done[i]) {
        if (b.stage[i] < before[i]) restarts++;
        assert.equal(b.episodeReturn[i], 0);
      } else {
        assert.equal(b.stage[i], before[i], 'reset(onlyDone) leaves running episodes alone');
      }
    }
    prev.set(b.stage);
  }
  assert.ok(rises > 100 && restarts > 50 && stayedHigh > 100, `rises ${rises}, restarts ${restarts}, stayed ${stayedHigh}`);
});

test('predicate kinds by hand: gripper open and closed, height, xy distance, derived xy point', async () => {
  // Stage 0: gripper open (opening > 0.04) and the grip within 0.05 of the object horizontally.
  // Stage 1: gripper closed (opening < 0.01). Stage 2: object above z = 0.45.
  const spec = {
    points: { lifted: { from: 'object', awayFrom: 'goal', offset: 0.1, xy: true } },
    stages: [
      { name: 'open-near', predicate: { kind: 'all', of: [{ kind: 'gripper', state: 'open', threshold: 0.04 }, { kind: 'distance', a: 'grip', b: 'object', below: 0.05, xy: true }] }, progress: { a: 'grip', b: 'object', sigma: 0.1 } },
      { name: 'closed', predicate: { kind: 'gripper', state: 'closed', threshold: 0.01 }, progress: { a: 'grip', b: 'lifted', sigma: 0.1, xy: true } },
      { name: 'lifted', predicate: { kind: 'height', point: 'object', above: 0.45 }, progress: { a: 'object', b: 'goal', sigma: 0.1 } },
    ],
  };
  const make = () => createBatch(pushDims(5));
  for (const [name, b, s] of await both(make, spec, PUSH_POINTS, { mode: 'gated', gamma: 1, weight: 1 })) {
    // Object (1.3, 0.75, z), goal (1.3, 0.95, 0.425). Grip 0.2 m above the object: 3-D distance 0.2, but the
    // xy distance is 0, so 'open-near' holds whenever the gripper is open.
    const set = (i: number, opening: number, objZ: number) => {
      b.points.set([1.3, 0.75, objZ + 0.2, 1.3, 0.75, objZ, 1.3, 0.95, 0.425], i * 9);
      b.gripperOpening[i] = opening;
    };
    set(0, 0.05, 0.425); // open, low:               stage 0 holds; 0.05 is not < 0.01 → k = 1
    set(1, 0.03, 0.425); // neither open nor closed: k = 0
    set(2, 0.005, 0.5); //  closed, high:            not open → k = 0 (stage order)
    set(3, 0.05, 0.5); //   open, high:              k = 1 (not closed)
    set(4, 0.04, 0.425); // exactly the threshold:   'open' needs > 0.04 → k = 0
    s.reset();
    assert.deepEqual([...b.stage], [1, 0, 0, 1, 0], name);
    // Close every gripper: env 0 and 3 complete 'closed'; env 3's object is high → k = 3, env 0 stays at 2.
    for (let i = 0; i < 5; i++) b.gripperOpening[i] = 0.005;
    s.step();
    assert.deepEqual([...b.stage], [2, 0, 0, 3, 0], name);
    // Gated term of env 0 (stage 2 open): −‖object − goal‖ = −0.2. Env 1 (stage 0 open): stage 0's progress is
    // the 3-D grip-object distance, 0.2 → −0.2 as well. Env 3: every stage done, the last gate stays open:
    // −‖object − goal‖ = −‖(0, −0.2, 0.075)‖ = −0.213600.
    assertClose(b.rewardTerms[0 * T + TERM_GATED], -0.2, 1e-6, `${name} gated env 0`);
    assertClose(b.rewardTerms[1 * T + TERM_GATED], -0.2, 1e-6, `${name} gated env 1`);
    assertClose(b.rewardTerms[3 * T + TERM_GATED], -0.2136, 1e-6, `${name} gated env 3`);
    // Put env 0 back at stage 1: its progress is the xy distance from the grip to 'lifted' = object + 0.1 m
    // away from the goal horizontally = (1.3, 0.65, z): 0.1 (in 3-D it would be 0.2236), so
    // Φ = 1 + 1 − tanh(1) = 1.238406.
    b.stage[0] = 1;
    b.maxStage[0] = 1;
    b.gripperOpening[0] = 0.02; // not closed: the latch stays at 1
    s.step();
    assert.equal(b.stage[0], 1);
    assertClose(b.potential[0], 1.238406, 1e-6, `${name} Φ at stage 1`);
  }
});

test('shift point by hand: 10 cm above the object, the grip 7.5 cm over it holds below 0.08', async () => {
  // above = object + (0, 0, 0.1). Stage 0: ‖grip − above‖ < 0.08; stage 1: ‖grip − object‖ < 0.02. σ = 0.1.
  const spec = {
    points: { above: { from: 'object', shift: [0, 0, 0.1] } },
    stages: [
      { name: 'above-object', predicate: { kind: 'distance', a: 'grip', b: 'above', below: 0.08 }, progress: { a: 'grip', b: 'above', sigma: 0.1 } },
      { name: 'grasp', predicate: { kind: 'distance', a: 'grip', b: 'object', below: 0.02 }, progress: { a: 'grip', b: 'object', sigma: 0.1 } },
    ],
  };
  const make = () => createBatch(pushDims(2));
  for (const [name, b, s] of await both(make, spec, PUSH_POINTS, { mode: 'pbrs', gamma: 0.99, weight: 1 })) {
    // Object (1.30, 0.75, 0.425): above = (1.30, 0.75, 0.525). Goal (1.2, 0.8, 0.425) plays no part.
    // Env 0: grip (1.30, 0.75, 0.60): ‖grip − above‖ = 0.075 < 0.08 → stage 0 holds; ‖grip − object‖ = 0.175
    //   ≥ 0.02 → k = 1, Φ = 1 + 1 − tanh(1.75) = 2 − 0.941376 = 1.058624.
    // Env 1: grip (1.30, 0.75, 0.61): 0.085 ≥ 0.08 → k = 0, Φ = 1 − tanh(0.85) = 1 − 0.691069 = 0.308931.
    b.points.set([1.3, 0.75, 0.6, 1.3, 0.75, 0.425, 1.2, 0.8, 0.425], 0);
    b.points.set([1.3, 0.75, 0.61, 1.3, 0.75, 0.425, 1.2, 0.8, 0.425], 9);
    s.reset();
    assert.deepEqual([...b.stage], [1, 0], name);
    assertClose(b.potential[0], 1.058624, 1e-6, `${name} Φ env 0`);
    assertClose(b.potential[1], 0.308931, 1e-6, `${name} Φ env 1`);
    // Env 1's grip drops to z = 0.53: 0.005 from above → stage 0 completes; 0.105 from the object → k = 1,
    // Φ' = 2 − tanh(1.05) = 2 − 0.781806 = 1.218194; F = 0.99 × 1.218194 − 0.308931 = 0.897081.
    b.points.set([1.3, 0.75, 0.53], 9);
    b.reward.set([-1, -1]);
    s.step();
    assert.deepEqual([...b.stage], [1, 1], name);
    assertClose(b.potential[1], 1.218194, 1e-6, `${name} Φ' env 1`);
    assertClose(b.rewardTerms[T + TERM_PBRS], 0.897081, 2e-6, `${name} F env 1`);
    assertClose(b.rewardTerms[T + TERM_BONUS], 1, 0, `${name} bonus env 1`);
  }
});

test('1 − tanh in f32 (the kernel\'s polynomial) is within 3e-7 relative of the exact value on [0, 40]', async () => {
  const { oneMinusTanhF32 } = await import('../../engine/shaping/reference.ts');
  // Exact: 1 − tanh(x) = 2 / (1 + e^{2x}), in f64. Every 1e-3 from 0 to 40 (40001 points).
  let worst = 0;
  for (let j = 0; j <= 40000; j++) {
    const x = Math.fround(j * 1e-3);
    const exact = 2 / (1 + Math.exp(2 * x));
    worst = Math.max(worst, Math.abs(oneMinusTanhF32(x) - exact) / exact);
  }
  assert.ok(worst < 3e-7, `worst relative error ${worst}`);
  // By hand: g(0) = 2 / (1 + 1) = 1 exactly; g(1) = 1 − 0.7615942 = 0.2384058; beyond 40 it stays at g(40).
  assert.equal(oneMinusTanhF32(0), 1);
  assertClose(oneMinusTanhF32(1), 0.2384058, 1e-7, 'g(1)');
  assert.equal(oneMinusTanhF32(1000), oneMinusTanhF32(40));
  assert.ok(oneMinusTanhF32(40) > 0 && oneMinusTanhF32(40) < 1e-34, 'g(40) is tiny and positive');
});
