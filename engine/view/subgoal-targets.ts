/**
 * Where each env's current subgoal lies, for the view's stage markers: the target point of the running stage
 * k = batch.stage[i] of a subgoal spec, i.e. the `b` point of stage k's progress term (Push: 'behindObject'
 * while getting behind the cube, then 'goal'); once every stage holds (k = K) the last stage's target.
 *
 * Points come from batch.points [N, P, 3] (the task's named points, env-local metres, in the order of
 * task.pointNames) plus the spec's derived points, evaluated as the shaper does (engine/shaping/derived-points.ts).
 */
import { evaluateDerivedPoints } from '../shaping/derived-points.ts';
import type { SubgoalSpec } from '../shaping/spec.ts';
import { compileSubgoalSpec, type CompiledSpec } from '../shaping/table.ts';

/** A spec compiled against a task's point names, to compute stage targets [N, 3] from points and stages. */
export class SubgoalTargets {
  /** Stage count K. */
  readonly numStages: number;
  readonly stageNames: readonly string[];
  /** [K] name of each stage's target point. */
  readonly targetNames: readonly string[];
  private readonly compiled: CompiledSpec;
  /** [K] index of each stage's target in the scratch. */
  private readonly targetIndex: Int32Array;
  /** [(P + D) × 3] one env's task and derived points. */
  private readonly scratch: Float32Array;

  constructor(spec: SubgoalSpec, pointNames: readonly string[]) {
    if (spec.stages.length === 0) throw new Error('subgoal targets: the spec has no stages');
    try {
      this.compiled = compileSubgoalSpec(spec, pointNames);
    } catch (e) {
      throw new Error(`subgoal targets: ${(e as Error).message.replace(/^subgoals: /, '')}`);
    }
    this.numStages = spec.stages.length;
    this.stageNames = spec.stages.map((s) => s.name);
    this.targetNames = spec.stages.map((s) => s.progress.b);
    this.targetIndex = Int32Array.from(this.compiled.stages, (s) => s.progB);
    this.scratch = new Float32Array(this.compiled.pointNames.length * 3);
  }

  /**
   * Writes the target of each env's current stage to out [N, 3] (env-local metres) from points [N, P, 3]
   * and stage [N]; a stage outside [0, K] is clamped.
   */
  compute(points: Float32Array, stage: Int32Array, numEnvs: number, out: Float32Array): void {
    const P = this.compiled.numBase, s = this.scratch, K = this.numStages;
    for (let i = 0; i < numEnvs; i++) {
      for (let k = 0; k < 3 * P; k++) s[k] = points[i * 3 * P + k];
      evaluateDerivedPoints(this.compiled, s);
      const k = stage[i];
      const t = 3 * this.targetIndex[k < 0 ? 0 : k >= K ? K - 1 : k];
      out[3 * i] = s[t]; out[3 * i + 1] = s[t + 1]; out[3 * i + 2] = s[t + 2];
    }
  }
}
