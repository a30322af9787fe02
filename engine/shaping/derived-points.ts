/**
 * The derived points of a compiled subgoal spec (engine/shaping/spec.ts), in f32 as the WASM kernel computes them
 * (assembly/shaping.ts): p = from + shift (shift point), or p = from + offset · (from − awayFrom) / ‖from − awayFrom‖
 * (offset point; horizontal direction and from's height with xy; p = from when ‖·‖ ≤ 1e-9 m). The shaping reference
 * and the view's stage markers both evaluate them here.
 */
import { DERIVED_SHIFT, type CompiledSpec } from './table.ts';

const fr = Math.fround;
/** A derived point falls back to `from` when ‖from − awayFrom‖ is at most this, metres (f32). */
export const MIN_DERIVED_LEN = fr(1e-9);

/** Evaluates the derived points into pts [(numBase + D) × 3] after the task's points already in pts[0 .. 3 numBase). */
export function evaluateDerivedPoints(c: Pick<CompiledSpec, 'numBase' | 'derived'>, pts: Float32Array | Float64Array): void {
  c.derived.forEach((d, j) => {
    const f = d.from * 3, out = (c.numBase + j) * 3;
    const fx = pts[f], fy = pts[f + 1], fz = pts[f + 2];
    if (d.kind === DERIVED_SHIFT) {
      pts[out] = fr(fx + d.shift[0]);
      pts[out + 1] = fr(fy + d.shift[1]);
      pts[out + 2] = fr(fz + d.shift[2]);
      return;
    }
    const a = d.away * 3;
    const vx = fr(fx - pts[a]);
    const vy = fr(fy - pts[a + 1]);
    const vz = d.xy ? 0 : fr(fz - pts[a + 2]);
    const len = fr(Math.sqrt(fr(fr(fr(vx * vx) + fr(vy * vy)) + fr(vz * vz))));
    const s = len > MIN_DERIVED_LEN ? fr(d.offset / len) : 0;
    pts[out] = fr(fx + fr(s * vx));
    pts[out + 1] = fr(fy + fr(s * vy));
    pts[out + 2] = fr(fz + fr(s * vz));
  });
}
