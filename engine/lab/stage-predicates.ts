/**
 * Which subgoal predicates hold on a state: the latch (engine/shaping) only says how many stages an episode has
 * completed, never whether a completed stage's predicate still holds, so this evaluates every stage's predicate
 * on a snapshot row the way the shaper does (task points, derived points, f32 leaves; shaping/reference.ts).
 */
import { createBatch, type Batch } from '../batch.ts';
import type { VecEnv } from '../env.ts';
import { evaluateDerivedPoints } from '../shaping/derived-points.ts';
import { stageHolds } from '../shaping/reference.ts';
import { compileSubgoalSpec, type CompiledSpec } from '../shaping/table.ts';
import { unpackRow, type StateLayout } from '../state.ts';
import type { TaskDef } from '../../tasks/task.ts';

/** Every stage predicate of an env's subgoal spec, evaluated on snapshot rows of that env. */
export class StagePredicates {
  /** Stage count K. */
  readonly numStages: number;
  private readonly task: TaskDef;
  private readonly layout: StateLayout;
  private readonly compiled: CompiledSpec;
  /** One-env batch the row is unpacked into. */
  private readonly scratch: Batch;
  /** [(P + D) × 3] the state's task and derived points, metres. */
  private readonly pts: Float32Array;

  constructor(env: VecEnv) {
    this.task = env.task;
    this.layout = env.stateLayout;
    this.compiled = compileSubgoalSpec(env.subgoals, env.task.pointNames);
    this.numStages = this.compiled.stages.length;
    this.scratch = createBatch({ ...env.batch.layout.dims, numEnvs: 1 });
    this.pts = new Float32Array(this.compiled.pointNames.length * 3);
  }

  /** Writes out[at + k] = 1 where stage k's predicate holds on the state of snapshot row [rowWidth] (else 0), k < K; returns the row's latched stage. */
  evaluate(row: Float32Array, out: Uint8Array, at: number): number {
    const b = this.scratch;
    unpackRow(row, this.layout, 0, b, 0);
    this.task.writePoints(b, 0, this.pts, 0);
    evaluateDerivedPoints(this.compiled, this.pts);
    const g = Math.fround(b.fingerPos[0] + b.fingerPos[1]); // the batch's f32 gripperOpening
    for (let k = 0; k < this.numStages; k++) out[at + k] = stageHolds(this.compiled, k, this.pts, g) ? 1 : 0;
    return b.stage[0];
  }
}
