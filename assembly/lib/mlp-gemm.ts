// Dense-layer matrix kernels over f32 buffers in linear memory (pointers and strides in bytes).
//
// denseForward  y[n, out] = x[n, in] Wᵀ + b, W [out, in] row-major (dot products along in; 2 rows × 4 outputs
//               per tile, 8 f32x4 accumulators, masked last vector when in % 4 != 0)
// gemmStrided   C[M, N] = Σ_k A(m, k) B[k, N] with A read through strides (so dX = δ W and dW = δᵀ a_{l−1}
//               share it; 4 rows × 8 columns per tile, splat of A times two vectors of B), optionally gated
//               by (1 − G²) (the tanh derivative) before the store
// colSum        dst[out] = Σ_b d[b, out] (bias gradient)
// A masked vector load may read up to 12 bytes past the end of a row; the glue leaves 64 bytes of slack after
// every buffer, so those reads stay inside the memory and their lanes are zeroed or never stored.
import { hsum1, hsum4, tailMask, tanh1, tanh4 } from './mlp-simd';

/** Accumulates a · b into acc. */
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** y[n, outDim] = x[n, inDim] Wᵀ + b (W [outDim, inDim] row-major, b [outDim]), then tanh when act. */
export function denseForward(x: usize, n: i32, inDim: i32, w: usize, b: usize, outDim: i32, y: usize, act: bool): void {
  const rs = <usize>inDim << 2;
  const ys = <usize>outDim << 2;
  const kv = <usize>(inDim & ~3) << 2;
  const rem = inDim & 3;
  const mask = tailMask(rem);
  let r = 0;
  for (; r + 2 <= n; r += 2) {
    const x0 = x + <usize>r * rs;
    const x1 = x0 + rs;
    const y0 = y + <usize>r * ys;
    let o = 0;
    for (; o + 4 <= outDim; o += 4) {
      const w0 = w + <usize>o * rs;
      const w1 = w0 + rs;
      const w2 = w1 + rs;
      const w3 = w2 + rs;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
      for (let k: usize = 0; k < kv; k += 16) {
        const xa = v128.load(x0 + k);
        const xb = v128.load(x1 + k);
        const wa = v128.load(w0 + k);
        const wb = v128.load(w1 + k);
        const wc = v128.load(w2 + k);
        const wd = v128.load(w3 + k);
        a00 = madd(a00, xa, wa); a01 = madd(a01, xa, wb); a02 = madd(a02, xa, wc); a03 = madd(a03, xa, wd);
        a10 = madd(a10, xb, wa); a11 = madd(a11, xb, wb); a12 = madd(a12, xb, wc); a13 = madd(a13, xb, wd);
      }
      if (rem != 0) {
        const xa = v128.and(v128.load(x0 + kv), mask);
        const xb = v128.and(v128.load(x1 + kv), mask);
        const wa = v128.and(v128.load(w0 + kv), mask);
        const wb = v128.and(v128.load(w1 + kv), mask);
        const wc = v128.and(v128.load(w2 + kv), mask);
        const wd = v128.and(v128.load(w3 + kv), mask);
        a00 = madd(a00, xa, wa); a01 = madd(a01, xa, wb); a02 = madd(a02, xa, wc); a03 = madd(a03, xa, wd);
        a10 = madd(a10, xb, wa); a11 = madd(a11, xb, wb); a12 = madd(a12, xb, wc); a13 = madd(a13, xb, wd);
      }
      const bias = v128.load(b + (<usize>o << 2));
      let s0 = f32x4.add(hsum4(a00, a01, a02, a03), bias);
      let s1 = f32x4.add(hsum4(a10, a11, a12, a13), bias);
      if (act) {
        s0 = tanh4(s0);
        s1 = tanh4(s1);
      }
      v128.store(y0 + (<usize>o << 2), s0);
      v128.store(y0 + ys + (<usize>o << 2), s1);
    }
    for (; o < outDim; o++) {
      const w0 = w + <usize>o * rs;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      for (let k: usize = 0; k < kv; k += 16) {
        const wa = v128.load(w0 + k);
        a0 = madd(a0, v128.load(x0 + k), wa);
        a1 = madd(a1, v128.load(x1 + k), wa);
      }
      if (rem != 0) {
        const wa = v128.and(v128.load(w0 + kv), mask);
        a0 = madd(a0, v128.and(v128.load(x0 + kv), mask), wa);
        a1 = madd(a1, v128.and(v128.load(x1 + kv), mask), wa);
      }
      const bo = load<f32>(b + (<usize>o << 2));
      let s0 = hsum1(a0) + bo;
      let s1 = hsum1(a1) + bo;
      if (act) {
        s0 = tanh1(s0);
        s1 = tanh1(s1);
      }
      store<f32>(y0 + (<usize>o << 2), s0);
      store<f32>(y0 + ys + (<usize>o << 2), s1);
    }
  }
  if (r < n) {
    const x0 = x + <usize>r * rs;
    const y0 = y + <usize>r * ys;
    let o = 0;
    for (; o + 4 <= outDim; o += 4) {
      const w0 = w + <usize>o * rs;
      const w1 = w0 + rs;
      const w2 = w1 + rs;
      const w3 = w2 + rs;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
      for (let k: usize = 0; k < kv; k += 16) {
        const xa = v128.load(x0 + k);
        a00 = madd(a00, xa, v128.load(w0 + k));
        a01 = madd(a01, xa, v128.load(w1 + k));
        a02 = madd(a02, xa, v128.load(w2 + k));
        a03 = madd(a03, xa, v128.load(w3 + k));
      }
      if (rem != 0) {
        const xa = v128.and(v128.load(x0 + kv), mask);
        a00 = madd(a00, xa, v128.and(v128.load(w0 + kv), mask));
        a01 = madd(a01, xa, v128.and(v128.load(w1 + kv), mask));
        a02 = madd(a02, xa, v128.and(v128.load(w2 + kv), mask));
        a03 = madd(a03, xa, v128.and(v128.load(w3 + kv), mask));
      }
      let s0 = f32x4.add(hsum4(a00, a01, a02, a03), v128.load(b + (<usize>o << 2)));
      if (act) s0 = tanh4(s0);
      v128.store(y0 + (<usize>o << 2), s0);
    }
    for (; o < outDim; o++) {
      const w0 = w + <usize>o * rs;
      let a0 = f32x4.splat(0);
      for (let k: usize = 0; k < kv; k += 16) a0 = madd(a0, v128.load(x0 + k), v128.load(w0 + k));
      if (rem != 0) a0 = madd(a0, v128.and(v128.load(x0 + kv), mask), v128.and(v128.load(w0 + kv), mask));
      let s0 = hsum1(a0) + load<f32>(b + (<usize>o << 2));
      if (act) s0 = tanh1(s0);
      store<f32>(y0 + (<usize>o << 2), s0);
    }
  }
}

/** Stores v at p, first multiplied by (1 − G²) with G at gp when gp != 0. */
@inline function put(p: usize, v: v128, gp: usize): void {
  let s = v;
  if (gp != 0) {
    const g = v128.load(gp);
    s = f32x4.mul(s, f32x4.sub(f32x4.splat(1.0), f32x4.mul(g, g)));
  }
  v128.store(p, s);
}

/** Stores the lanes of v selected by mask at p (others keep their bytes), gated like put. */
@inline function putMasked(p: usize, v: v128, gp: usize, mask: v128): void {
  let s = v;
  if (gp != 0) {
    const g = v128.load(gp);
    s = f32x4.mul(s, f32x4.sub(f32x4.splat(1.0), f32x4.mul(g, g)));
  }
  v128.store(p, v128.bitselect(s, v128.load(p), mask));
}

/**
 * C[M, N] = Σ_{k < K} A(m, k) B[k, N]: A(m, k) is the f32 at a + m·saM + k·saK, row k of B starts at bp + k·ldb,
 * row m of C at c + m·ldc (bytes). When g != 0, C is multiplied by (1 − G²) elementwise, G laid out like C at g.
 */
export function gemmStrided(M: i32, N: i32, K: i32, a: usize, saM: usize, saK: usize, bp: usize, ldb: usize, c: usize, ldc: usize, g: usize): void {
  const n8 = N & ~7;
  const n4 = N & ~3;
  const mask = tailMask(N & 3);
  const gate = g != 0;
  const gOff: usize = g - c; // G = C + gOff (u32 arithmetic wraps, so G may lie below C)
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const a0 = a + <usize>m * saM;
    const a1 = a0 + saM;
    const a2 = a1 + saM;
    const a3 = a2 + saM;
    const c0 = c + <usize>m * ldc;
    let j = 0;
    for (; j < n8; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let ak: usize = 0;
      let bk = bp + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bk);
        const b1 = v128.load(bk, 16);
        const s0 = v128.load32_splat(a0 + ak);
        const s1 = v128.load32_splat(a1 + ak);
        const s2 = v128.load32_splat(a2 + ak);
        const s3 = v128.load32_splat(a3 + ak);
        c00 = madd(c00, s0, b0); c01 = madd(c01, s0, b1);
        c10 = madd(c10, s1, b0); c11 = madd(c11, s1, b1);
        c20 = madd(c20, s2, b0); c21 = madd(c21, s2, b1);
        c30 = madd(c30, s3, b0); c31 = madd(c31, s3, b1);
        ak += saK;
        bk += ldb;
      }
      const p0 = c0 + (<usize>j << 2);
      const p1 = p0 + ldc;
      const p2 = p1 + ldc;
      const p3 = p2 + ldc;
      put(p0, c00, gate ? p0 + gOff : 0); put(p0 + 16, c01, gate ? p0 + 16 + gOff : 0);
      put(p1, c10, gate ? p1 + gOff : 0); put(p1 + 16, c11, gate ? p1 + 16 + gOff : 0);
      put(p2, c20, gate ? p2 + gOff : 0); put(p2 + 16, c21, gate ? p2 + 16 + gOff : 0);
      put(p3, c30, gate ? p3 + gOff : 0); put(p3 + 16, c31, gate ? p3 + 16 + gOff : 0);
    }
    for (; j < N; j += 4) {
      let c0v = f32x4.splat(0), c1v = f32x4.splat(0), c2v = f32x4.splat(0), c3v = f32x4.splat(0);
      let ak: usize = 0;
      let bk = bp + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bk);
        c0v = madd(c0v, v128.load32_splat(a0 + ak), b0);
        c1v = madd(c1v, v128.load32_splat(a1 + ak), b0);
        c2v = madd(c2v, v128.load32_splat(a2 + ak), b0);
        c3v = madd(c3v, v128.load32_splat(a3 + ak), b0);
        ak += saK;
        bk += ldb;
      }
      const p0 = c0 + (<usize>j << 2);
      const p1 = p0 + ldc;
      const p2 = p1 + ldc;
      const p3 = p2 + ldc;
      if (j < n4) {
        put(p0, c0v, gate ? p0 + gOff : 0);
        put(p1, c1v, gate ? p1 + gOff : 0);
        put(p2, c2v, gate ? p2 + gOff : 0);
        put(p3, c3v, gate ? p3 + gOff : 0);
      } else {
        putMasked(p0, c0v, gate ? p0 + gOff : 0, mask);
        putMasked(p1, c1v, gate ? p1 + gOff : 0, mask);
        putMasked(p2, c2v, gate ? p2 + gOff : 0, mask);
        putMasked(p3, c3v, gate ? p3 + gOff : 0, mask);
      }
    }
  }
  for (; m < M; m++) {
    const a0 = a + <usize>m * saM;
    const c0 = c + <usize>m * ldc;
    let j = 0;
    for (; j < n8; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let ak: usize = 0;
      let bk = bp + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const s0 = v128.load32_splat(a0 + ak);
        c00 = madd(c00, s0, v128.load(bk));
        c01 = madd(c01, s0, v128.load(bk, 16));
        ak += saK;
        bk += ldb;
      }
      const p0 = c0 + (<usize>j << 2);
      put(p0, c00, gate ? p0 + gOff : 0);
      put(p0 + 16, c01, gate ? p0 + 16 + gOff : 0);
    }
    for (; j < N; j += 4) {
      let c0v = f32x4.splat(0);
      let ak: usize = 0;
      let bk = bp + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        c0v = madd(c0v, v128.load32_splat(a0 + ak), v128.load(bk));
        ak += saK;
        bk += ldb;
      }
      const p0 = c0 + (<usize>j << 2);
      if (j < n4) put(p0, c0v, gate ? p0 + gOff : 0);
      else putMasked(p0, c0v, gate ? p0 + gOff : 0, mask);
    }
  }
}

/** dst[outDim] = Σ_{b < n} d[b, outDim] (column sums of a row-major matrix). */
export function colSum(d: usize, n: i32, outDim: i32, dst: usize): void {
  const ov = outDim & ~3;
  const rs = <usize>outDim << 2;
  for (let o = 0; o < outDim; o++) store<f32>(dst + (<usize>o << 2), 0);
  for (let b = 0; b < n; b++) {
    const row = d + <usize>b * rs;
    let o = 0;
    for (; o < ov; o += 4) {
      const p = dst + (<usize>o << 2);
      v128.store(p, f32x4.add(v128.load(p), v128.load(row + (<usize>o << 2))));
    }
    for (; o < outDim; o++) {
      const p = dst + (<usize>o << 2);
      store<f32>(p, load<f32>(p) + load<f32>(row + (<usize>o << 2)));
    }
  }
}
