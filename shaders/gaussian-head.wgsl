// Gaussian action head for a batch: action = mean + exp(logStd) z, z from Philox at counter
// (env_offset + i, step, j >> 2, 0) (philox.wgsl), or the mean when deterministic; and the
// log-probability of that action, Σ_j [-0.5 z'_j² - logStd_j - 0.5 ln 2π], z' = (action - mean) exp(-logStd)
// recomputed from the stored f32 action, as a later log-probability pass will. logStd [ACT_DIM] sits at
// LOG_STD_OFFSET in the flat parameter buffer. One invocation per row (env).

override ACT_DIM: u32;
override LOG_STD_OFFSET: u32;
override WORKGROUP_SIZE: u32 = 64;

const HALF_LOG_2PI: f32 = 0.9189385332046727;

@group(0) @binding(0) var<uniform> args: ActArgs;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> action: array<f32>;
@group(0) @binding(4) var<storage, read_write> log_prob: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(ids: GridIds) {
  let i = grid_index(ids);
  if (i >= args.n) { return; }
  let sample = args.deterministic == 0u;
  var z4 = vec4f(0.0);
  var lp = 0.0;
  for (var j = 0u; j < ACT_DIM; j++) {
    if (sample && (j & 3u) == 0u) {
      z4 = philox_gaussians(vec4u(args.env_offset + i, args.step, j >> 2u, 0u), args.seed);
    }
    let log_std = params[LOG_STD_OFFSET + j];
    let m = mean[i * ACT_DIM + j];
    let a = m + exp(log_std) * z4[j & 3u];
    let zr = (a - m) * exp(-log_std);
    action[i * ACT_DIM + j] = a;
    lp += -0.5 * zr * zr - log_std - HALF_LOG_2PI;
  }
  log_prob[i] = lp;
}
