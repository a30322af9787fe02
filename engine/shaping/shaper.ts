/** What the WASM kernel (ShapingKernel) and the TypeScript reference (ShapingReference) share. */
import type { Batch } from '../batch.ts';
import { validateShapingConfig, validateSubgoalSpec, type ShapingConfig, type SubgoalSpec } from './spec.ts';
import { compileSubgoalSpec, type CompiledSpec } from './table.ts';

/**
 * Shaping over a batch, in place. Per env i, `step` reads points, gripperOpening, reward, terminated and the
 * stored stage and potential (of s), and writes stage, maxStage, potential (of s'), shapedReward, rewardTerms
 * and the episode accumulators (which the slice copies to the finalEpisode* fields at done). `reset` starts
 * episodes. Both work on envs [lo, hi); [0, N) gives the same result as [0, k) then [k, N).
 */
export interface Shaper {
  readonly batch: Batch;
  /** The validated spec. */
  readonly spec: SubgoalSpec;
  /** Task points then derived points, as indexed by the compiled spec. */
  readonly pointNames: readonly string[];
  readonly stageNames: readonly string[];
  readonly numStages: number;
  /** The config in effect. */
  readonly config: ShapingConfig;
  /** One transition for envs [lo, hi) (default all): latch, Φ(s'), F, terms, shapedReward, accumulators. */
  step(lo?: number, hi?: number): void;
  /** Starts the episode of envs [lo, hi) (only those with done = 1 when onlyDone): latch from 0, Φ(s0), accumulators zeroed. */
  reset(lo?: number, hi?: number, onlyDone?: boolean): void;
  /** Recomputes Φ of envs [lo, hi) (default all) at their latched stage from their points, as after a restore. */
  refreshPotential(lo?: number, hi?: number): void;
  /** Replaces fields of the config (missing fields keep their value); Φ of every env is recomputed when the weight changes. */
  setConfig(config: Partial<ShapingConfig>): void;
  /** Releases what the shaper holds; using it afterwards throws. */
  free(): void;
}

/** Validates spec and config against the batch and the task's point names; shared by kernel and reference. */
export function prepareShaper(batch: Batch, spec: unknown, pointNames: readonly string[], config: unknown) {
  const numPoints = batch.layout.dims.numPoints;
  if (pointNames.length !== numPoints) throw new Error(`shaping: ${pointNames.length} point names given, the batch holds ${numPoints} points per env`);
  const valid = validateSubgoalSpec(spec, pointNames);
  const compiled: CompiledSpec = compileSubgoalSpec(valid, pointNames);
  return { spec: valid, compiled, config: validateShapingConfig(config) };
}

/** Throws unless 0 <= lo <= hi <= n and both are integers. */
export function checkRange(lo: number, hi: number, n: number): void {
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && lo <= hi && hi <= n)) throw new Error(`shaping: env range [${lo}, ${hi}) is not inside [0, ${n})`);
}
