// Philox4x32-10 and Box-Muller Gaussians, bit-identical words to engine/nn/philox.ts, whose header
// documents keys, counters and streams. A library: no entry point; prepended to the kernels that sample.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const TWO_PI: f32 = 6.283185307179586;

// (high, low) 32-bit halves of the 64-bit product a * b, exact, by 16-bit limbs.
fn mulhilo32(a: u32, b: u32) -> vec2u {
  let a_lo = a & 0xFFFFu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xFFFFu;
  let b_hi = b >> 16u;
  let ll = a_lo * b_lo;
  let lh = a_lo * b_hi;
  let hl = a_hi * b_lo;
  let hh = a_hi * b_hi;
  let mid = (ll >> 16u) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
  let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  return vec2u(hi, a * b);
}

// Four uint32 words of Philox4x32-10 at counter ctr and key (k0, k1).
fn philox4x32(ctr: vec4u, k0: u32, k1: u32) -> vec4u {
  var x = ctr;
  var key = vec2u(k0, k1);
  for (var r = 0u; r < 10u; r++) {
    let p0 = mulhilo32(PHILOX_M0, x.x);
    let p1 = mulhilo32(PHILOX_M1, x.z);
    x = vec4u(p1.x ^ x.y ^ key.x, p1.y, p0.x ^ x.w ^ key.y, p0.y);
    key += vec2u(PHILOX_W0, PHILOX_W1);
  }
  return x;
}

// Natural log of a normal float u in (0, 1], to a few ulp relative even near 1, from + - * / only
// (SwiftShader's log loses relative accuracy near 1): u = m 2^e with m in [√½, √2),
// ln u = e ln 2 + 2 atanh(s), s = (m - 1) / (m + 1), |s| ≤ 0.172, series to s^9 (next term < 1e-9).
fn ln_unit(u: f32) -> f32 {
  let bits = bitcast<u32>(u);
  var e = i32(bits >> 23u) - 127;
  var m = bitcast<f32>((bits & 0x007FFFFFu) | 0x3F800000u);
  if (m > 1.4142135) {
    m *= 0.5;
    e += 1;
  }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let series = s * (2.0 + s2 * (0.6666667 + s2 * (0.4 + s2 * (0.2857143 + s2 * 0.2222222))));
  return f32(e) * 0.6931472 + series;
}

// ln u of the uniform u = ((w >> 8) + 0.5) 2^-24 in (0, 1) of one Philox word, to a few ulp relative.
// u itself needs 25 bits, so it is never rounded to f32: for x = w >> 8 < 2^23, x + 0.5 is exact;
// above, ln u = ln(x 2^-24) + ln(1 + 0.5 / x) and the second term is 0.5 / x to 1e-15.
fn ln_uniform(w: u32) -> f32 {
  let x = f32(w >> 8u);
  if (x < 8388608.0) {
    return ln_unit((x + 0.5) * (1.0 / 16777216.0));
  }
  return ln_unit(x * (1.0 / 16777216.0)) + 0.5 / x;
}

// (cos 2πu, sin 2πu) of the uniform u = ((w >> 8) + 0.5) 2^-24 of one Philox word, to ~1e-7 absolute
// (SwiftShader's cos and sin are off by ~2e-4): the nearest quarter turn q and the remainder are
// computed exactly in integers, a = 2π (u - q/4) lies in [-π/4, π/4], Taylor series there (truncation
// < 2e-9), then rotation by q quarter turns.
fn cos_sin_uniform(w: u32) -> vec2f {
  let x = w >> 8u;
  let q = (x + 0x200000u) >> 22u;
  let a = (f32(i32(x) - i32(q << 22u)) + 0.5) * (TWO_PI / 16777216.0);
  let a2 = a * a;
  let s = a * (1.0 + a2 * (-1.6666667e-1 + a2 * (8.3333333e-3 + a2 * (-1.9841270e-4 + a2 * 2.7557319e-6))));
  let c = 1.0 + a2 * (-0.5 + a2 * (4.1666667e-2 + a2 * (-1.3888889e-3 + a2 * (2.4801587e-5 + a2 * -2.7557319e-7))));
  switch (q & 3u) {
    case 1u: { return vec2f(-s, c); }
    case 2u: { return vec2f(-c, -s); }
    case 3u: { return vec2f(s, -c); }
    default: { return vec2f(c, s); }
  }
}

// Four Box-Muller Gaussians of one Philox call at counter ctr, key (seed, 0), with u_i from word i:
// (z0, z1) = sqrt(-2 ln u0) (cos 2π u1, sin 2π u1), (z2, z3) likewise from (u2, u3).
fn philox_gaussians(ctr: vec4u, seed: u32) -> vec4f {
  let w = philox4x32(ctr, seed, 0u);
  let r0 = sqrt(-2.0 * ln_uniform(w.x));
  let r1 = sqrt(-2.0 * ln_uniform(w.z));
  return vec4f(r0 * cos_sin_uniform(w.y), r1 * cos_sin_uniform(w.w));
}
