// 4 × 4 tiles of the dense-layer kernels: each invocation computes a tile of 4 rows (or outputs) × 4 outputs (or
// inputs). A library: no entry point; prepended to mlp-layer.wgsl and its backward kernels.

const TILE: u32 = 4u;

// Tiles covering count items, ⌈count / TILE⌉.
fn tile_count(count: u32) -> u32 {
  return (count + TILE - 1u) / TILE;
}

// Indices first, first + 1, first + 2, first + 3 of one tile edge, each clamped to last: items past the end read
// the last valid one (and the kernel does not write them).
fn tile_clamp(first: u32, last: u32) -> vec4u {
  return min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), vec4u(last));
}
