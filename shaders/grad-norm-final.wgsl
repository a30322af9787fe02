// Second pass of the global gradient norm: stats[STAT_NORM_SQ] = Σ partials in a fixed order (invocation lid
// sums partials lid, lid + WORKGROUP_SIZE, …, then a tree over the workgroup, workgroup-sum.wgsl), then the
// clipping scale of torch.nn.utils.clip_grad_norm_, min(1, max_grad_norm / (norm + 1e-6)) when args.clip_grad,
// into stats[STAT_GRAD_SCALE], and stats[STAT_OK] = 1 when the squared norm and the loss sums (stats[0..2]) are
// finite, else 0, which makes adam.wgsl leave everything unchanged. One workgroup.

override NUM_PARTIALS: u32;
override WORKGROUP_SIZE: u32 = 64;

const GRAD_CLIP_EPS: f32 = 1e-6;

@group(0) @binding(0) var<uniform> args: TrainArgs;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (wid.x >= 1u) { return; }
  var s = 0.0;
  for (var k = lid; k < NUM_PARTIALS; k += WORKGROUP_SIZE) {
    s += partials[k];
  }
  let norm_sq = workgroup_sum(lid, s);
  if (lid == 0u) {
    let norm = sqrt(norm_sq);
    var scale = 1.0;
    if (args.clip_grad != 0u) {
      let coef = args.max_grad_norm / (norm + GRAD_CLIP_EPS);
      scale = select(1.0, coef, coef < 1.0);
    }
    let ok = is_finite_f32(norm_sq) && is_finite_f32(stats[STAT_PG_SUM]) && is_finite_f32(stats[STAT_V_SUM])
      && is_finite_f32(stats[STAT_KL_SUM]);
    stats[STAT_NORM_SQ] = norm_sq;
    stats[STAT_GRAD_SCALE] = scale;
    stats[STAT_OK] = select(0.0, 1.0, ok);
  }
}
