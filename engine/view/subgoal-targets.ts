/**
 * Where each env's current subgoal lies, for the view's stage markers: the target point of the running stage
 * k = batch.stage[i] of a subgoal spec, i.e. the `b` point of stage k's progress term (Push: 'behindObject'
 * while getting behind the cube, then 'goal'); once every stage holds (k = K) the last stage's target.
 *
 * Points come from batch.points [N, P, 3] (the task's named points, env-local metres, in the order of
 * task.pointNames) plus the spec's derived points, computed here by the formulas of engine/shaping/spec.ts:
 * p = from + shift (ShiftPoint), or p = from + offset · (from − awayFrom) / ‖from − awayFrom‖ (OffsetPoint;
 * horizontal direction and from's height with `xy`; p = from when the two are within 1e-9 m, as the reference
 * shaper does).
 */
import { derivedOrder, isShiftPoint, type DerivedPoint, type SubgoalSpec } from '../shaping/spec.ts';

/** One derived point, with its inputs resolved to indices into the per-env point scratch. */
type DerivedStep =
  | { at: number; from: number; shift: readonly [number, number, number] }
  | { at: number; from: number; shift: null; awayFrom: number; offset: number; xy: boolean };

/** A spec compiled against a task's point names, to compute stage targets [N, 3] from points and stages. */
export class SubgoalTargets {
  /** Stage count K. */
  readonly numStages: number;
  readonly stageNames: readonly string[];
  /** [K] name of each stage's target point. */
  readonly targetNames: readonly string[];
  private readonly numTaskPoints: number;
  private readonly derived: DerivedStep[];
  /** [K] index of each stage's target in the scratch. */
  private readonly targetIndex: Int32Array;
  /** [(P + D) × 3] one env's task and derived points. */
  private readonly scratch: Float64Array;

  constructor(spec: SubgoalSpec, pointNames: readonly string[]) {
    if (spec.stages.length === 0) throw new Error('subgoal targets: the spec has no stages');
    const derivedDefs: Record<string, DerivedPoint> = spec.points ?? {};
    const names = [...pointNames, ...derivedOrder(derivedDefs)];
    const index = (name: string, where: string): number => {
      const k = names.indexOf(name);
      if (k < 0) throw new Error(`subgoal targets: ${where} names unknown point '${name}' (known: ${names.join(', ')})`);
      return k;
    };
    this.numTaskPoints = pointNames.length;
    this.derived = names.slice(pointNames.length).map((name, j): DerivedStep => {
      const d = derivedDefs[name];
      const at = pointNames.length + j, from = index(d.from, `points.${name}.from`);
      if (isShiftPoint(d)) return { at, from, shift: [d.shift[0], d.shift[1], d.shift[2]] };
      return { at, from, shift: null, awayFrom: index(d.awayFrom, `points.${name}.awayFrom`), offset: d.offset, xy: d.xy === true };
    });
    this.numStages = spec.stages.length;
    this.stageNames = spec.stages.map((s) => s.name);
    this.targetNames = spec.stages.map((s) => s.progress.b);
    this.targetIndex = Int32Array.from(spec.stages, (s, k) => index(s.progress.b, `stages[${k}].progress.b`));
    this.scratch = new Float64Array(names.length * 3);
  }

  /**
   * Writes the target of each env's current stage to out [N, 3] (env-local metres) from points [N, P, 3]
   * and stage [N]; a stage outside [0, K] is clamped.
   */
  compute(points: Float32Array, stage: Int32Array, numEnvs: number, out: Float32Array): void {
    const P = this.numTaskPoints, s = this.scratch, K = this.numStages;
    for (let i = 0; i < numEnvs; i++) {
      for (let k = 0; k < 3 * P; k++) s[k] = points[i * 3 * P + k];
      for (const d of this.derived) this.derive(d);
      const k = stage[i];
      const t = 3 * this.targetIndex[k < 0 ? 0 : k >= K ? K - 1 : k];
      out[3 * i] = s[t]; out[3 * i + 1] = s[t + 1]; out[3 * i + 2] = s[t + 2];
    }
  }

  private derive(d: DerivedStep): void {
    const s = this.scratch, f = 3 * d.from, o = 3 * d.at;
    if (d.shift !== null) {
      s[o] = s[f] + d.shift[0]; s[o + 1] = s[f + 1] + d.shift[1]; s[o + 2] = s[f + 2] + d.shift[2];
      return;
    }
    const a = 3 * d.awayFrom;
    const dx = s[f] - s[a], dy = s[f + 1] - s[a + 1], dz = d.xy ? 0 : s[f + 2] - s[a + 2];
    const n = Math.hypot(dx, dy, dz);
    const c = n > 1e-9 ? d.offset / n : 0;
    s[o] = s[f] + c * dx; s[o + 1] = s[f + 1] + c * dy; s[o + 2] = s[f + 2] + c * dz;
  }
}
