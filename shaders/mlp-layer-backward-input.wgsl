// Gradient w.r.t. the input of one hidden-fed dense layer, for a batch: dx[b, i] = (Σ_o dy[b, o] W[o, i])
// (1 - x[b, i]²), where dy [n, OUT_DIM] = dLoss/d(pre-activation) of this layer, x [n, IN_DIM] its input,
// the previous layer's tanh output, and dx [n, IN_DIM] = dLoss/d(pre-activation) of the previous layer.
// W is row-major [OUT_DIM, IN_DIM] at W_OFFSET in the flat parameter buffer (engine/nn/param-layout.ts).
// The reference blocks the gradient where the forward clamp to ±20 was active; there f32 tanh is exactly
// ±1 (tanh 20 = 1 - 8.5e-18), so 1 - x² is 0 too. Each invocation computes a tile of 4 rows × 4 inputs
// (tile.wgsl), tiles numbered row-tile-major, the k-loop in a fixed order, so results do not depend on scheduling.

override IN_DIM: u32;
override OUT_DIM: u32;
override W_OFFSET: u32;
override WORKGROUP_SIZE: u32 = 64;

@group(0) @binding(0) var<uniform> args: TrainArgs;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(ids: GridIds) {
  let in_tiles = tile_count(IN_DIM);
  let t = grid_index(ids);
  if (t >= tile_count(args.n) * in_tiles) { return; }
  let b0 = (t / in_tiles) * TILE;
  let i0 = (t % in_tiles) * TILE;
  let c = tile_clamp(i0, IN_DIM - 1u);
  let yr = tile_clamp(b0, args.n - 1u) * OUT_DIM;
  // acc_r[k] = sum for row b0 + r and input i0 + k.
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var o = 0u; o < OUT_DIM; o++) {
    let w = W_OFFSET + o * IN_DIM;
    let wv = vec4f(params[w + c.x], params[w + c.y], params[w + c.z], params[w + c.w]);
    acc0 += dy[yr.x + o] * wv;
    acc1 += dy[yr.y + o] * wv;
    acc2 += dy[yr.z + o] * wv;
    acc3 += dy[yr.w + o] * wv;
  }
  let acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < TILE; r++) {
    let b = b0 + r;
    if (b >= args.n) { break; }
    for (var k = 0u; k < TILE; k++) {
      let i = i0 + k;
      if (i >= IN_DIM) { break; }
      let a = x[b * IN_DIM + i];
      dx[b * IN_DIM + i] = acc[r][k] * (1.0 - a * a);
    }
  }
}
