// First pass of the global gradient norm: invocation g of NUM_PARTIALS writes partial[g] = Σ grad[k]² over
// k = g, g + NUM_PARTIALS, g + 2·NUM_PARTIALS, …, in that order, so the norm is the same every run (no
// workgroup barriers: they are slow on software adapters). grad-norm-final.wgsl sums the partials.

override NUM_PARTIALS: u32;
override WORKGROUP_SIZE: u32 = 64;

@group(0) @binding(0) var<uniform> args: TrainArgs;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(ids: GridIds) {
  let g = grid_index(ids);
  if (g >= NUM_PARTIALS) { return; }
  var s = 0.0;
  for (var k = g; k < args.num_params; k += NUM_PARTIALS) {
    let x = grad[k];
    s += x * x;
  }
  partials[g] = s;
}
