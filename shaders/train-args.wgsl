// Per-call arguments of the training kernels (ppo-loss-grad.wgsl, ppo-loss-reduce.wgsl, the backward and
// grad-norm kernels, adam.wgsl), one uniform they share. A library: no entry point; prepended to those
// kernels by engine/gpu/shader-source.ts, and webgpu-utils reads its layout from this text.

struct TrainArgs {
  // Rows in the minibatch, n.
  n: u32,
  // Parameters in the flat buffer, P.
  num_params: u32,
  // 1: clip the value loss around the old values; 0: plain squared error.
  clip_vloss: u32,
  // Row slices of mlp-layer-backward-weights.wgsl (1: no second pass) and rows per slice (the last may have fewer).
  slices: u32,
  rows_per_slice: u32,
  // 1: scale the gradient by max_grad_norm / (norm + 1e-6) when that is below 1; 0: never clip.
  clip_grad: u32,
  // 1 / n.
  inv_n: f32,
  // Surrogate clipping ε, also the value clipping range.
  clip_coef: f32,
  // Entropy bonus coefficient.
  ent_coef: f32,
  // Value loss coefficient.
  vf_coef: f32,
  // Global gradient-norm bound (finite; clip_grad says whether it applies).
  max_grad_norm: f32,
  // Adam lr / (1 - β1^t) for this step's t.
  step_size: f32,
  // Adam 1 / sqrt(1 - β2^t).
  inv_sqrt_bc2: f32,
  // Adam β1, 1 - β1, β2, 1 - β2 (the differences rounded from float64, not computed in f32).
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  // Adam ε.
  adam_eps: f32,
}

// Slots of the [STATS_SLOTS] f32 stats buffer that the loss, grad-norm and Adam kernels share.
const STAT_PG_SUM: u32 = 0u;
const STAT_V_SUM: u32 = 1u;
const STAT_KL_SUM: u32 = 2u;
const STAT_CLIP_COUNT: u32 = 3u;
const STAT_NORM_SQ: u32 = 4u;
const STAT_GRAD_SCALE: u32 = 5u;
const STAT_OK: u32 = 6u;

// True unless v is ±Inf or NaN (exponent bits all ones); by bits, since WGSL has no isfinite.
fn is_finite_f32(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7F800000u) != 0x7F800000u;
}
