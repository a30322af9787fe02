// Per-call arguments of the policy kernels, one uniform shared by mlp-layer.wgsl and gaussian-head.wgsl.
// Prepended to those kernels by engine/gpu/shader-source.ts; webgpu-utils reads its layout from this text.

struct ActArgs {
  // Rows in the batch, N.
  n: u32,
  // Step index t of the Philox counter (e, t, j >> 2, 0).
  step: u32,
  // Philox key word 0 (the policy seed, uint32); key word 1 is 0.
  seed: u32,
  // Global env index of row 0: row r samples with e = env_offset + r.
  env_offset: u32,
  // 1: return the mean action and its log-probability; 0: sample.
  deterministic: u32,
}
