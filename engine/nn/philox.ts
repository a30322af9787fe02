/**
 * Philox4x32-10 counter-based RNG (Salmon et al. 2011, Random123), the one source of randomness of the
 * policy; shaders/philox.wgsl computes the same words bit for bit (test/nn/philox.test.ts checks).
 *
 * Key and counter:
 * - key = (seed >>> 0, 0): the seed is a uint32; the high key word is 0 for now.
 * - counter = (c0, c1, c2, c3), four uint32 words; one call gives four uint32 words.
 *
 * Streams (counter word 3 names the stream, so no two uses ever share a counter):
 * - action noise, stream 0: action dimension j of env e at step t uses counter (e, t, j >> 2, 0) and
 *   takes Gaussian number j & 3 of that call, so actDim <= 4 needs one call per env and step.
 *   e is the global env index (the `envOffset` passed to act() plus the row), t the `step`.
 * - initialization, stream 1: element k (row-major) of the k-th Gaussian matrix drawn at init
 *   (see init.ts) uses counter (k >> 2, tensor, 0, 1) and takes Gaussian number k & 3.
 *
 * Words to numbers:
 * - uniform u = ((word >>> 8) + 0.5) * 2^-24, in (0, 1). u needs 25 bits, so the WGSL never rounds it
 *   to f32: it computes ln u and cos/sin 2πu from the integer word >>> 8 directly (shaders/philox.wgsl).
 * - Gaussians by Box-Muller from the pairs (u0, u1) and (u2, u3):
 *   z0 = sqrt(-2 ln u0) cos(2π u1), z1 = sqrt(-2 ln u0) sin(2π u1), z2, z3 likewise from (u2, u3).
 */

/** Philox multiplier for counter word 0. */
export const PHILOX_M0 = 0xd2511f53;
/** Philox multiplier for counter word 2. */
export const PHILOX_M1 = 0xcd9e8d57;
/** Weyl increment of key word 0 (golden ratio). */
export const PHILOX_W0 = 0x9e3779b9;
/** Weyl increment of key word 1 (sqrt(3) - 1). */
export const PHILOX_W1 = 0xbb67ae85;
/** Rounds of Philox4x32-10. */
export const PHILOX_ROUNDS = 10;
/** Counter word 3 of the action-noise stream. */
export const STREAM_ACTION = 0;
/** Counter word 3 of the initialization stream. */
export const STREAM_INIT = 1;

/** High 32 bits of the 64-bit product of two uint32 values, by 16-bit halves exactly as the WGSL does. */
export function mulhi32(a: number, b: number): number {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Writes the four uint32 words of Philox4x32-10 at counter (c0, c1, c2, c3) and key (k0, k1) into out[0..3]. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let r = 0; r < PHILOX_ROUNDS; r++) {
    const hi0 = mulhi32(PHILOX_M0, x0);
    const lo0 = Math.imul(PHILOX_M0, x0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, x2);
    const lo1 = Math.imul(PHILOX_M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + PHILOX_W0) >>> 0;
    key1 = (key1 + PHILOX_W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
  return out;
}

/** Uniform in (0, 1) from one uint32 word: ((word >>> 8) + 0.5) * 2^-24, exact in float64. */
export function wordToUniform(word: number): number {
  return ((word >>> 8) + 0.5) * 2 ** -24;
}

/** Writes the four float64 Box-Muller Gaussians of one Philox call (counter, key (seed, 0)) into out[0..3]. */
export function philoxGaussians(
  seed: number,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  out: Float64Array = new Float64Array(4),
): Float64Array {
  const w = philox4x32(c0, c1, c2, c3, seed >>> 0, 0, scratchWords);
  for (let p = 0; p < 2; p++) {
    const u0 = wordToUniform(w[2 * p]);
    const u1 = wordToUniform(w[2 * p + 1]);
    const r = Math.sqrt(-2 * Math.log(u0));
    out[2 * p] = r * Math.cos(2 * Math.PI * u1);
    out[2 * p + 1] = r * Math.sin(2 * Math.PI * u1);
  }
  return out;
}

const scratchWords = new Uint32Array(4);
const scratchGauss = new Float64Array(4);

/** Float64 Gaussian noise of action dimension j of env e at step t, per the action stream above. */
export function actionNoise(seed: number, env: number, step: number, j: number): number {
  philoxGaussians(seed, env, step, j >>> 2, STREAM_ACTION, scratchGauss);
  return scratchGauss[j & 3];
}
