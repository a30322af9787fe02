/** Shared pieces of the shaping tests: a seeded RNG, twin batches and random states that cross stages. */
import assert from 'node:assert/strict';
import { createBatch, type Batch, type BatchDims } from '../../engine/batch.ts';
import { PUSH_SUBGOALS, type SubgoalSpec } from '../../engine/shaping/index.ts';
import { mulberry32 } from '../../engine/rng.ts';

/** Deterministic uniform numbers in [0, 1) (mulberry32, engine/rng.ts). */
export const rng = mulberry32;

export const PUSH_POINTS = ['grip', 'object', 'goal'] as const;

/** Push's stages with σ = 0.1 in both progress terms, the scale the tests' numbers worked out by hand use. */
export const PUSH_SIGMA_01: SubgoalSpec = { ...PUSH_SUBGOALS, stages: PUSH_SUBGOALS.stages.map((st) => ({ ...st, progress: { ...st.progress, sigma: 0.1 } })) };

export function pushDims(numEnvs: number): BatchDims {
  return { numEnvs, obsDim: 25, actDim: 4, goalDim: 3, numPoints: 3 };
}

/** Two zeroed batches of the same dims (the second shared when asked). */
export function twinBatches(dims: BatchDims, sharedSecond = false): [Batch, Batch] {
  return [createBatch(dims), createBatch(dims, { shared: sharedSecond })];
}

/**
 * A spec that uses every feature: derived points (one built on another), 'all', xy distances, height and
 * both gripper states, over Push's points. Four stages.
 */
export const KITCHEN_SINK_SPEC: SubgoalSpec = {
  points: {
    behind: { from: 'object', awayFrom: 'goal', offset: 0.05, xy: true },
    approach: { from: 'behind', awayFrom: 'object', offset: 0.02 },
  },
  stages: [
    {
      name: 'open-behind',
      predicate: { kind: 'all', of: [{ kind: 'distance', a: 'grip', b: 'approach', below: 0.06, xy: true }, { kind: 'gripper', state: 'open', threshold: 0.04 }] },
      progress: { a: 'grip', b: 'approach', sigma: 0.08 },
    },
    {
      name: 'grasp',
      predicate: { kind: 'all', of: [{ kind: 'distance', a: 'grip', b: 'object', below: 0.05 }, { kind: 'gripper', state: 'closed', threshold: 0.03 }] },
      progress: { a: 'grip', b: 'object', sigma: 0.05, xy: true },
    },
    {
      name: 'lift',
      predicate: { kind: 'height', point: 'object', above: 0.45 },
      progress: { a: 'object', b: 'goal', sigma: 0.1 },
    },
    {
      name: 'at-goal',
      predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.06 },
      progress: { a: 'object', b: 'goal', sigma: 0.12 },
    },
  ],
};

/**
 * Writes a random state of env i into batch: goal and object near a table point, the grip near the object
 * (so that grip/object/goal predicates each hold with a fair chance), object height around the lift level,
 * gripper opening in [0, 0.08].
 */
export function randomState(b: Batch, i: number, r: () => number): void {
  const p = b.points, o = i * 9;
  const gx = 1.3 + (r() - 0.5) * 0.3, gy = 0.75 + (r() - 0.5) * 0.3;
  const ox = gx + (r() - 0.5) * 0.16, oy = gy + (r() - 0.5) * 0.16, oz = 0.425 + r() * 0.05;
  p[o] = ox + (r() - 0.5) * 0.16; p[o + 1] = oy + (r() - 0.5) * 0.16; p[o + 2] = oz + (r() - 0.5) * 0.04;
  p[o + 3] = ox; p[o + 4] = oy; p[o + 5] = oz;
  p[o + 6] = gx; p[o + 7] = gy; p[o + 8] = 0.425;
  b.gripperOpening[i] = r() * 0.08;
}

/** Random transition outputs the env writes at READBACK: reward −1/0, success, terminated/truncated, done. */
export function randomReadback(b: Batch, i: number, r: () => number, pEnd = 0.06): void {
  const s = r() < 0.3 ? 1 : 0;
  b.reward[i] = s ? 0 : -1;
  b.success[i] = s;
  const u = r();
  b.terminated[i] = u < pEnd ? 1 : 0;
  b.truncated[i] = u >= pEnd && u < 2 * pEnd ? 1 : 0;
  b.done[i] = b.terminated[i] | b.truncated[i];
}

/** Copies every per-env field of a into b (inputs and outputs), so twin batches start equal. */
export function copyBatch(a: Batch, b: Batch): void {
  new Uint8Array(b.memory.buffer, b.layout.offsets.obs, b.layout.byteLength - b.layout.offsets.obs).set(
    new Uint8Array(a.memory.buffer, a.layout.offsets.obs, a.layout.byteLength - a.layout.offsets.obs),
  );
}

/** Fields the shaper writes. */
export const OUTPUT_FIELDS = ['shapedReward', 'potential', 'rewardTerms', 'episodeReturn', 'episodeShapedReturn', 'episodeTermSums', 'stage', 'maxStage'] as const;

/** Asserts the shaper outputs of a and b are the same bits, naming the first field and element that differ. */
export function assertOutputsEqual(a: Batch, b: Batch, what: string): void {
  for (const f of OUTPUT_FIELDS) {
    const x = new Uint32Array(a[f].buffer, a[f].byteOffset, a[f].length), y = new Uint32Array(b[f].buffer, b[f].byteOffset, b[f].length);
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) assert.fail(`${what}: ${f}[${j}] = ${a[f][j]} vs ${b[f][j]}`);
  }
}

/** Asserts |actual − expected| <= tol, naming both (assert.ok without a message is slow to fail under tsx). */
export function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tolerance ${tol})`);
}
