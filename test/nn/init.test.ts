// cleanrl initialization: orthogonal weights × gain (√2 hidden, 0.01 policy out, 1 value out), zero
// biases and logStd, drawn from the Philox init stream, bit-identical for a seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initParams, orthogonalMatrix } from '../../engine/nn/init.ts';
import { paramLayout } from '../../engine/nn/param-layout.ts';
import { philoxGaussians } from '../../engine/nn/philox.ts';

/** Largest |G - gain² I| where G = W Wᵀ (rows) or Wᵀ W (columns) of a row-major [rows, cols] W. */
function gramError(w: ArrayLike<number>, rows: number, cols: number, gain: number, byRows: boolean): number {
  const m = byRows ? rows : cols;
  const len = byRows ? cols : rows;
  const at = (v: number, k: number) => (byRows ? w[v * cols + k] : w[k * cols + v]);
  let worst = 0;
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      let dot = 0;
      for (let k = 0; k < len; k++) dot += at(a, k) * at(b, k);
      worst = Math.max(worst, Math.abs(dot - (a === b ? gain * gain : 0)));
    }
  }
  return worst;
}

test('a 1×1 orthogonal matrix is ±gain with the sign of init-stream Gaussian 0', () => {
  // G = [g], g = Gaussian 0 of counter (0, tensor 3, 0, 1); QR of [g] gives Q = [sign g].
  const g = philoxGaussians(9, 0, 3, 0, 1)[0];
  assert.equal(orthogonalMatrix(1, 1, 2.5, 9, 3)[0], Math.sign(g) * 2.5);
});

test('orthogonal rows when out < in, columns when out > in, both when square', () => {
  // [4, 64] (policy output): rows orthonormal × 0.01, so W Wᵀ = 1e-4 I.
  assert.ok(gramError(orthogonalMatrix(4, 64, 0.01, 1, 0), 4, 64, 0.01, true) < 1e-15);
  // [64, 25] (first hidden): columns orthonormal × √2, so Wᵀ W = 2 I.
  assert.ok(gramError(orthogonalMatrix(64, 25, Math.SQRT2, 1, 0), 64, 25, Math.SQRT2, false) < 1e-13);
  // [64, 64]: both.
  const sq = orthogonalMatrix(64, 64, Math.SQRT2, 1, 2);
  assert.ok(gramError(sq, 64, 64, Math.SQRT2, true) < 1e-13);
  assert.ok(gramError(sq, 64, 64, Math.SQRT2, false) < 1e-13);
});

test('initParams: cleanrl gains per layer, zero biases and logStd, float32 rounding only', () => {
  const layout = paramLayout(25, 4, [64, 64]);
  const p = initParams(layout, 42);
  const gains = [Math.SQRT2, Math.SQRT2, 0.01, Math.SQRT2, Math.SQRT2, 1];
  [...layout.policyLayers, ...layout.valueLayers].forEach((l, i) => {
    const w = p.subarray(l.weightOffset, l.weightOffset + l.inDim * l.outDim);
    // Float32 rounding of entries ~0.3 leaves ~1e-8 per product; sums of 64 stay under 1e-6.
    const e = gramError(w, l.outDim, l.inDim, gains[i], l.outDim <= l.inDim);
    assert.ok(e < 1e-6 * gains[i] ** 2 * 4, `${l.net}.${l.index}: Gram error ${e}`);
    assert.ok(p.subarray(l.biasOffset, l.biasOffset + l.outDim).every((v) => v === 0), `${l.net}.${l.index}.bias not 0`);
  });
  assert.ok(p.subarray(layout.logStdOffset, layout.logStdOffset + 4).every((v) => v === 0));
});

test('initParams is bit-identical for a seed and differs between seeds and tensors', () => {
  const layout = paramLayout(25, 4, [64, 64]);
  const a = initParams(layout, 7);
  assert.deepEqual(initParams(layout, 7), a);
  const b = initParams(layout, 8);
  assert.ok(a.some((v, i) => v !== b[i]));
  // policy.1 and value.1 are both 64×64 with √2 but are different tensors (different counters).
  const p1 = a.subarray(layout.policyLayers[1].weightOffset, layout.policyLayers[1].weightOffset + 4096);
  const v1 = a.subarray(layout.valueLayers[1].weightOffset, layout.valueLayers[1].weightOffset + 4096);
  assert.ok(p1.some((v, i) => v !== v1[i]));
});
