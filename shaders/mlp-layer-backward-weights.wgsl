// Gradient w.r.t. the weight and bias of one dense layer, for a batch: dW[o, i] = Σ_b dy[b, o] x[b, i] and
// db[o] = Σ_b dy[b, o], where dy [n, OUT_DIM] = dLoss/d(pre-activation) of the layer and x [n, IN_DIM] its
// input. The rows are cut into args.slices slices of args.rows_per_slice (the CPU picks them from n); each
// invocation sums one slice of rows, in order, for a tile of 4 outputs × 4 inputs (tile.wgsl). With one slice
// the sums go straight to grad at W_OFFSET ([OUT_DIM, IN_DIM] row-major) and B_OFFSET = W_OFFSET +
// OUT_DIM·IN_DIM ([OUT_DIM]); with several, slice s writes the same layout to partial[s · SLICE_STRIDE + …]
// and grad-slice-sum.wgsl adds the slices in order: a fixed order either way, so the gradient is the same
// every run. Invocations are numbered slice-major, then output-tile-major; biases come from tiles at input 0.

override IN_DIM: u32;
override OUT_DIM: u32;
override W_OFFSET: u32;
override SLICE_STRIDE: u32;
override WORKGROUP_SIZE: u32 = 64;

@group(0) @binding(0) var<uniform> args: TrainArgs;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;

// Stores one sum at index k of the layer's [weight | bias] block: into grad, or into the slice's partial block.
fn put(slice: u32, k: u32, v: f32) {
  if (args.slices == 1u) {
    grad[W_OFFSET + k] = v;
  } else {
    partial[slice * SLICE_STRIDE + k] = v;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(ids: GridIds) {
  let in_tiles = tile_count(IN_DIM);
  let n_tiles = tile_count(OUT_DIM) * in_tiles;
  let i = grid_index(ids);
  if (i >= n_tiles * args.slices) { return; }
  let slice = i / n_tiles;
  let t = i % n_tiles;
  let o0 = (t / in_tiles) * TILE;
  let i0 = (t % in_tiles) * TILE;
  let p = tile_clamp(o0, OUT_DIM - 1u);
  let c = tile_clamp(i0, IN_DIM - 1u);
  let b_lo = min(slice * args.rows_per_slice, args.n);
  let b_hi = min(b_lo + args.rows_per_slice, args.n);
  // acc_r[k] = sum for output o0 + r and input i0 + k; acc_b[r] = sum for the bias of output o0 + r.
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc_b = vec4f(0.0);
  for (var b = b_lo; b < b_hi; b++) {
    let yb = b * OUT_DIM;
    let xb = b * IN_DIM;
    let g = vec4f(dy[yb + p.x], dy[yb + p.y], dy[yb + p.z], dy[yb + p.w]);
    let xv = vec4f(x[xb + c.x], x[xb + c.y], x[xb + c.z], x[xb + c.w]);
    acc0 += g.x * xv;
    acc1 += g.y * xv;
    acc2 += g.z * xv;
    acc3 += g.w * xv;
    acc_b += g;
  }
  let acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < TILE; r++) {
    let o = o0 + r;
    if (o >= OUT_DIM) { break; }
    for (var k = 0u; k < TILE; k++) {
      let col = i0 + k;
      if (col >= IN_DIM) { break; }
      put(slice, o * IN_DIM + col, acc[r][k]);
    }
    if (i0 == 0u) {
      put(slice, OUT_DIM * IN_DIM + o, acc_b[r]);
    }
  }
}
