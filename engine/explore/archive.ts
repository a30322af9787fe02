/**
 * The Go-Explore archive: per cell (engine/explore/cells.ts) the best state that reached it (fewest steps into its
 * episode, then the highest sparse return), the trajectory that got there (the episode's start row and its actions),
 * and the counts that steer selection. Also the best successful trajectories, one per episode, for robustification.
 * Cells are only ever added or improved, never dropped.
 */
import { counterUniform } from '../rng.ts';

/** A state reached, as reported to the archive: its cell, snapshot row, how it was reached. */
export interface Visit {
  key: string;
  stage: number;
  /** Snapshot row of the state [W]. */
  row: Float32Array;
  /** Control steps into its episode of that state. */
  steps: number;
  /** Sparse return of the episode up to that state. */
  score: number;
  /** Whether that state is a success. */
  success: boolean;
  /** The start row [W] of the episode (shared by the cells of one episode, never written) and the actions [steps, A] that led from it to the state. */
  start: Float32Array;
  actions: Float32Array;
}

/** One cell of the archive: its best visit and the counts that steer selection. */
export interface Cell extends Visit {
  /** Times chosen to explore from, times visited, times chosen since it last led to a new or better cell. */
  chosen: number;
  seen: number;
  chosenSinceNew: number;
  /** Env steps of the run when the cell was first found. */
  foundAt: number;
}

/** A successful trajectory: an episode's start row and the actions that reach success from it. */
export interface SuccessTrajectory {
  start: Float32Array;
  actions: Float32Array;
  steps: number;
  /** Episode identity (the start row's episodeIndex and goal), to keep one per episode. */
  episode: string;
}

export class Archive {
  readonly cells = new Map<string, Cell>();
  /** Cells in insertion order (selection indexes them). */
  readonly list: Cell[] = [];
  /** Up to maxSuccesses successful trajectories, shortest kept. */
  readonly successes: SuccessTrajectory[] = [];
  readonly maxSuccesses: number;
  /** Steps per episode: a state at maxEpisodeSteps − 1 or later has no step left to explore from. */
  readonly maxEpisodeSteps: number;
  private successCells = 0;
  private weights = new Float64Array(0);

  constructor(opts: { maxEpisodeSteps: number; maxSuccesses?: number }) {
    this.maxEpisodeSteps = opts.maxEpisodeSteps;
    this.maxSuccesses = opts.maxSuccesses ?? 1024;
  }

  get numCells(): number {
    return this.list.length;
  }

  get numSuccessCells(): number {
    return this.successCells;
  }

  /**
   * Records a visit: a new cell is added, a known one takes the visit's state when it is better (fewer steps, or as
   * many with a higher score). Returns 'new', 'better' or 'seen'. Row and actions are copied; the start row is kept
   * by reference (the caller never writes it again).
   */
  visit(v: Visit, envSteps: number): 'new' | 'better' | 'seen' {
    const c = this.cells.get(v.key);
    if (!c) {
      const cell: Cell = {
        key: v.key, stage: v.stage, row: v.row.slice(), steps: v.steps, score: v.score, success: v.success, start: v.start, actions: v.actions.slice(),
        chosen: 0, seen: 1, chosenSinceNew: 0, foundAt: envSteps,
      };
      this.cells.set(v.key, cell);
      this.list.push(cell);
      if (v.success) this.successCells++;
      return 'new';
    }
    c.seen++;
    if (v.steps < c.steps || (v.steps === c.steps && v.score > c.score)) {
      c.row = v.row.slice();
      c.steps = v.steps;
      c.score = v.score;
      c.start = v.start;
      c.actions = v.actions.slice();
      return 'better';
    }
    return 'seen';
  }

  /** Keeps a successful trajectory: one per episode (the shortest), the maxSuccesses shortest overall. */
  addSuccess(t: SuccessTrajectory): void {
    const same = this.successes.findIndex((s) => s.episode === t.episode);
    if (same >= 0) {
      if (this.successes[same].steps <= t.steps) return;
      this.successes.splice(same, 1);
    }
    const copy = { ...t, actions: t.actions.slice() };
    if (this.successes.length < this.maxSuccesses) this.successes.push(copy);
    else {
      let worst = 0;
      for (let k = 1; k < this.successes.length; k++) if (this.successes[k].steps > this.successes[worst].steps) worst = k;
      if (this.successes[worst].steps <= t.steps) return;
      this.successes[worst] = copy;
    }
  }

  /**
   * Selection weight of a cell (Go-Explore's count-based score): 1/√(1 + chosen) + 1/√(1 + seen) +
   * 1/√(1 + chosenSinceNew), so rarely chosen, rarely visited and recently productive cells come first; 0 for a
   * cell with no step left in its episode.
   */
  weight(c: Cell): number {
    if (c.steps >= this.maxEpisodeSteps - 1) return 0;
    return 1 / Math.sqrt(1 + c.chosen) + 1 / Math.sqrt(1 + c.seen) + 1 / Math.sqrt(1 + c.chosenSinceNew);
  }

  /** Recomputes the cumulative selection weights; call before a round of select(). Returns the total weight. */
  prepareSelection(): number {
    if (this.weights.length < this.list.length) this.weights = new Float64Array(Math.max(1024, 2 * this.list.length));
    let s = 0;
    for (let k = 0; k < this.list.length; k++) {
      s += this.weight(this.list[k]);
      this.weights[k] = s;
    }
    return s;
  }

  /** Draws a cell with probability ∝ its weight from (seed, a, b, c), and counts the choice; null when every weight is 0. */
  select(seed: number, a: number, b: number, c: number): Cell | null {
    const n = this.list.length, total = n ? this.weights[n - 1] : 0;
    if (!(total > 0)) return null;
    const u = counterUniform(seed, a, b, c) * total;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.weights[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    const cell = this.list[lo];
    cell.chosen++;
    cell.chosenSinceNew++;
    return cell;
  }
}
