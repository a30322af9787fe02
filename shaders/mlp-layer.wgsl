// One dense layer of the policy or value MLP for a batch: y[b, o] = act(Σ_k W[o, k] x[b, k] + bias[o]).
// W is row-major [OUT_DIM, IN_DIM] at W_OFFSET and bias [OUT_DIM] at B_OFFSET in the flat parameter
// buffer (engine/nn/param-layout.ts); act is tanh of the argument clamped to ±20 (SwiftShader's
// tanh returns NaN for |x| ≥ ~89) when TANH, else identity (output layers, the value head among them).
// x is [n, IN_DIM] and y [n, OUT_DIM], row-major. Each invocation computes a tile of 4 rows × 4 outputs
// (16 sums from 8 loads per k; on SwiftShader ~3x faster than one output per invocation); tiles are
// numbered row-tile-major, and a 2-D grid of workgroups holds batches past 65535 workgroups.

override IN_DIM: u32;
override OUT_DIM: u32;
override W_OFFSET: u32;
override B_OFFSET: u32;
override TANH: bool;
override WORKGROUP_SIZE: u32 = 64;

const TILE: u32 = 4u;

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
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let out_tiles = (OUT_DIM + TILE - 1u) / TILE;
  let n_tiles = ((args.n + TILE - 1u) / TILE) * out_tiles;
  let i = (wid.y * groups.x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= n_tiles) { return; }
  let b0 = (i / out_tiles) * TILE;
  let o0 = (i % out_tiles) * TILE;
  // Rows and outputs past the end read the last valid one and are not written.
  let last_o = OUT_DIM - 1u;
  let last_b = args.n - 1u;
  let w0 = W_OFFSET + min(o0, last_o) * IN_DIM;
  let w1 = W_OFFSET + min(o0 + 1u, last_o) * IN_DIM;
  let w2 = W_OFFSET + min(o0 + 2u, last_o) * IN_DIM;
  let w3 = W_OFFSET + min(o0 + 3u, last_o) * IN_DIM;
  let x0 = min(b0, last_b) * IN_DIM;
  let x1 = min(b0 + 1u, last_b) * IN_DIM;
  let x2 = min(b0 + 2u, last_b) * IN_DIM;
  let x3 = min(b0 + 3u, last_b) * IN_DIM;
  let bias = vec4f(
    params[B_OFFSET + min(o0, last_o)],
    params[B_OFFSET + min(o0 + 1u, last_o)],
    params[B_OFFSET + min(o0 + 2u, last_o)],
    params[B_OFFSET + min(o0 + 3u, last_o)],
  );
  // acc_r[j] = sum for row b0 + r and output o0 + j.
  var acc0 = bias;
  var acc1 = bias;
  var acc2 = bias;
  var acc3 = bias;
  for (var k = 0u; k < IN_DIM; k++) {
    let w = vec4f(params[w0 + k], params[w1 + k], params[w2 + k], params[w3 + k]);
    acc0 += x[x0 + k] * w;
    acc1 += x[x1 + k] * w;
    acc2 += x[x2 + k] * w;
    acc3 += x[x3 + k] * w;
  }
  let acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < TILE; r++) {
    let b = b0 + r;
    if (b >= args.n) { break; }
    for (var j = 0u; j < TILE; j++) {
      let o = o0 + j;
      if (o >= OUT_DIM) { break; }
      y[b * OUT_DIM + o] = activate(acc[r][j]);
    }
  }
}
