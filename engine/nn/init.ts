/**
 * Seeded parameter initialization, cleanrl's PPO recipe (`layer_init`): orthogonal weights with gain √2
 * for hidden layers, 0.01 for the policy output layer and 1.0 for the value output layer; biases 0;
 * logStd 0.
 *
 * Orthogonal init follows torch.nn.init.orthogonal_: draw a Gaussian G [out, in], take the tall one of
 * G and Gᵀ, factor it as Q R with R's diagonal positive (Gram-Schmidt, run twice for float64 accuracy),
 * and use gain × Q (or gain × Qᵀ), so rows (out ≤ in) or columns (out ≥ in) are orthonormal × gain.
 * G's element k (row-major) of the tensor at position `tensor` in `layout.entries` comes from the
 * Philox init stream: counter (k >> 2, tensor, 0, 1), Gaussian number k & 3 (see philox.ts).
 */
import type { LayerSpec, ParamLayout } from './param-layout.ts';
import { philoxGaussians, STREAM_INIT } from './philox.ts';

/** Gain of hidden layers, √2 as cleanrl uses with tanh. */
export const HIDDEN_GAIN = Math.SQRT2;
/** Gain of the policy output layer, so initial means are near 0. */
export const POLICY_OUT_GAIN = 0.01;
/** Gain of the value output layer. */
export const VALUE_OUT_GAIN = 1.0;

/** [rows, cols] row-major matrix with orthonormal rows (rows ≤ cols) or columns (rows ≥ cols) times gain, float64. */
export function orthogonalMatrix(rows: number, cols: number, gain: number, seed: number, tensor: number): Float64Array {
  // Gaussian G [rows, cols], row-major, from the init stream.
  const g = new Float64Array(rows * cols);
  const z = new Float64Array(4);
  for (let k = 0; k < g.length; k += 4) {
    philoxGaussians(seed, k >>> 2, tensor, 0, STREAM_INIT, z);
    for (let j = 0; j < 4 && k + j < g.length; j++) g[k + j] = z[j];
  }
  // Tall matrix A [M, m] = G or Gᵀ; column c of A is a vector of length M.
  const tall = rows >= cols;
  const M = tall ? rows : cols;
  const m = tall ? cols : rows;
  const q: Float64Array[] = [];
  for (let c = 0; c < m; c++) {
    const v = new Float64Array(M);
    for (let r = 0; r < M; r++) v[r] = tall ? g[r * cols + c] : g[c * cols + r];
    for (let pass = 0; pass < 2; pass++) {
      for (const qi of q) {
        let dot = 0;
        for (let r = 0; r < M; r++) dot += qi[r] * v[r];
        for (let r = 0; r < M; r++) v[r] -= dot * qi[r];
      }
    }
    let norm = 0;
    for (let r = 0; r < M; r++) norm += v[r] * v[r];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12)) throw new Error(`orthogonal init: degenerate Gaussian matrix (seed ${seed}, tensor ${tensor})`);
    for (let r = 0; r < M; r++) v[r] /= norm;
    q.push(v);
  }
  // W = gain × Q (tall) or gain × Qᵀ (wide), row-major [rows, cols].
  const w = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) w[r * cols + c] = gain * (tall ? q[c][r] : q[r][c]);
  }
  return w;
}

/** Gain cleanrl gives this layer: √2 hidden, 0.01 policy output, 1.0 value output. */
export function layerGain(layer: LayerSpec): number {
  if (layer.tanh) return HIDDEN_GAIN;
  return layer.net === 'policy' ? POLICY_OUT_GAIN : VALUE_OUT_GAIN;
}

/** [layout.size] initial parameters for this seed (uint32), bit-identical across runs (V8's Math.log/cos are fdlibm ports). */
export function initParams(layout: ParamLayout, seed: number): Float32Array {
  const p = new Float32Array(layout.size);
  for (const layer of [...layout.policyLayers, ...layout.valueLayers]) {
    const tensor = layout.entries.findIndex((e) => e.offset === layer.weightOffset);
    const w = orthogonalMatrix(layer.outDim, layer.inDim, layerGain(layer), seed >>> 0, tensor);
    p.set(w, layer.weightOffset);
  }
  // Biases and logStd stay 0.
  return p;
}
