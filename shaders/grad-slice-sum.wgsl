// Second pass of mlp-layer-backward-weights.wgsl when the rows were cut into args.slices > 1 slices: the
// layer's gradient block of COUNT floats (weight then bias, contiguous in the flat layout) at OFFSET is
// grad[OFFSET + k] = Σ_s partial[s · SLICE_STRIDE + k], slices added in order s = 0, 1, …, so the sum is the
// same every run. One invocation per element.

override OFFSET: u32;
override COUNT: u32;
override SLICE_STRIDE: u32;
override WORKGROUP_SIZE: u32 = 64;

@group(0) @binding(0) var<uniform> args: TrainArgs;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(ids: GridIds) {
  let k = grid_index(ids);
  if (k >= COUNT) { return; }
  var s = 0.0;
  for (var slice = 0u; slice < args.slices; slice++) {
    s += partial[slice * SLICE_STRIDE + k];
  }
  grad[OFFSET + k] = s;
}
