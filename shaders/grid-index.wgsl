// Invocation numbering over a 2-D grid of 1-D workgroups, which holds dispatches past the 65535 workgroups one
// dimension allows. A library: no entry point; prepended to the kernels that take one invocation per row,
// tile or element, each of which declares the override WORKGROUP_SIZE.

// The builtins a kernel's main takes to number its invocations: fn main(ids: GridIds).
struct GridIds {
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
}

// Index of this invocation over the grid, workgroups numbered x fastest: the kernel returns when it is at or past
// its count of rows, tiles or elements.
fn grid_index(ids: GridIds) -> u32 {
  return (ids.wid.y * ids.groups.x + ids.wid.x) * WORKGROUP_SIZE + ids.lid;
}
