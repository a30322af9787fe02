/**
 * A seeded mutation operator over a search candidate: a subgoal spec (engine/shaping/spec.ts) and the shaping
 * weight it trains with. A mutation applies 1 or 2 moves to a copy and keeps it only if it validates against the
 * task's point names, differs from the parent and is accepted by the caller (not trained before); otherwise it
 * draws again, at most MAX_DRAWS times. Draw d of mutation `key` under `seed` is a pure function of (seed, key, d)
 * (engine/rng.ts), so a search is reproducible from its seed.
 *
 * Moves (one in four structural where the spec allows one, else numeric):
 * - numeric, each result rounded to 4 significant digits and clamped to what validateSubgoalSpec accepts:
 *   lengths that must be positive (distance `below`, gripper `threshold`, progress `sigma`) and the weight are
 *   scaled by e^u, u uniform in [−SCALE_RANGE, SCALE_RANGE], within [MIN_SPEC_LENGTH, MAX_SPEC_LENGTH] m and
 *   [0, MAX_SHAPING_SCALE]; signed lengths (derived-point `offset`, `shift` components, height `above`) move by
 *   uniform [−STEP_RANGE, STEP_RANGE] m within ±MAX_SPEC_LENGTH (shift: ±MAX_SHIFT). One move in WIDE_SHARE
 *   takes WIDE_FACTOR times that range (a two-scale mutation: small steps refine a good spec, wide ones let a search
 *   that starts far from one, e.g. σ 0.02 where 0.25 works, get there in a few generations);
 * - structural: swap two adjacent stages before the last, drop a stage other than the last, toggle `xy` on a
 *   progress term or a distance predicate.
 *
 * The last stage is the task's goal: it stays last, and its predicate stays as it is (under PBRS it does not move Φ,
 * whose stage index is min(k, K − 1), so changing it would only spend a run); its progress term mutates.
 */
import { EpisodeRng } from '../rng.ts';
import { isShiftPoint, MAX_DERIVED, MAX_SHAPING_SCALE, MAX_SHIFT, MAX_SPEC_LENGTH, MIN_SPEC_LENGTH, validateSubgoalSpec, type LeafPredicate, type SubgoalSpec } from '../shaping/spec.ts';

/** What a search trains: a subgoal spec and the shaping weight w (Φ in [0, w·stages]). */
export interface Candidate {
  spec: SubgoalSpec;
  weight: number;
}

/** A mutated candidate and its moves, one line each ('stages[0].progress.sigma 0.25 → 0.3127'). */
export interface Mutation {
  candidate: Candidate;
  moves: string[];
}

/** Log-range of multiplicative moves: the value is scaled by e^u, u uniform in [−0.5, 0.5] (×0.61 to ×1.65). */
export const SCALE_RANGE = 0.5;
/** Range of additive moves, metres: the value moves by uniform [−0.03, 0.03]. */
export const STEP_RANGE = 0.03;
/** Share of numeric moves drawn from the wide range. */
export const WIDE_SHARE = 0.5;
/** How much wider the wide range is: e^{±1.5} (×0.22 to ×4.5) and ±0.09 m. */
export const WIDE_FACTOR = 3;
/** Draws of one mutation before it gives up (each invalid, unchanged or refused draw is drawn again). */
export const MAX_DRAWS = 100;
/** Share of moves that perturb a number where a structural move is possible. */
const NUMERIC_SHARE = 0.75;

/** One move a candidate allows: what it does, in words, once applied; `stage` is the stage whose numbers or structure it changes (null: the weight, or a swap or drop). */
interface Move {
  apply: () => string;
  stage: number | null;
  /** Swaps or drops stages: stage indices no longer name the parent's stages after it. */
  reorders?: boolean;
}

/** How much more often a move on a stage is drawn, per share of the parent's episodes that stall there (times the stage count). */
export const FOCUS_GAIN = 3;

/** A canonical text of a candidate: equal for equal specs and weights (validated specs have a fixed key order). */
export function candidateKey(c: Candidate): string {
  return JSON.stringify([c.spec, c.weight]);
}

/** x rounded to 4 significant digits, then clamped to [lo, hi]. */
function roundClamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Number(x.toPrecision(4))));
}

/** The numeric moves of a candidate (mutated in place when applied), one per number it holds. */
function numberMoves(c: Candidate, rng: EpisodeRng): Move[] {
  const moves: Move[] = [];
  /** A move of o[key]: additive (signed lengths) or multiplicative (positive ones, the weight), clamped to [lo, hi]. */
  const site = (stage: number | null, o: object, key: string | number, at: string, lo: number, hi: number, additive: boolean) => moves.push({ stage, apply: () => {
    const rec = o as Record<string | number, number>, before = rec[key];
    const u = rng.uniform(-1, 1) * (rng.uniform(0, 1) < WIDE_SHARE ? WIDE_FACTOR : 1);
    rec[key] = roundClamp(additive ? before + STEP_RANGE * u : before * Math.exp(SCALE_RANGE * u), lo, hi);
    return `${at} ${before} → ${rec[key]}`;
  } });
  site(null, c, 'weight', 'weight', 0, MAX_SHAPING_SCALE, false);
  for (const [name, d] of Object.entries(c.spec.points ?? {})) {
    const stage = firstStageUsing(c.spec, name);
    if (isShiftPoint(d)) d.shift.forEach((_, j) => site(stage, d.shift, j, `points.${name}.shift[${j}]`, -MAX_SHIFT, MAX_SHIFT, true));
    else site(stage, d, 'offset', `points.${name}.offset`, -MAX_SPEC_LENGTH, MAX_SPEC_LENGTH, true);
  }
  c.spec.stages.forEach((s, k) => {
    for (const [p, at] of k + 1 < c.spec.stages.length ? leaves(s.predicate, `stages[${k}].predicate`) : []) {
      if (p.kind === 'distance') site(k, p, 'below', `${at}.below`, MIN_SPEC_LENGTH, MAX_SPEC_LENGTH, false);
      else if (p.kind === 'height') site(k, p, 'above', `${at}.above`, -MAX_SPEC_LENGTH, MAX_SPEC_LENGTH, true);
      else site(k, p, 'threshold', `${at}.threshold`, MIN_SPEC_LENGTH, MAX_SPEC_LENGTH, false);
    }
    site(k, s.progress, 'sigma', `stages[${k}].progress.sigma`, MIN_SPEC_LENGTH, MAX_SPEC_LENGTH, false);
  });
  return moves;
}

/** The first stage whose predicate or progress term names point `name` (directly or through another derived point), or null. */
function firstStageUsing(spec: SubgoalSpec, name: string): number | null {
  const points = spec.points ?? {};
  const uses = (p: string, depth = 0): boolean => {
    if (p === name) return true;
    const d = points[p];
    // Derived points form no cycles and chain at most MAX_DERIVED deep (validated); the bound only guards a malformed spec.
    if (!d || depth > MAX_DERIVED) return false;
    return uses(d.from, depth + 1) || (!isShiftPoint(d) && uses(d.awayFrom, depth + 1));
  };
  const leafUses = (l: LeafPredicate) => (l.kind === 'distance' ? uses(l.a) || uses(l.b) : l.kind === 'height' && uses(l.point));
  const k = spec.stages.findIndex((s) => leaves(s.predicate, '').some(([l]) => leafUses(l)) || uses(s.progress.a) || uses(s.progress.b));
  return k < 0 ? null : k;
}

/** The leaf predicates of a stage predicate with their paths. */
function leaves(p: SubgoalSpec['stages'][number]['predicate'], at: string): [LeafPredicate, string][] {
  return p.kind === 'all' ? p.of.map((q, j) => [q, `${at}.of[${j}]`]) : [[p, at]];
}

/** The structural moves of a candidate's spec (mutated in place when applied). */
function structureMoves(spec: SubgoalSpec): Move[] {
  const st = spec.stages, K = st.length, moves: Move[] = [];
  for (let k = 0; k + 2 < K; k++) {
    moves.push({ stage: null, reorders: true, apply: () => {
      [st[k], st[k + 1]] = [st[k + 1], st[k]];
      return `swap stages[${k}] ${st[k + 1].name} and stages[${k + 1}] ${st[k].name}`;
    } });
  }
  for (let k = 0; k + 1 < K; k++) moves.push({ stage: null, reorders: true, apply: () => `drop stages[${k}] ${st.splice(k, 1)[0].name}` });
  const toggle = (stage: number, o: { xy?: boolean }, at: string): Move => ({ stage, apply: () => {
    if (o.xy) delete o.xy;
    else o.xy = true;
    return `${at}.xy ${o.xy ? 'on' : 'off'}`;
  } });
  st.forEach((s, k) => {
    if (k + 1 < K) for (const [p, at] of leaves(s.predicate, `stages[${k}].predicate`)) if (p.kind === 'distance') moves.push(toggle(k, p, at));
    moves.push(toggle(k, s.progress, `stages[${k}].progress`));
  });
  return moves;
}

/**
 * One of `pool`, drawn with weight 1 + FOCUS_GAIN · K · focus[stage] for a move on a stage (1 for the others), or
 * uniformly without focus.
 */
function pick(pool: Move[], rng: EpisodeRng, focus: readonly number[] | undefined): Move {
  const wts = pool.map((m) => 1 + (focus && m.stage !== null ? FOCUS_GAIN * focus.length * (focus[m.stage] ?? 0) : 0));
  let u = rng.next() * wts.reduce((a, b) => a + b, 0);
  for (let i = 0; i < pool.length; i++) if ((u -= wts[i]) < 0) return pool[i];
  return pool[pool.length - 1];
}

/** One draw: 1 or 2 moves on a copy of the parent. */
function draw(parent: Candidate, rng: EpisodeRng, focus: readonly number[] | undefined): Mutation {
  const c: Candidate = structuredClone(parent);
  const moves: string[] = [];
  let stageFocus = focus;
  for (let m = rng.next() < 0.5 ? 1 : 2; m > 0; m--) {
    const structural = structureMoves(c.spec);
    const pool = structural.length > 0 && rng.next() >= NUMERIC_SHARE ? structural : numberMoves(c, rng);
    const move = pick(pool, rng, stageFocus);
    moves.push(move.apply());
    // Focus indexes the parent's stages; after a swap or a drop it no longer does.
    if (move.reorders) stageFocus = undefined;
  }
  return { candidate: c, moves };
}

/**
 * A mutation of `parent` (its spec valid for the task's pointNames), drawn from (seed, key): the first draw whose
 * spec validates, that differs from the parent and that `accept` takes (default: any). Throws after MAX_DRAWS draws.
 * `focus` [K], the share of the parent's episodes that stall at each stage (its failure analysis), draws moves on
 * the stages where episodes stall more often (Auto MC-Reward's use of trajectory analysis, without a language model).
 */
export function mutate(parent: Candidate, pointNames: readonly string[], seed: number, key: number, accept: (c: Candidate) => boolean = () => true, focus?: readonly number[]): Mutation {
  const base: Candidate = { spec: validateSubgoalSpec(parent.spec, pointNames), weight: parent.weight };
  const rng = new EpisodeRng(seed, key, 0);
  for (let d = 0; d < MAX_DRAWS; d++) {
    rng.reset(seed, key, d);
    const m = draw(base, rng, focus);
    let candidate: Candidate;
    try {
      candidate = { spec: validateSubgoalSpec(m.candidate.spec, pointNames), weight: m.candidate.weight };
    } catch {
      continue;
    }
    if (candidateKey(candidate) !== candidateKey(base) && accept(candidate)) return { candidate, moves: m.moves };
  }
  throw new Error(`mutate: no valid new candidate in ${MAX_DRAWS} draws of mutation ${key} (seed ${seed})`);
}
