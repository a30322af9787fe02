// Subgoal spec and shaping config validation: the default specs pass and survive JSON, every kind of bad
// input is rejected with a message that names the field, and compilation resolves names to indices.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatch } from '../../engine/batch.ts';
import {
  compileSubgoalSpec, ShapingKernel, ShapingReference, validateShapingConfig, validateSubgoalSpec,
} from '../../engine/shaping/index.ts';
import { encodeSpec } from '../../engine/shaping/table.ts';
import { getTask, listTasks } from '../../tasks/registry.ts';
import { PUSH_SUBGOALS } from '../../tasks/push.ts';
import { REACH_SUBGOALS } from '../../tasks/reach.ts';
import { KITCHEN_SINK_SPEC, PUSH_POINTS, pushDims, randomSpec, rng, SHIFT_SPEC } from './helpers.ts';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

test('default and feature specs validate, unchanged, and survive a JSON round trip', () => {
  assert.deepEqual(validateSubgoalSpec(clone(REACH_SUBGOALS), ['grip', 'goal']), REACH_SUBGOALS);
  assert.deepEqual(validateSubgoalSpec(JSON.parse(JSON.stringify(PUSH_SUBGOALS)), PUSH_POINTS), PUSH_SUBGOALS);
  assert.deepEqual(validateSubgoalSpec(clone(KITCHEN_SINK_SPEC), PUSH_POINTS), KITCHEN_SINK_SPEC);
  assert.deepEqual(validateSubgoalSpec(clone(SHIFT_SPEC), PUSH_POINTS), SHIFT_SPEC);
  const r = rng(8);
  for (let n = 0; n < 50; n++) {
    const spec = randomSpec(r, PUSH_POINTS);
    assert.deepEqual(validateSubgoalSpec(clone(spec), PUSH_POINTS), spec, `random spec ${n}`);
  }
  for (const name of listTasks()) assert.doesNotThrow(() => validateSubgoalSpec(getTask(name).subgoals, getTask(name).pointNames), name);
  // The result is a copy: editing it leaves the input alone.
  const v = validateSubgoalSpec(PUSH_SUBGOALS, PUSH_POINTS);
  v.stages[0].name = 'changed';
  assert.equal(PUSH_SUBGOALS.stages[0].name, 'behind-object');
  const w = validateSubgoalSpec(SHIFT_SPEC, PUSH_POINTS);
  (w.points!.hover as { shift: number[] }).shift[2] = 1;
  assert.deepEqual((SHIFT_SPEC.points!.hover as { shift: number[] }).shift, [0, 0, 0.03]);
});

/** Push's spec with one edit applied to a deep copy. */
function pushWith(edit: (s: any) => void): unknown {
  const s = clone(PUSH_SUBGOALS);
  edit(s);
  return s;
}

const BAD: [string, unknown, string][] = [
  ['unknown point (typo)', pushWith((s) => (s.stages[1].predicate.a = 'objet')),
    "subgoals.stages[1].predicate.a: unknown point 'objet' (known: grip, object, goal, behindObject)"],
  ['unknown point in progress', pushWith((s) => (s.stages[0].progress.b = 'behind')),
    "subgoals.stages[0].progress.b: unknown point 'behind' (known: grip, object, goal, behindObject)"],
  ['unknown point in a derived point', pushWith((s) => (s.points.behindObject.awayFrom = 'target')),
    "subgoals.points.behindObject.awayFrom: unknown point 'target' (known: grip, object, goal, behindObject)"],
  ['zero threshold', pushWith((s) => (s.stages[0].predicate.below = 0)), 'subgoals.stages[0].predicate.below: must be a positive finite number, got number 0'],
  ['negative sigma', pushWith((s) => (s.stages[1].progress.sigma = -0.1)), 'subgoals.stages[1].progress.sigma: must be a positive finite number, got number -0.1'],
  ['threshold as a string', pushWith((s) => (s.stages[0].predicate.below = '0.03')), 'subgoals.stages[0].predicate.below: must be a positive finite number, got string "0.03"'],
  ['NaN offset', pushWith((s) => (s.points.behindObject.offset = NaN)), 'subgoals.points.behindObject.offset: must be a finite number, got number NaN'],
  ['empty stage list', { stages: [] }, 'subgoals.stages: must hold at least one stage'],
  ['stages not an array', { stages: { name: 'x' } }, 'subgoals.stages: expected an array of stages, got object'],
  ['spec not an object', [1, 2], 'subgoals: expected an object, got array'],
  ['unknown top-level field', { stages: PUSH_SUBGOALS.stages, stage: [] }, "subgoals: unknown field 'stage' (allowed: description, points, stages)"],
  ['misspelt predicate field', pushWith((s) => { s.stages[0].predicate.belw = 0.03; delete s.stages[0].predicate.below; }),
    "subgoals.stages[0].predicate: unknown field 'belw' (allowed: kind, a, b, below, xy)"],
  ['unknown predicate kind', pushWith((s) => (s.stages[0].predicate.kind = 'near')),
    'subgoals.stages[0].predicate.kind: unknown kind string "near" (known: distance, height, gripper, all)'],
  ['xy not a boolean', pushWith((s) => (s.stages[0].predicate.xy = 1)), 'subgoals.stages[0].predicate.xy: must be true or false, got number 1'],
  ['gripper state', pushWith((s) => (s.stages[0].predicate = { kind: 'gripper', state: 'shut', threshold: 0.01 })),
    "subgoals.stages[0].predicate.state: must be 'open' or 'closed', got string \"shut\""],
  ['gripper threshold zero', pushWith((s) => (s.stages[0].predicate = { kind: 'gripper', state: 'open', threshold: 0 })),
    'subgoals.stages[0].predicate.threshold: must be a positive finite number, got number 0'],
  ['height without level', pushWith((s) => (s.stages[0].predicate = { kind: 'height', point: 'object' })),
    'subgoals.stages[0].predicate.above: must be a finite number, got undefined'],
  ['nested all', pushWith((s) => (s.stages[0].predicate = { kind: 'all', of: [{ kind: 'all', of: [] }] })),
    "subgoals.stages[0].predicate.of[0].kind: 'all' cannot nest inside 'all'"],
  ['empty all', pushWith((s) => (s.stages[0].predicate = { kind: 'all', of: [] })),
    'subgoals.stages[0].predicate.of: expected an array of 1 to 4 predicates, got 0 predicates'],
  ['distance of a point to itself', pushWith((s) => (s.stages[0].predicate.b = 'grip')), "subgoals.stages[0].predicate.b: must differ from a ('grip')"],
  ['duplicate stage name', pushWith((s) => (s.stages[1].name = 'behind-object')), "subgoals.stages[1].name: duplicate stage name 'behind-object'"],
  ['empty stage name', pushWith((s) => (s.stages[1].name = '')), 'subgoals.stages[1].name: must be a non-empty string, got string ""'],
  ['missing progress', pushWith((s) => delete s.stages[1].progress), 'subgoals.stages[1].progress: expected an object, got undefined'],
  ['derived point shadows a task point', pushWith((s) => (s.points.goal = { from: 'object', awayFrom: 'grip', offset: 0.1 })),
    "subgoals.points.goal: 'goal' is already a task point (task points: grip, object, goal)"],
  ['derived point from itself', pushWith((s) => (s.points.behindObject.awayFrom = 'object')),
    "subgoals.points.behindObject.awayFrom: must differ from 'from' ('object'): the direction is undefined"],
  ['cycle of derived points', pushWith((s) => {
    s.points.p = { from: 'q', awayFrom: 'goal', offset: 0.1 };
    s.points.q = { from: 'p', awayFrom: 'goal', offset: 0.1 };
  }), 'subgoals.points.p: cycle p -> q -> p'],
  // Shift points: p = from + shift.
  ['shift point: shift and awayFrom both given', pushWith((s) => (s.points.behindObject.shift = [0, 0, 0.1])),
    "subgoals.points.behindObject: give either 'shift' or 'awayFrom' with 'offset', not both"],
  ['shift point: shift and offset both given', pushWith((s) => (s.points.above = { from: 'object', offset: 0.1, shift: [0, 0, 0.1] })),
    "subgoals.points.above: give either 'shift' or 'awayFrom' with 'offset', not both"],
  ['derived point with neither shift nor awayFrom', pushWith((s) => (s.points.above = { from: 'object' })),
    "subgoals.points.above: give either 'shift' ([x, y, z] metres) or 'awayFrom' with 'offset'"],
  ['shift of length 2', pushWith((s) => (s.points.above = { from: 'object', shift: [0, 0.1] })),
    'subgoals.points.above.shift: must be an array of 3 finite numbers, got array [0, 0.1]'],
  ['shift of length 4', pushWith((s) => (s.points.above = { from: 'object', shift: [0, 0, 0.1, 0] })),
    'subgoals.points.above.shift: must be an array of 3 finite numbers, got array [0, 0, 0.1, 0]'],
  ['shift with NaN', pushWith((s) => (s.points.above = { from: 'object', shift: [0, NaN, 0.1] })),
    'subgoals.points.above.shift: must be an array of 3 finite numbers, got array [0, NaN, 0.1]'],
  ['shift with Infinity', pushWith((s) => (s.points.above = { from: 'object', shift: [0, 0, -Infinity] })),
    'subgoals.points.above.shift: must be an array of 3 finite numbers, got array [0, 0, -Infinity]'],
  ['shift with a string', pushWith((s) => (s.points.above = { from: 'object', shift: [0, '0', 0.1] })),
    'subgoals.points.above.shift: must be an array of 3 finite numbers, got array [0, string "0", 0.1]'],
  ['shift not an array', pushWith((s) => (s.points.above = { from: 'object', shift: 0.1 })),
    'subgoals.points.above.shift: must be an array of 3 finite numbers, got number 0.1'],
  ['shift null', pushWith((s) => (s.points.above = { from: 'object', shift: null })),
    'subgoals.points.above.shift: must be an array of 3 finite numbers, got null'],
  ['huge shift', pushWith((s) => (s.points.above = { from: 'object', shift: [0, 0, 10.5] })),
    'subgoals.points.above.shift[2]: must be at most 10 m in magnitude, got number 10.5'],
  ['huge negative shift', pushWith((s) => (s.points.above = { from: 'object', shift: [-11, 0, 0] })),
    'subgoals.points.above.shift[0]: must be at most 10 m in magnitude, got number -11'],
  ['shift point with xy', pushWith((s) => (s.points.above = { from: 'object', shift: [0, 0, 0.1], xy: true })),
    "subgoals.points.above.xy: applies to 'awayFrom' with 'offset' only, not to 'shift'"],
  ['shift point without from', pushWith((s) => (s.points.above = { shift: [0, 0, 0.1] })),
    'subgoals.points.above.from: must be a non-empty string, got undefined'],
  ['shift point from an unknown point', pushWith((s) => (s.points.above = { from: 'objet', shift: [0, 0, 0.1] })),
    "subgoals.points.above.from: unknown point 'objet' (known: grip, object, goal, behindObject, above)"],
  ['shift point from itself', pushWith((s) => (s.points.above = { from: 'above', shift: [0, 0, 0.1] })),
    'subgoals.points.above: cycle above -> above'],
  ['cycle through a shift point', pushWith((s) => {
    s.points.p = { from: 'q', shift: [0, 0, 0.1] };
    s.points.q = { from: 'object', awayFrom: 'p', offset: 0.05 };
  }), 'subgoals.points.p: cycle p -> q -> p'],
  ['cycle of shift points', pushWith((s) => {
    s.points.p = { from: 'r', shift: [0, 0, 0.1] };
    s.points.q = { from: 'p', shift: [0.1, 0, 0] };
    s.points.r = { from: 'q', shift: [0, 0.1, 0] };
  }), 'subgoals.points.p: cycle p -> r -> q -> p'],
  ['too many stages', { stages: Array.from({ length: 9 }, (_, k) => ({ ...clone(PUSH_SUBGOALS.stages[1]), name: `s${k}` })) }, 'subgoals.stages: at most 8 stages, got 9'],
];

for (const [what, spec, message] of BAD) {
  test(`a bad spec is rejected naming the field: ${what}`, () => {
    assert.throws(() => validateSubgoalSpec(spec, PUSH_POINTS), (e: Error) => {
      assert.equal(e.message, message);
      return true;
    });
  });
}

test('kernel and reference creation reject bad specs, configs and point lists', async () => {
  const b = createBatch(pushDims(2));
  const bad = pushWith((s) => (s.stages[1].predicate.a = 'objet'));
  await assert.rejects(ShapingKernel.create(b, bad, PUSH_POINTS, {}), /subgoals.stages\[1\].predicate.a: unknown point 'objet'/);
  assert.throws(() => ShapingReference.create(b, bad, PUSH_POINTS, {}), /unknown point 'objet'/);
  await assert.rejects(ShapingKernel.create(b, PUSH_SUBGOALS, ['grip', 'goal'], {}), /2 point names given, the batch holds 3 points per env/);
  await assert.rejects(ShapingKernel.create(b, PUSH_SUBGOALS, PUSH_POINTS, { mode: 'shaped' as never }), /shaping.mode: unknown mode string "shaped"/);
  await assert.rejects(ShapingKernel.create(b, PUSH_SUBGOALS, PUSH_POINTS, {}, { slot: 64 }), /slot must be an integer in \[0, 64\), got 64/);
  await assert.rejects(ShapingKernel.create(b, PUSH_SUBGOALS, PUSH_POINTS, {}, { tableOffset: 40000 }), /table offset must be a multiple of 16/);
});

test('shaping configs: defaults, partial configs, and errors naming the field', () => {
  assert.deepEqual(validateShapingConfig({}), { mode: 'sparse', gamma: 0.99, weight: 1 });
  assert.deepEqual(validateShapingConfig({ mode: 'bonus', bonus: 0.5 }), { mode: 'bonus', gamma: 0.99, weight: 1, bonus: 0.5 });
  assert.deepEqual(validateShapingConfig({ weight: 3 }, { mode: 'pbrs', gamma: 0.9, weight: 1, bonus: 2 }), { mode: 'pbrs', gamma: 0.9, weight: 3, bonus: 2 });
  const bad: [unknown, string][] = [
    [{ mode: 'PBRS' }, 'shaping.mode: unknown mode string "PBRS" (known: sparse, dense, pbrs, bonus, gated, progress)'],
    [{ gamma: 1.01 }, 'shaping.gamma: must be a number in [0, 1], got number 1.01'],
    [{ gamma: '0.99' }, 'shaping.gamma: must be a number in [0, 1], got string "0.99"'],
    [{ weight: -1 }, 'shaping.weight: must be a finite number >= 0, got number -1'],
    [{ bonus: Infinity }, 'shaping.bonus: must be a finite number, got number Infinity'],
    [{ mode: 'pbrs', discount: 0.9 }, "shaping: unknown field 'discount' (allowed: mode, gamma, weight, bonus)"],
    [null, 'shaping: expected an object, got null'],
  ];
  for (const [c, message] of bad) assert.throws(() => validateShapingConfig(c), (e: Error) => e.message === message, message);
});

test('shift points: a point built on a shift point may be its awayFrom partner; only from orders them', () => {
  // q is away from p, p is shifted from object: no cycle, p first (declared after q).
  const spec = pushWith((s) => {
    s.points.q = { from: 'goal', awayFrom: 'p', offset: 0.05 };
    s.points.p = { from: 'object', shift: [0, 0, 0.1] };
  });
  const c = compileSubgoalSpec(validateSubgoalSpec(spec, PUSH_POINTS), PUSH_POINTS);
  assert.deepEqual(c.pointNames, ['grip', 'object', 'goal', 'behindObject', 'p', 'q']);
  assert.deepEqual(c.derived[1], { kind: 2, from: 1, shift: [0, 0, Math.fround(0.1)] });
  assert.deepEqual(c.derived[2], { kind: 1, from: 2, away: 4, xy: false, offset: Math.fround(0.05) });
});

test('shift points in the table: kind 2 at +12, f32 shift x, y, z at +16, +20, +24, awayFrom and xy 0', () => {
  const c = compileSubgoalSpec(validateSubgoalSpec(SHIFT_SPEC, PUSH_POINTS), PUSH_POINTS);
  // Evaluation order: hover (from object), approach (from hover), overApproach (from approach), aboveGoal.
  assert.deepEqual(c.pointNames, ['grip', 'object', 'goal', 'hover', 'approach', 'overApproach', 'aboveGoal']);
  const v = new DataView(encodeSpec(c, createBatch(pushDims(1)).layout).buffer);
  const entry = (j: number) => {
    const e = 128 + 32 * j;
    return [v.getInt32(e, true), v.getInt32(e + 4, true), v.getInt32(e + 8, true), v.getInt32(e + 12, true), v.getFloat32(e + 16, true), v.getFloat32(e + 20, true), v.getFloat32(e + 24, true)];
  };
  const f = Math.fround;
  assert.deepEqual(entry(0), [1, 0, 0, 2, 0, 0, f(0.03)]); // hover = object + (0, 0, 0.03)
  assert.deepEqual(entry(1), [3, 2, 1, 1, f(0.01), 0, 0]); // approach: from hover, away from goal, xy, offset 0.01
  assert.deepEqual(entry(2), [4, 0, 0, 2, f(0.005), f(-0.004), f(0.002)]);
  assert.deepEqual(entry(3), [2, 0, 0, 2, f(-0.01), f(0.02), f(0.03)]);
  assert.equal(v.getInt32(4, true), 4, 'table version');
});

test('compilation: task points first, derived points after the points they use', () => {
  // 'approach' is declared before 'behind' here but is built from it, so 'behind' is evaluated first.
  const spec = clone(KITCHEN_SINK_SPEC);
  spec.points = { approach: spec.points!.approach, behind: spec.points!.behind };
  const c = compileSubgoalSpec(validateSubgoalSpec(spec, PUSH_POINTS), PUSH_POINTS);
  assert.deepEqual(c.pointNames, ['grip', 'object', 'goal', 'behind', 'approach']);
  // Numbers are rounded to f32, as the kernel reads them.
  const f = Math.fround;
  assert.deepEqual(c.derived, [{ kind: 1, from: 1, away: 2, xy: true, offset: f(0.05) }, { kind: 1, from: 3, away: 1, xy: false, offset: f(0.02) }]);
  assert.deepEqual(c.stages[0].leaves.map((l) => [l.kind, l.a, l.b, l.xy, l.value]), [[1, 0, 4, true, f(0.06)], [4, 0, 0, false, f(0.04)]]);
  assert.deepEqual([c.stages[1].progA, c.stages[1].progB, c.stages[1].progXY, c.stages[1].sigma], [0, 1, true, f(0.05)]);
  assert.deepEqual(c.stages[2].leaves, [{ kind: 2, a: 1, b: 0, xy: false, value: f(0.45) }]);
});
