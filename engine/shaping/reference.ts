/**
 * The shaping math in plain TypeScript, on the same batch layout as the WASM kernel (assembly/shaping.ts):
 * the tests run both on two batches with identical inputs and compare. The kernel works in f32 (four envs per
 * f32x4) except F, which it forms in f64; this reference rounds every operation to f32 (Math.fround) in the
 * same order, so the two agree bit for bit. The one function that is not IEEE arithmetic, 1 − tanh, is the
 * same polynomial on both sides (oneMinusTanhF32).
 */
import { MAX_REWARD_TERMS, type Batch } from '../batch.ts';
import { checkRange, prepareShaper, type Shaper } from './shaper.ts';
import { validateShapingConfig, type ShapingConfig, type SubgoalSpec } from './spec.ts';
import { evaluateDerivedPoints } from './derived-points.ts';
import { LEAF_DISTANCE, LEAF_GRIPPER_CLOSED, LEAF_GRIPPER_OPEN, LEAF_HEIGHT, modeIndex, type CompiledSpec } from './table.ts';

const fr = Math.fround;

// e^y constants (Cephes expf), as the kernel has them: ln 2 = C1 + C2.
const LOG2E = fr(1.44269504088896341), C1 = fr(0.693359375), C2 = fr(-2.12194440e-4);
const P0 = fr(1.9875691500e-4), P1 = fr(1.3981999507e-3), P2 = fr(8.3334519073e-3), P3 = fr(4.1665795894e-2);
const P4 = fr(1.6666665459e-1), P5 = fr(5.0000001201e-1);
/** Largest argument evaluated: g(40) = 3.6e-35, and e^80 is finite in f32. */
const X_MAX = 40;

/**
 * g(x) = 1 − tanh(x) = 2 / (1 + e^{2x}) for x >= 0, in f32, as the kernel computes it: x clamped to 40,
 * e^y = 2^n · p(r) with n = ⌊y log2 e + 0.5⌋, r = y − n C1 − n C2 and Cephes' degree-5 expf polynomial.
 * Relative error against the exact value is a few f32 ulps (tested).
 */
export function oneMinusTanhF32(x0: number): number {
  const x = Math.min(fr(x0), X_MAX);
  const y = fr(x + x);
  const n = Math.floor(fr(fr(y * LOG2E) + 0.5));
  let r = fr(y - fr(n * C1));
  r = fr(r - fr(n * C2));
  const z = fr(r * r);
  let p = fr(fr(P0 * r) + P1);
  p = fr(fr(p * r) + P2);
  p = fr(fr(p * r) + P3);
  p = fr(fr(p * r) + P4);
  p = fr(fr(p * r) + P5);
  p = fr(fr(fr(p * z) + r) + 1);
  return fr(2 / fr(1 + fr(p * 2 ** n)));
}

/** ‖a − b‖ of points a and b of pts [(P + D) × 3] (horizontal with xy), metres, in f32 as the kernel forms it. */
function pointDistance(pts: Float32Array | Float64Array, a: number, b: number, xy: boolean): number {
  const pa = a * 3, pb = b * 3;
  const dx = fr(pts[pa] - pts[pb]);
  const dy = fr(pts[pa + 1] - pts[pb + 1]);
  let s = fr(fr(dx * dx) + fr(dy * dy));
  if (!xy) {
    const dz = fr(pts[pa + 2] - pts[pb + 2]);
    s = fr(s + fr(dz * dz));
  }
  return fr(Math.sqrt(s));
}

/** Whether every leaf of compiled stage k holds on pts [(P + D) × 3] (derived points evaluated) with gripper opening g (m). */
export function stageHolds(c: CompiledSpec, k: number, pts: Float32Array | Float64Array, g: number): boolean {
  return c.stages[k].leaves.every((l) =>
    l.kind === LEAF_DISTANCE ? pointDistance(pts, l.a, l.b, l.xy) < l.value
      : l.kind === LEAF_HEIGHT ? pts[l.a * 3 + 2] > l.value
        : l.kind === LEAF_GRIPPER_CLOSED ? g < l.value
          : l.kind === LEAF_GRIPPER_OPEN && g > l.value);
}

export class ShapingReference implements Shaper {
  readonly batch: Batch;
  readonly spec: SubgoalSpec;
  readonly pointNames: readonly string[];
  readonly stageNames: readonly string[];
  readonly numStages: number;
  private readonly c: CompiledSpec;
  private cfg: ShapingConfig;
  /** [P + D, 3] points of the env being evaluated, f64. */
  private readonly pts: Float64Array;
  private freed = false;

  /** Validates spec and config (throws naming the field) and binds to the batch. */
  static create(batch: Batch, spec: unknown, pointNames: readonly string[], config: Partial<ShapingConfig>): ShapingReference {
    return new ShapingReference(batch, spec, pointNames, config);
  }

  private constructor(batch: Batch, spec: unknown, pointNames: readonly string[], config: Partial<ShapingConfig>) {
    const p = prepareShaper(batch, spec, pointNames, config);
    this.batch = batch;
    this.spec = p.spec;
    this.c = p.compiled;
    this.cfg = p.config;
    this.pointNames = p.compiled.pointNames;
    this.stageNames = p.compiled.stages.map((s) => s.name);
    this.numStages = p.compiled.stages.length;
    this.pts = new Float64Array(p.compiled.pointNames.length * 3);
  }

  get config(): ShapingConfig {
    return { ...this.cfg };
  }

  setConfig(config: Partial<ShapingConfig>): void {
    this.check();
    const next = validateShapingConfig({ ...this.cfg, ...config });
    const reweighted = next.weight !== this.cfg.weight;
    this.cfg = next;
    if (reweighted) this.refreshPotential();
  }

  refreshPotential(lo = 0, hi = this.batch.numEnvs): void {
    this.check();
    checkRange(lo, hi, this.batch.numEnvs);
    const b = this.batch;
    for (let i = lo; i < hi; i++) {
      this.loadPoints(i);
      b.potential[i] = this.potentialOf(b.stage[i]);
    }
  }

  step(lo = 0, hi = this.batch.numEnvs): void {
    this.check();
    checkRange(lo, hi, this.batch.numEnvs);
    const b = this.batch, K = this.numStages, T = MAX_REWARD_TERMS;
    const gamma = this.cfg.gamma, w = fr(this.cfg.weight);
    const bonus = fr(this.cfg.bonus ?? this.cfg.weight);
    const mode = modeIndex(this.cfg.mode);
    const terms = [0, 0, 0, 0, 0, 0];
    for (let i = lo; i < hi; i++) {
      this.loadPoints(i);
      const k0 = b.stage[i];
      const k = this.latch(k0, b.gripperOpening[i]);
      const dk = this.progress(Math.min(k, K - 1));
      const prog = this.progressOf(k, dk);
      const phi = b.terminated[i] ? 0 : fr(w * prog);
      const best = b.bestProgress[i];
      const r = b.reward[i];
      terms[0] = r;
      terms[1] = fr(-w * this.progress(K - 1));
      terms[2] = fr(gamma * phi - b.potential[i]); // f64, as the kernel does
      terms[3] = fr(bonus * (k - k0));
      terms[4] = fr(-w * dk);
      terms[5] = fr(w * Math.max(fr(prog - best), 0));
      const shaped = fr(r + (mode === 0 ? 0 : terms[mode]));
      b.shapedReward[i] = shaped;
      b.potential[i] = phi;
      b.bestProgress[i] = Math.max(best, prog);
      b.stage[i] = k;
      if (k > b.maxStage[i]) b.maxStage[i] = k;
      for (let j = 0; j < T; j++) {
        const t = j < terms.length ? terms[j] : 0;
        b.rewardTerms[i * T + j] = t;
        b.episodeTermSums[i * T + j] += t;
      }
      b.episodeReturn[i] += r;
      b.episodeShapedReturn[i] += shaped;
    }
  }

  reset(lo = 0, hi = this.batch.numEnvs, onlyDone = false): void {
    this.check();
    checkRange(lo, hi, this.batch.numEnvs);
    const b = this.batch, T = MAX_REWARD_TERMS;
    for (let i = lo; i < hi; i++) {
      if (onlyDone && !b.done[i]) continue;
      this.loadPoints(i);
      const k = this.latch(0, b.gripperOpening[i]);
      const prog = this.progressOf(k);
      b.potential[i] = fr(fr(this.cfg.weight) * prog);
      b.bestProgress[i] = prog;
      b.stage[i] = k;
      b.maxStage[i] = k;
      b.episodeReturn[i] = 0;
      b.episodeShapedReturn[i] = 0;
      b.episodeTermSums.fill(0, i * T, i * T + T);
      if (!onlyDone) {
        b.shapedReward[i] = 0;
        b.rewardTerms.fill(0, i * T, i * T + T);
      }
    }
  }

  free(): void {
    this.freed = true;
  }

  private check(): void {
    if (this.freed) throw new Error('shaping: used after free()');
  }

  /** Copies env i's task points to pts and evaluates the derived points after them (derived-points.ts). */
  private loadPoints(i: number): void {
    const { pts, c } = this;
    const src = this.batch.points, m = c.numBase * 3, o = i * m;
    for (let j = 0; j < m; j++) pts[j] = src[o + j];
    evaluateDerivedPoints(c, pts);
  }

  private progress(k: number): number {
    const s = this.c.stages[k];
    return pointDistance(this.pts, s.progA, s.progB, s.progXY);
  }

  /** Advances the latch from k while stage k's leaves all hold (g: gripper opening). */
  private latch(k: number, g: number): number {
    const K = this.numStages;
    while (k < K && stageHolds(this.c, k, this.pts, g)) k++;
    return k;
  }

  /**
   * The subgoal progress P = j + g(d_j / σ_j) at latched stage k, evaluated at stage j = min(k, K − 1) (the last
   * stage's progress term stays live once it holds), with dk the progress distance of stage j (computed when
   * omitted), f32; Φ = w · P.
   */
  private progressOf(k: number, dk?: number): number {
    const j = Math.min(k, this.numStages - 1);
    const d = dk ?? this.progress(j);
    return fr(j + oneMinusTanhF32(fr(d / this.c.stages[j].sigma)));
  }

  /** Φ = w · P at latched stage k, f32. */
  private potentialOf(k: number): number {
    return fr(fr(this.cfg.weight) * this.progressOf(k));
  }
}
