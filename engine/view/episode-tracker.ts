/**
 * Finished-episode statistics for the view's plots: per env running sums of the sparse and the shaped
 * reward, and on each finished episode its success (at the last state, as engine/rollout.ts counts it),
 * sparse return and shaped return, kept as moving averages over the last `window` episodes.
 *
 * The view keeps its own sums rather than reading batch.episodeReturn: with same-step autoreset the batch's
 * accumulators already belong to the next episode when step() returns.
 */

/** A growing series of plotted values (moving averages, one per finished episode), thinned when full. */
export class Series {
  /** Values in order; `stride` finished episodes per value once thinned. */
  readonly values: number[] = [];
  /** Episodes per stored value (doubles each time the series is thinned). */
  stride = 1;
  private pending = 0;
  constructor(readonly capacity = 1024) {}

  /** Adds the value of one finished episode (only every `stride`-th is kept). */
  push(v: number): void {
    if (++this.pending < this.stride) return;
    this.pending = 0;
    this.values.push(v);
    if (this.values.length >= this.capacity) {
      // Keep every second value: the plot keeps its shape and memory stays bounded.
      for (let k = 0; k < this.values.length / 2; k++) this.values[k] = this.values[2 * k + 1];
      this.values.length = Math.floor(this.values.length / 2);
      this.stride *= 2;
    }
  }

  clear(): void {
    this.values.length = 0;
    this.stride = 1;
    this.pending = 0;
  }
}

/** A moving sum over the last `size` values. */
class Window {
  private readonly buf: Float64Array;
  private n = 0;
  private at = 0;
  private sum = 0;
  constructor(size: number) {
    this.buf = new Float64Array(size);
  }
  add(v: number): void {
    if (this.n === this.buf.length) this.sum -= this.buf[this.at];
    else this.n++;
    this.buf[this.at] = v;
    this.sum += v;
    this.at = (this.at + 1) % this.buf.length;
  }
  mean(): number {
    return this.n ? this.sum / this.n : Number.NaN;
  }
  clear(): void {
    this.n = 0; this.at = 0; this.sum = 0;
  }
}

/** What one step returned, as far as the tracker reads it (views of the batch). */
export interface StepViews {
  reward: Float32Array;
  /** [N] reward the learner sees, or null when the env has no shaping (then the sparse reward is used). */
  shapedReward: Float32Array | null;
  success: Uint8Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
}

export class EpisodeTracker {
  /** Finished episodes since the last clear. */
  episodes = 0;
  /** Finished episodes whose last state was a success. */
  successes = 0;
  /** Moving averages, one value per finished episode. */
  readonly successRate: Series;
  readonly sparseReturn: Series;
  readonly shapedReturn: Series;
  private readonly ret: Float64Array;
  private readonly shaped: Float64Array;
  private readonly wSuccess: Window;
  private readonly wReturn: Window;
  private readonly wShaped: Window;

  constructor(readonly numEnvs: number, readonly window = 100, capacity = 1024) {
    this.ret = new Float64Array(numEnvs);
    this.shaped = new Float64Array(numEnvs);
    this.wSuccess = new Window(window);
    this.wReturn = new Window(window);
    this.wShaped = new Window(window);
    this.successRate = new Series(capacity);
    this.sparseReturn = new Series(capacity);
    this.shapedReturn = new Series(capacity);
  }

  /** Records one transition of every env (the views step() returned). */
  record(v: StepViews): void {
    const { reward, shapedReward, success, terminated, truncated } = v;
    for (let i = 0; i < this.numEnvs; i++) {
      this.ret[i] += reward[i];
      this.shaped[i] += shapedReward ? shapedReward[i] : reward[i];
      if (!(terminated[i] || truncated[i])) continue;
      this.episodes++;
      this.successes += success[i];
      this.wSuccess.add(success[i]);
      this.wReturn.add(this.ret[i]);
      this.wShaped.add(this.shaped[i]);
      this.successRate.push(this.wSuccess.mean());
      this.sparseReturn.push(this.wReturn.mean());
      this.shapedReturn.push(this.wShaped.mean());
      this.ret[i] = 0;
      this.shaped[i] = 0;
    }
  }

  /** Moving-average success rate over the last `window` episodes (NaN before the first). */
  get recentSuccessRate(): number {
    return this.wSuccess.mean();
  }
  get recentSparseReturn(): number {
    return this.wReturn.mean();
  }
  get recentShapedReturn(): number {
    return this.wShaped.mean();
  }

  /** Forgets everything (after a reset of the env). */
  clear(): void {
    this.episodes = 0;
    this.successes = 0;
    this.ret.fill(0);
    this.shaped.fill(0);
    this.wSuccess.clear(); this.wReturn.clear(); this.wShaped.clear();
    this.successRate.clear(); this.sparseReturn.clear(); this.shapedReturn.clear();
  }
}
