/** Shared pieces of the shaping tests: a seeded RNG, twin batches and random states that cross stages. */
import assert from 'node:assert/strict';
import { createBatch, type Batch, type BatchDims } from '../../engine/batch.ts';
import { type DerivedPoint, type LeafPredicate, type SubgoalSpec } from '../../engine/shaping/index.ts';
import { PUSH_SUBGOALS } from '../../tasks/push.ts';
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
 * A pick-and-place style spec over Push's points built on shift points (p = from + shift): a shift point, an
 * offset point built on it, a shift point built on that offset point, and one with negative components. Four
 * stages, each reached by randomState's states with a fair chance.
 */
export const SHIFT_SPEC: SubgoalSpec = {
  points: {
    // Declared before the points they use: evaluation order comes from the dependencies.
    approach: { from: 'hover', awayFrom: 'goal', offset: 0.01, xy: true },
    hover: { from: 'object', shift: [0, 0, 0.03] },
    overApproach: { from: 'approach', shift: [0.005, -0.004, 0.002] },
    aboveGoal: { from: 'goal', shift: [-0.01, 0.02, 0.03] },
  },
  stages: [
    {
      name: 'over-object',
      predicate: { kind: 'all', of: [{ kind: 'distance', a: 'grip', b: 'overApproach', below: 0.08 }, { kind: 'gripper', state: 'open', threshold: 0.03 }] },
      progress: { a: 'grip', b: 'hover', sigma: 0.1 },
    },
    {
      name: 'grasp',
      predicate: { kind: 'distance', a: 'grip', b: 'object', below: 0.07 },
      progress: { a: 'grip', b: 'object', sigma: 0.05 },
    },
    {
      name: 'above-goal',
      predicate: { kind: 'distance', a: 'object', b: 'aboveGoal', below: 0.08, xy: true },
      progress: { a: 'object', b: 'aboveGoal', sigma: 0.1 },
    },
    {
      name: 'at-goal',
      predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.07 },
      progress: { a: 'object', b: 'goal', sigma: 0.12 },
    },
  ],
};

/**
 * A random valid spec over `taskPoints` from r: 1 to 5 derived points of both kinds (at least one shift point,
 * every shift component nonzero, |component| in [0.005, 0.1] m), each built on task points or earlier derived
 * points and declared in shuffled order; 1 to 4 stages of random leaves (distances favour derived points).
 */
export function randomSpec(r: () => number, taskPoints: readonly string[]): SubgoalSpec {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const num = (lo: number, hi: number): number => lo + r() * (hi - lo);
  const numDerived = 1 + Math.floor(r() * 5);
  const names: string[] = [...taskPoints];
  const defs: [string, DerivedPoint][] = [];
  for (let j = 0; j < numDerived; j++) {
    const name = `d${j}`;
    const from = pick(names);
    if (j === 0 || r() < 0.5) {
      const c = (): number => (r() < 0.5 ? -1 : 1) * num(0.005, 0.1);
      defs.push([name, { from, shift: [c(), c(), c()] }]);
    } else {
      const d: DerivedPoint = { from, awayFrom: pick(names.filter((n) => n !== from)), offset: num(-0.08, 0.08) };
      if (r() < 0.5) d.xy = true;
      defs.push([name, d]);
    }
    names.push(name);
  }
  for (let j = defs.length - 1; j > 0; j--) {
    const k = Math.floor(r() * (j + 1));
    [defs[j], defs[k]] = [defs[k], defs[j]];
  }
  const derivedNames = names.slice(taskPoints.length);
  const pair = (): [string, string] => {
    const a = r() < 0.6 ? pick(derivedNames) : pick(names);
    return [a, pick(names.filter((n) => n !== a))];
  };
  const leaf = (): LeafPredicate => {
    const u = r();
    if (u < 0.6) {
      const [a, b] = pair();
      return { kind: 'distance', a, b, below: num(0.04, 0.15), ...(r() < 0.3 ? { xy: true } : {}) };
    }
    if (u < 0.8) return { kind: 'height', point: pick(names), above: num(0.42, 0.48) };
    return { kind: 'gripper', state: r() < 0.5 ? 'open' : 'closed', threshold: num(0.02, 0.06) };
  };
  const numStages = 1 + Math.floor(r() * 4);
  const stages = Array.from({ length: numStages }, (_, k) => {
    const [a, b] = pair();
    const n = r() < 0.5 ? 1 : 1 + Math.floor(r() * 3);
    return {
      name: `s${k}`,
      predicate: n === 1 ? leaf() : { kind: 'all' as const, of: Array.from({ length: n }, leaf) },
      progress: { a, b, sigma: num(0.03, 0.2), ...(r() < 0.3 ? { xy: true } : {}) },
    };
  });
  return { points: Object.fromEntries(defs), stages };
}

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
export const OUTPUT_FIELDS = ['shapedReward', 'potential', 'rewardTerms', 'episodeReturn', 'episodeShapedReturn', 'episodeTermSums', 'stage', 'maxStage', 'bestProgress'] as const;

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
