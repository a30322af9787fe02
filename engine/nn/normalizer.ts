/**
 * Running observation normalization (as Gymnasium's NormalizeObservation): per-dimension mean and
 * variance merged batch by batch in float64 (Chan et al.), applied as clip((x − mean) / sqrt(var + eps), ±clip).
 */
export interface NormalizerState {
  dim: number;
  count: number;
  mean: number[];
  var: number[];
  clip: number;
  eps: number;
}

export class RunningNormalizer {
  readonly dim: number;
  /** [dim] running mean. */
  readonly mean: Float64Array;
  /** [dim] running (population) variance. */
  readonly var: Float64Array;
  count: number;
  readonly clip: number;
  readonly eps: number;
  private readonly bMean: Float64Array;
  private readonly bM2: Float64Array;

  constructor(dim: number, opts: { clip?: number; eps?: number } = {}) {
    this.dim = dim;
    this.mean = new Float64Array(dim);
    this.var = new Float64Array(dim).fill(1);
    this.count = 1e-4;
    this.clip = opts.clip ?? 10;
    this.eps = opts.eps ?? 1e-8;
    this.bMean = new Float64Array(dim);
    this.bM2 = new Float64Array(dim);
  }

  /** Merges the statistics of rows x [n, dim] into the running ones. */
  update(x: Float32Array, n: number): void {
    const d = this.dim;
    if (x.length < n * d) throw new Error(`normalizer: ${n} rows of ${d} need ${n * d} values, got ${x.length}`);
    if (n === 0) return;
    this.bMean.fill(0);
    this.bM2.fill(0);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) this.bMean[k] += x[i * d + k];
    for (let k = 0; k < d; k++) this.bMean[k] /= n;
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) { const e = x[i * d + k] - this.bMean[k]; this.bM2[k] += e * e; }
    const tot = this.count + n;
    for (let k = 0; k < d; k++) {
      const delta = this.bMean[k] - this.mean[k];
      const m2 = this.var[k] * this.count + this.bM2[k] + (delta * delta * this.count * n) / tot;
      this.mean[k] += (delta * n) / tot;
      this.var[k] = m2 / tot;
    }
    this.count = tot;
  }

  /** Writes normalized rows of x [n, dim] into out [n, dim]. */
  normalize(x: Float32Array, n: number, out: Float32Array): void {
    const d = this.dim, c = this.clip;
    for (let k = 0; k < d; k++) {
      const m = this.mean[k], s = 1 / Math.sqrt(this.var[k] + this.eps);
      for (let i = 0; i < n; i++) {
        const y = (x[i * d + k] - m) * s;
        out[i * d + k] = y > c ? c : y < -c ? -c : y;
      }
    }
  }

  /** A JSON-serializable copy of the state. */
  state(): NormalizerState {
    return { dim: this.dim, count: this.count, mean: Array.from(this.mean), var: Array.from(this.var), clip: this.clip, eps: this.eps };
  }

  /** Restores a state; throws when its shape or values are wrong. */
  load(s: NormalizerState): void {
    if (!s || s.dim !== this.dim || s.mean?.length !== this.dim || s.var?.length !== this.dim) throw new Error(`normalizer: state for dim ${s?.dim} does not fit dim ${this.dim}`);
    if (!(s.count > 0) || ![...s.mean, ...s.var].every(Number.isFinite) || s.var.some((v) => v < 0)) throw new Error('normalizer: state holds non-finite or negative values');
    this.mean.set(s.mean);
    this.var.set(s.var);
    this.count = s.count;
  }
}
