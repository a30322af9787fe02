// Philox4x32-10 and Box-Muller Gaussians, the same words and convention as engine/nn/philox.ts (whose
// header documents keys, counters and streams): key (seed, 0), uniform u = ((word >>> 8) + 0.5) 2^-24 exact
// in f64, (z0, z1) = sqrt(−2 ln u0) (cos 2π u1, sin 2π u1), (z2, z3) likewise from (u2, u3), all in f64.
// Results go to wasm globals (not linear memory), so the kernels need no scratch memory.

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;
const TWO_PI: f64 = 6.283185307179586;

/** The four words of the last philox() call. */
export let word0: u32 = 0;
export let word1: u32 = 0;
export let word2: u32 = 0;
export let word3: u32 = 0;
/** The four Gaussians of the last gaussians() call. */
export let gauss0: f64 = 0;
export let gauss1: f64 = 0;
export let gauss2: f64 = 0;
export let gauss3: f64 = 0;

/** Philox4x32-10 at counter (c0, c1, c2, c3) and key (k0, k1) into word0..word3. */
export function philox(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  let x0 = c0, x1 = c1, x2 = c2, x3 = c3;
  let key0 = k0, key1 = k1;
  for (let r = 0; r < 10; r++) {
    const p0 = M0 * <u64>x0;
    const p1 = M1 * <u64>x2;
    x0 = <u32>(p1 >>> 32) ^ x1 ^ key0;
    x1 = <u32>p1;
    x2 = <u32>(p0 >>> 32) ^ x3 ^ key1;
    x3 = <u32>p0;
    key0 += W0;
    key1 += W1;
  }
  word0 = x0;
  word1 = x1;
  word2 = x2;
  word3 = x3;
}

/** Uniform in (0, 1) of one word, exact in f64. */
@inline function uniform(w: u32): f64 {
  return (<f64>(w >>> 8) + 0.5) * 5.9604644775390625e-8;
}

/** The four Gaussians of the Philox call at counter (c0, c1, c2, c3), key (seed, 0), into gauss0..gauss3. */
export function gaussians(seed: u32, c0: u32, c1: u32, c2: u32, c3: u32): void {
  philox(c0, c1, c2, c3, seed, 0);
  const r0 = Math.sqrt(-2.0 * Math.log(uniform(word0)));
  const t0 = TWO_PI * uniform(word1);
  const r1 = Math.sqrt(-2.0 * Math.log(uniform(word2)));
  const t1 = TWO_PI * uniform(word3);
  gauss0 = r0 * Math.cos(t0);
  gauss1 = r0 * Math.sin(t0);
  gauss2 = r1 * Math.cos(t1);
  gauss3 = r1 * Math.sin(t1);
}

/** Gaussian number i (0..3) of the last gaussians() call. */
@inline export function gauss(i: i32): f64 {
  return i == 0 ? gauss0 : i == 1 ? gauss1 : i == 2 ? gauss2 : gauss3;
}
