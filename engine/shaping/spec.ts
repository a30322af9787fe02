/**
 * Subgoal specs and shaping configs as JSON-serializable data, with validation that names the offending field.
 *
 * A spec is an ordered list of stages over named points: the task's own points (batch.points, e.g. Push's
 * 'grip', 'object', 'goal') plus derived points the spec defines, of two kinds: a point `offset` metres from
 * `from` away from `awayFrom` (OffsetPoint), or `from` moved by a fixed vector `shift` (ShiftPoint). Each stage
 * has a predicate (the stage is complete once it holds, in order, latched) and a progress distance used by the
 * potential and the dense terms.
 *
 * ```json
 * { "points": { "behindObject": { "from": "object", "awayFrom": "goal", "offset": 0.06, "xy": true },
 *               "aboveObject": { "from": "object", "shift": [0, 0, 0.1] } },
 *   "stages": [
 *     { "name": "behind-object", "predicate": { "kind": "distance", "a": "grip", "b": "behindObject", "below": 0.03 },
 *       "progress": { "a": "grip", "b": "behindObject", "sigma": 0.1 } },
 *     { "name": "object-at-goal", "predicate": { "kind": "distance", "a": "object", "b": "goal", "below": 0.05 },
 *       "progress": { "a": "object", "b": "goal", "sigma": 0.1 } },
 *     { "name": "retreat-above-object", "predicate": { "kind": "distance", "a": "grip", "b": "aboveObject", "below": 0.08 },
 *       "progress": { "a": "grip", "b": "aboveObject", "sigma": 0.1 } } ] }
 * ```
 *
 * Points are env-local metres, z up (the Fetch table top is z = 0.40).
 */

/** Most stages a spec may hold. */
export const MAX_STAGES = 8;
/** Most leaf predicates in one stage's 'all'. */
export const MAX_LEAVES = 4;
/** Most points in all: the task's points plus the spec's derived points. */
export const MAX_POINTS = 12;
/** Most derived points a spec may define. */
export const MAX_DERIVED = 8;
/** Largest |component| of a ShiftPoint's shift, metres. */
export const MAX_SHIFT = 10;

/**
 * A point at `offset` metres from `from`, along the direction from `awayFrom` to `from`
 * (p = from + offset · (from − awayFrom) / ‖from − awayFrom‖; p = from when the two coincide). With `xy` the
 * direction lies in the horizontal plane and p keeps from's height. "Behind the object relative to the goal"
 * is { from: 'object', awayFrom: 'goal', offset: 0.06, xy: true }.
 */
export interface OffsetPoint {
  from: string;
  awayFrom: string;
  /** Metres; negative points towards awayFrom. */
  offset: number;
  xy?: boolean;
}

/**
 * The point `from` moved by a fixed vector (p = from + shift). "10 cm above the object" is
 * { from: 'object', shift: [0, 0, 0.1] }.
 */
export interface ShiftPoint {
  from: string;
  /** [3] env-local metres, z up; each component finite with |component| <= MAX_SHIFT. */
  shift: [number, number, number];
}

/** A point a spec defines from other points: exactly one of `awayFrom` with `offset` (OffsetPoint) or `shift` (ShiftPoint). */
export type DerivedPoint = OffsetPoint | ShiftPoint;

/** Whether d is a ShiftPoint (p = from + shift) rather than an OffsetPoint. */
export function isShiftPoint(d: DerivedPoint): d is ShiftPoint {
  return (d as Partial<ShiftPoint>).shift !== undefined;
}

/** ‖a − b‖ < below (metres); with `xy`, the horizontal distance only. */
export interface DistancePredicate {
  kind: 'distance';
  a: string;
  b: string;
  below: number;
  xy?: boolean;
}

/** The point's z > above (env-local metres; the table top is at 0.40). */
export interface HeightPredicate {
  kind: 'height';
  point: string;
  above: number;
}

/** 'closed': gripperOpening < threshold; 'open': gripperOpening > threshold (metres, 0 = closed). */
export interface GripperPredicate {
  kind: 'gripper';
  state: 'open' | 'closed';
  threshold: number;
}

export type LeafPredicate = DistancePredicate | HeightPredicate | GripperPredicate;

/** Every predicate of `of` holds (one level; 'all' does not nest). */
export interface AllPredicate {
  kind: 'all';
  of: LeafPredicate[];
}

export type StagePredicate = LeafPredicate | AllPredicate;

/** The distance d = ‖a − b‖ (horizontal with `xy`) whose decrease is progress inside a stage; sigma > 0 scales it. */
export interface ProgressTerm {
  a: string;
  b: string;
  sigma: number;
  xy?: boolean;
}

export interface SubgoalStage {
  name: string;
  predicate: StagePredicate;
  progress: ProgressTerm;
}

/** A task's subgoal decomposition: an ordered, non-empty list of stages over task and derived points. */
export interface SubgoalSpec {
  /** Free text for people and models writing specs; ignored by the engine. */
  description?: string;
  points?: Record<string, DerivedPoint>;
  stages: SubgoalStage[];
}

/** Reward modes; each is also the name of the reward term it adds to the sparse reward. */
export const SHAPING_MODES = ['sparse', 'dense', 'pbrs', 'bonus', 'gated', 'progress'] as const;
export type ShapingMode = (typeof SHAPING_MODES)[number];

/**
 * How the shaped reward is formed (see engine/shaping/index.ts for the math).
 * `gamma` MUST equal the learner's discount for PBRS to leave the optimal policy unchanged.
 */
export interface ShapingConfig {
  mode: ShapingMode;
  /** Discount in [0, 1] used by F = γΦ(s') − Φ(s). */
  gamma: number;
  /** Scale of Φ and of the dense and gated terms, >= 0. */
  weight: number;
  /** Reward per completed stage in mode 'bonus'; defaults to weight. */
  bonus?: number;
}

/** Largest shaping weight or |bonus|: Φ ≤ weight × stages and the sums over episodes stay far inside float32. */
export const MAX_SHAPING_SCALE = 1e6;

/** Sparse reward only, γ = 0.99 (Fetch baselines), weight 1. */
export const DEFAULT_SHAPING_CONFIG: Readonly<ShapingConfig> = Object.freeze({ mode: 'sparse', gamma: 0.99, weight: 1 });

type Json = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'string' ? `string ${JSON.stringify(v)}` : typeof v === 'number' ? `number ${v}` : typeof v;
}

function fail(path: string, msg: string): never {
  throw new Error(`${path}: ${msg}`);
}

/** v as an object whose keys are all in `allowed` (any keys when null). */
function object(v: unknown, path: string, allowed: readonly string[] | null): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `expected an object, got ${typeName(v)}`);
  if (allowed) for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(path, `unknown field '${k}' (allowed: ${allowed.join(', ')})`);
  return v as Json;
}

/** Largest length (offset, threshold, height, σ) a spec may give, metres: the scenes are about a metre across. */
export const MAX_SPEC_LENGTH = 100;
/** Smallest positive length a spec may give, metres (below it a float32 distance cannot resolve the threshold). */
export const MIN_SPEC_LENGTH = 1e-6;

/** o[key] as a length in metres: finite, |v| ≤ MAX_SPEC_LENGTH, and ≥ MIN_SPEC_LENGTH when positive. */
function finite(o: Json, key: string, path: string, positive: boolean): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
    fail(`${path}.${key}`, `must be a ${positive ? 'positive ' : ''}finite number, got ${typeName(v)}`);
  }
  if (Math.abs(v) > MAX_SPEC_LENGTH) fail(`${path}.${key}`, `must be at most ${MAX_SPEC_LENGTH} m in magnitude, got ${typeName(v)}`);
  if (positive && v < MIN_SPEC_LENGTH) fail(`${path}.${key}`, `must be at least ${MIN_SPEC_LENGTH} m, got ${typeName(v)}: float32 distances cannot resolve it`);
  return v;
}

function optionalBool(o: Json, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(`${path}.${key}`, `must be true or false, got ${typeName(v)}`);
  return v;
}

/** v as a ShiftPoint's shift: an array of 3 finite numbers, each at most MAX_SHIFT metres in magnitude (a copy). */
function shiftVector(v: unknown, path: string): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    const got = Array.isArray(v) ? `array [${v.map((x) => (typeof x === 'number' ? String(x) : typeName(x))).join(', ')}]` : typeName(v);
    fail(path, `must be an array of 3 finite numbers, got ${got}`);
  }
  v.forEach((x: number, j: number) => {
    if (Math.abs(x) > MAX_SHIFT) fail(`${path}[${j}]`, `must be at most ${MAX_SHIFT} m in magnitude, got number ${x}`);
  });
  return [v[0], v[1], v[2]];
}

function str(o: Json, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(`${path}.${key}`, `must be a non-empty string, got ${typeName(v)}`);
  return v;
}

/**
 * Checks a spec (parsed JSON or an object literal) against the task's point names and returns a clean copy.
 * Throws an Error whose message starts with the path of the bad field, e.g.
 * "subgoals.stages[1].predicate.a: unknown point 'objet' (known: grip, object, goal, behindObject)".
 */
export function validateSubgoalSpec(json: unknown, pointNames: readonly string[]): SubgoalSpec {
  const root = object(json, 'subgoals', ['description', 'points', 'stages']);
  const out: SubgoalSpec = { stages: [] };
  if (root.description !== undefined) {
    if (typeof root.description !== 'string') fail('subgoals.description', `must be a string, got ${typeName(root.description)}`);
    out.description = root.description;
  }

  // Derived points: fields first, then names (so every reference can be checked), then cycles.
  const derived: Record<string, DerivedPoint> = {};
  if (root.points !== undefined) {
    const pts = object(root.points, 'subgoals.points', null);
    const names = Object.keys(pts);
    if (names.length > MAX_DERIVED) fail('subgoals.points', `at most ${MAX_DERIVED} derived points, got ${names.length}`);
    for (const name of names) {
      const path = `subgoals.points.${name}`;
      if (pointNames.includes(name)) fail(path, `'${name}' is already a task point (task points: ${pointNames.join(', ')})`);
      const p = object(pts[name], path, ['from', 'awayFrom', 'offset', 'xy', 'shift']);
      const byShift = p.shift !== undefined, byOffset = p.awayFrom !== undefined || p.offset !== undefined;
      if (byShift && byOffset) fail(path, `give either 'shift' or 'awayFrom' with 'offset', not both`);
      if (!byShift && !byOffset) fail(path, `give either 'shift' ([x, y, z] metres) or 'awayFrom' with 'offset'`);
      if (byShift) {
        const from = str(p, 'from', path);
        if (p.xy !== undefined) fail(`${path}.xy`, `applies to 'awayFrom' with 'offset' only, not to 'shift'`);
        derived[name] = { from, shift: shiftVector(p.shift, `${path}.shift`) };
        continue;
      }
      const d: OffsetPoint = { from: str(p, 'from', path), awayFrom: str(p, 'awayFrom', path), offset: finite(p, 'offset', path, false) };
      const xy = optionalBool(p, 'xy', path);
      if (xy !== undefined) d.xy = xy;
      if (d.from === d.awayFrom) fail(`${path}.awayFrom`, `must differ from 'from' ('${d.from}'): the direction is undefined`);
      derived[name] = d;
    }
  }
  const known = [...pointNames, ...Object.keys(derived)];
  if (known.length > MAX_POINTS) fail('subgoals.points', `at most ${MAX_POINTS} points in all (task and derived), got ${known.length}`);
  const point = (o: Json, key: string, path: string): string => {
    const v = str(o, key, path);
    if (!known.includes(v)) fail(`${path}.${key}`, `unknown point '${v}' (known: ${known.join(', ')})`);
    return v;
  };
  for (const [name, d] of Object.entries(derived)) {
    point(d as unknown as Json, 'from', `subgoals.points.${name}`);
    if (!isShiftPoint(d)) point(d as unknown as Json, 'awayFrom', `subgoals.points.${name}`);
  }
  derivedOrder(derived);
  if (Object.keys(derived).length > 0) out.points = derived;

  // Stages.
  const stages = root.stages;
  if (!Array.isArray(stages)) fail('subgoals.stages', `expected an array of stages, got ${typeName(stages)}`);
  if (stages.length === 0) fail('subgoals.stages', 'must hold at least one stage');
  if (stages.length > MAX_STAGES) fail('subgoals.stages', `at most ${MAX_STAGES} stages, got ${stages.length}`);
  const leaf = (v: unknown, path: string): LeafPredicate => {
    const kind = object(v, path, null).kind;
    if (kind === 'distance') {
      const o = object(v, path, ['kind', 'a', 'b', 'below', 'xy']);
      const p: DistancePredicate = { kind, a: point(o, 'a', path), b: point(o, 'b', path), below: finite(o, 'below', path, true) };
      if (p.a === p.b) fail(`${path}.b`, `must differ from a ('${p.a}')`);
      const xy = optionalBool(o, 'xy', path);
      if (xy !== undefined) p.xy = xy;
      return p;
    }
    if (kind === 'height') {
      const o = object(v, path, ['kind', 'point', 'above']);
      return { kind, point: point(o, 'point', path), above: finite(o, 'above', path, false) };
    }
    if (kind === 'gripper') {
      const o = object(v, path, ['kind', 'state', 'threshold']);
      if (o.state !== 'open' && o.state !== 'closed') fail(`${path}.state`, `must be 'open' or 'closed', got ${typeName(o.state)}`);
      return { kind, state: o.state, threshold: finite(o, 'threshold', path, true) };
    }
    if (kind === 'all') fail(`${path}.kind`, `'all' cannot nest inside 'all'`);
    return fail(`${path}.kind`, `unknown kind ${typeName(kind)} (known: distance, height, gripper, all)`);
  };
  const seen = new Set<string>();
  stages.forEach((s: unknown, k: number) => {
    const path = `subgoals.stages[${k}]`;
    const o = object(s, path, ['name', 'predicate', 'progress']);
    const name = str(o, 'name', path);
    if (seen.has(name)) fail(`${path}.name`, `duplicate stage name '${name}'`);
    seen.add(name);
    const pp = `${path}.predicate`;
    let predicate: StagePredicate;
    if (o.predicate !== null && typeof o.predicate === 'object' && (o.predicate as Json).kind === 'all') {
      const a = object(o.predicate, pp, ['kind', 'of']);
      if (!Array.isArray(a.of) || a.of.length === 0 || a.of.length > MAX_LEAVES) {
        fail(`${pp}.of`, `expected an array of 1 to ${MAX_LEAVES} predicates, got ${Array.isArray(a.of) ? `${a.of.length} predicates` : typeName(a.of)}`);
      }
      predicate = { kind: 'all', of: a.of.map((x: unknown, j: number) => leaf(x, `${pp}.of[${j}]`)) };
    } else {
      predicate = leaf(o.predicate, pp);
    }
    const gp = `${path}.progress`;
    const g = object(o.progress, gp, ['a', 'b', 'sigma', 'xy']);
    const progress: ProgressTerm = { a: point(g, 'a', gp), b: point(g, 'b', gp), sigma: finite(g, 'sigma', gp, true) };
    if (progress.a === progress.b) fail(`${gp}.b`, `must differ from a ('${progress.a}')`);
    const xy = optionalBool(g, 'xy', gp);
    if (xy !== undefined) progress.xy = xy;
    out.stages.push({ name, predicate, progress });
  });
  return out;
}

/** Derived point names in an order where each comes after the derived points it uses; throws on a cycle. */
export function derivedOrder(derived: Record<string, DerivedPoint>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      fail(`subgoals.points.${name}`, `cycle ${cycle.join(' -> ')}`);
    }
    state.set(name, 'visiting');
    const d = derived[name];
    for (const dep of isShiftPoint(d) ? [d.from] : [d.from, d.awayFrom]) if (dep in derived) visit(dep, [...trail, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(derived)) visit(name, []);
  return order;
}

/**
 * Checks a shaping config (missing fields are taken from `base`) and returns a clean copy; throws an Error
 * naming the field, e.g. "shaping.gamma: must be a number in [0, 1], got number 1.5".
 */
export function validateShapingConfig(json: unknown, base: Readonly<ShapingConfig> = DEFAULT_SHAPING_CONFIG): ShapingConfig {
  const o = object(json, 'shaping', ['mode', 'gamma', 'weight', 'bonus']);
  const mode = o.mode ?? base.mode;
  if (typeof mode !== 'string' || !(SHAPING_MODES as readonly string[]).includes(mode)) {
    fail('shaping.mode', `unknown mode ${typeName(mode)} (known: ${SHAPING_MODES.join(', ')})`);
  }
  const gamma = o.gamma ?? base.gamma;
  if (typeof gamma !== 'number' || !(gamma >= 0 && gamma <= 1)) fail('shaping.gamma', `must be a number in [0, 1], got ${typeName(gamma)}`);
  const weight = o.weight ?? base.weight;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) fail('shaping.weight', `must be a finite number >= 0, got ${typeName(weight)}`);
  if (weight > MAX_SHAPING_SCALE) fail('shaping.weight', `must be at most ${MAX_SHAPING_SCALE} (Φ and F are float32 in the kernel), got ${typeName(weight)}`);
  const out: ShapingConfig = { mode: mode as ShapingMode, gamma, weight };
  const bonus = 'bonus' in o ? o.bonus : base.bonus;
  if (bonus !== undefined) {
    if (typeof bonus !== 'number' || !Number.isFinite(bonus)) fail('shaping.bonus', `must be a finite number, got ${typeName(bonus)}`);
    if (Math.abs(bonus) > MAX_SHAPING_SCALE) fail('shaping.bonus', `must be at most ${MAX_SHAPING_SCALE} in magnitude (float32 in the kernel), got ${typeName(bonus)}`);
    out.bonus = bonus;
  }
  return out;
}
