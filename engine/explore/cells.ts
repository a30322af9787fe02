/**
 * Go-Explore's cell function: a coarse, discretized description of a state, under which states that matter
 * differently for the task fall in different cells. cairn's goals and object starts change every episode, so the
 * cell is goal-relative: the achieved goal minus the desired goal (per 3-D part) on a grid of `goalCell` metres,
 * the grip site minus the first achieved 3-D part on a grid of `gripCell` metres, the latched subgoal stage and,
 * for tasks with moving fingers, whether the gripper is closed. Tasks choose their default grid (TaskDef.cell).
 */

/** Grid sizes of the cell function, metres. */
export interface CellSpec {
  /** Grid of the achieved-minus-desired goal, m. */
  goalCell: number;
  /** Grid of the grip site relative to the (first) object, m. */
  gripCell: number;
}

/** Default grid when a task declares none. */
export const DEFAULT_CELL_SPEC: CellSpec = { goalCell: 0.05, gripCell: 0.1 };

/** Throws unless both grids are finite sizes in [0.005, 1] m; returns the spec with defaults filled in. */
export function validateCellSpec(spec: Partial<CellSpec> | undefined, fallback: CellSpec = DEFAULT_CELL_SPEC): CellSpec {
  const out = { ...fallback, ...(spec ?? {}) };
  for (const k of ['goalCell', 'gripCell'] as const) {
    const v = out[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0.005 || v > 1) throw new Error(`cells: ${k} must be a size in [0.005, 1] m, got ${v}`);
  }
  return out;
}

/**
 * The cell key of one state: achieved [G] and desired [G] goals at ao/do, grip site [3] at go, stage, and
 * closed (1 when the fingers are closed on something, else 0; always 0 for blocked grippers).
 */
export function cellKey(spec: CellSpec, achieved: ArrayLike<number>, ao: number, desired: ArrayLike<number>, dOff: number, G: number, grip: ArrayLike<number>, go: number, stage: number, closed: number): string {
  let key = '';
  for (let k = 0; k < G; k++) key += Math.floor((achieved[ao + k] - desired[dOff + k]) / spec.goalCell + 0.5) + ',';
  key += '|';
  for (let k = 0; k < 3; k++) key += Math.floor((grip[go + k] - achieved[ao + k]) / spec.gripCell + 0.5) + ',';
  return `${key}|${stage}|${closed}`;
}
