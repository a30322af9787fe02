// Column sums of the per-row terms of ppo-loss-grad.wgsl over the args.n rows, in a fixed order (each
// invocation sums rows lid, lid + WORKGROUP_SIZE, …, then a tree over the workgroup, workgroup-sum.wgsl), so
// the result does not depend on scheduling: columns 0-3 (pg, value error, KL, clipped) go to stats[0..3], and
// column 4 + j minus ent_coef (the entropy bonus's gradient) is dLoss/dlogStd_j, written to
// grad[LOG_STD_OFFSET + j]. One workgroup.

override ACT_DIM: u32;
override LOG_STD_OFFSET: u32;
override TERM_STRIDE: u32;
override WORKGROUP_SIZE: u32 = 64;

@group(0) @binding(0) var<uniform> args: TrainArgs;
@group(0) @binding(1) var<storage, read> terms: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (wid.x >= 1u) { return; }
  for (var c = 0u; c < 4u + ACT_DIM; c++) {
    var s = 0.0;
    for (var b = lid; b < args.n; b += WORKGROUP_SIZE) {
      s += terms[c * TERM_STRIDE + b];
    }
    let total = workgroup_sum(lid, s);
    if (lid == 0u) {
      if (c < 4u) {
        stats[c] = total;
      } else {
        grad[LOG_STD_OFFSET + c - 4u] = total - args.ent_coef;
      }
    }
  }
}
