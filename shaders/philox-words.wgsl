// Test kernel: raw Philox words and f32 Gaussians for a list of counters, to check philox.wgsl bit for bit
// against engine/nn/philox.ts and the Gaussians against float64 (test/nn/philox.test.ts).

override WORKGROUP_SIZE: u32 = 64;

struct PhiloxArgs {
  // Number of counters.
  n: u32,
  // Key word 0 (seed); key word 1 is 0.
  seed: u32,
}

@group(0) @binding(0) var<uniform> args: PhiloxArgs;
@group(0) @binding(1) var<storage, read> counters: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> words: array<vec4u>;
@group(0) @binding(3) var<storage, read_write> gaussians: array<vec4f>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= args.n) { return; }
  words[i] = philox4x32(counters[i], args.seed, 0u);
  gaussians[i] = philox_gaussians(counters[i], args.seed);
}
