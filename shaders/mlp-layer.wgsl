// One dense layer of the policy or value MLP for a batch: y[b, o] = act(Σ_k W[o, k] x[b, k] + bias[o]).
// W is row-major [OUT_DIM, IN_DIM] at W_OFFSET and bias [OUT_DIM] at B_OFFSET in the flat parameter
// buffer (engine/nn/param-layout.ts); act is tanh of the argument clamped to ±20 (SwiftShader's
// tanh returns NaN for |x| ≥ ~89) when TANH, else identity (output layers, the value head among them).
// x is [n, IN_DIM] and y [n, OUT_DIM], row-major. Each invocation computes a tile of 4 rows × 4 outputs
// (tile.wgsl; 16 sums from 8 loads per k, on SwiftShader ~3x faster than one output per invocation); tiles
// are numbered row-tile-major over a 2-D grid of workgroups (grid-index.wgsl).

override IN_DIM: u32;
override OUT_DIM: u32;
override W_OFFSET: u32;
override B_OFFSET: u32;
override TANH: bool;
override WORKGROUP_SIZE: u32 = 64;

@group(0) @binding(0) var<uniform> args: ActArgs;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

// Activation of one output: tanh of the clamped sum for hidden layers, the sum itself for output layers.
fn activate(v: f32) -> f32 {
  if (TANH) {
    return tanh(clamp(v, -20.0, 20.0));
  }
  return v;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(ids: GridIds) {
  let out_tiles = tile_count(OUT_DIM);
  let i = grid_index(ids);
  if (i >= tile_count(args.n) * out_tiles) { return; }
  let b0 = (i / out_tiles) * TILE;
  let o0 = (i % out_tiles) * TILE;
  let o = tile_clamp(o0, OUT_DIM - 1u);
  let w = W_OFFSET + o * IN_DIM;
  let xr = tile_clamp(b0, args.n - 1u) * IN_DIM;
  let bias = vec4f(params[B_OFFSET + o.x], params[B_OFFSET + o.y], params[B_OFFSET + o.z], params[B_OFFSET + o.w]);
  // acc_r[j] = sum for row b0 + r and output o0 + j.
  var acc0 = bias;
  var acc1 = bias;
  var acc2 = bias;
  var acc3 = bias;
  for (var k = 0u; k < IN_DIM; k++) {
    let wk = vec4f(params[w.x + k], params[w.y + k], params[w.z + k], params[w.w + k]);
    acc0 += x[xr.x + k] * wk;
    acc1 += x[xr.y + k] * wk;
    acc2 += x[xr.z + k] * wk;
    acc3 += x[xr.w + k] * wk;
  }
  let acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < TILE; r++) {
    let b = b0 + r;
    if (b >= args.n) { break; }
    for (var j = 0u; j < TILE; j++) {
      let oj = o0 + j;
      if (oj >= OUT_DIM) { break; }
      y[b * OUT_DIM + oj] = activate(acc[r][j]);
    }
  }
}
