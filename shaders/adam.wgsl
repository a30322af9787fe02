// One Adam step (torch.optim.Adam) on every parameter, in place, with the gradient scaled by the clipping
// factor s = stats[STAT_GRAD_SCALE]: g = s grad; m ← β1 m + (1 - β1) g; v ← β2 v + (1 - β2) g²;
// p ← p - step_size m / (sqrt(v) inv_sqrt_bc2 + ε), where step_size = lr / (1 - β1^t) and inv_sqrt_bc2 =
// 1 / sqrt(1 - β2^t) come from the CPU. Does nothing when stats[STAT_OK] is 0 (a non-finite loss or
// gradient norm), so a bad minibatch leaves parameters and moments unchanged. One invocation per parameter.

override WORKGROUP_SIZE: u32 = 64;

@group(0) @binding(0) var<uniform> args: TrainArgs;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> adam_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> adam_v: array<f32>;
@group(0) @binding(5) var<storage, read> stats: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(ids: GridIds) {
  let i = grid_index(ids);
  if (i >= args.num_params) { return; }
  if (stats[STAT_OK] == 0.0) { return; }
  let g = grad[i] * stats[STAT_GRAD_SCALE];
  let m = args.beta1 * adam_m[i] + args.one_minus_beta1 * g;
  let v = args.beta2 * adam_v[i] + args.one_minus_beta2 * (g * g);
  let denom = sqrt(v) * args.inv_sqrt_bc2 + args.adam_eps;
  adam_m[i] = m;
  adam_v[i] = v;
  params[i] = params[i] - (args.step_size * m) / denom;
}
