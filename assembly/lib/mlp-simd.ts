// f32x4 helpers of the MLP kernels: horizontal sums, tail masks and a vector tanh.

/** [Σa, Σb, Σc, Σd]: the lane sums of four vectors in one vector (6 shuffles, 3 adds). */
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(f32x4.shuffle(a, b, 0, 1, 4, 5), f32x4.shuffle(a, b, 2, 3, 6, 7)); // [a0+a2, a1+a3, b0+b2, b1+b3]
  const cd = f32x4.add(f32x4.shuffle(c, d, 0, 1, 4, 5), f32x4.shuffle(c, d, 2, 3, 6, 7));
  return f32x4.add(f32x4.shuffle(ab, cd, 0, 2, 4, 6), f32x4.shuffle(ab, cd, 1, 3, 5, 7));
}

/** Σ of the four lanes of a, pairwise. */
@inline export function hsum1(a: v128): f32 {
  const s = f32x4.add(a, f32x4.shuffle(a, a, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** All-ones in lanes [0, rem), zeros above (rem in 0..4). */
@inline export function tailMask(rem: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(rem));
}

/**
 * tanh of four f32 lanes: Eigen's rational approximation (degree 13/6 on [−7.905, 7.905], a few ulp), x itself
 * for |x| < 4e-4, and exactly ±1 for |x| ≥ 9 where f32 tanh rounds to ±1 anyway, so 1 − tanh² is exactly 0
 * there (the ±20 clamp of the reference has zero gradient beyond 20 and tanh' < 6e-8 between 9 and 20).
 */
@inline export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const c = f32x4.splat(7.90531110763549805);
  const xc = f32x4.min(f32x4.max(x, f32x4.neg(c)), c);
  const x2 = f32x4.mul(xc, xc);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(p, xc);
  let q = f32x4.splat(1.19825839466702e-6);
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1.18534705686654e-4));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(2.26843463243900e-3));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(4.89352518554385e-3));
  let r = f32x4.div(p, q);
  r = v128.bitselect(x, r, f32x4.lt(ax, f32x4.splat(0.0004)));
  const one = v128.or(v128.and(x, i32x4.splat(0x80000000)), f32x4.splat(1.0));
  return v128.bitselect(one, r, f32x4.ge(ax, f32x4.splat(9.0)));
}

/** tanh of one f32 via tanh4. */
@inline export function tanh1(x: f32): f32 {
  return f32x4.extract_lane(tanh4(f32x4.splat(x)), 0);
}
