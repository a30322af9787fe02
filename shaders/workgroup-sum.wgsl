// Sum over one workgroup by a tree in a fixed order, so the result does not depend on scheduling. A library: no
// entry point; prepended to the reduction kernels, each of which declares the override WORKGROUP_SIZE, a power
// of two.

var<workgroup> wg_sum: array<f32, WORKGROUP_SIZE>;

// Σ of s over the invocations lid = 0 … WORKGROUP_SIZE - 1, returned to every one: pairs (lid, lid + h)
// added for h = WORKGROUP_SIZE / 2, …, 1. Call it from uniform control flow; it ends on a barrier, so it can
// be called again at once.
fn workgroup_sum(lid: u32, s: f32) -> f32 {
  wg_sum[lid] = s;
  workgroupBarrier();
  for (var h = WORKGROUP_SIZE / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      wg_sum[lid] += wg_sum[lid + h];
    }
    workgroupBarrier();
  }
  let total = wg_sum[0];
  workgroupBarrier();
  return total;
}
