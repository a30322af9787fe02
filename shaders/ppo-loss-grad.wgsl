// Per-row PPO loss terms and their gradients for a minibatch of args.n rows (engine/nn/ppo-reference.ts has
// the math): newLogProb = Σ_j [-0.5 (a - mean)² / σ_j² - logStd_j - 0.5 ln 2π], ratio r = exp(newLogProb -
// oldLogProb), pg = max(-Â r, -Â clip(r, 1 ± ε)), the (clipped) squared value error, and
//   d_mean [n, ACT_DIM] = dLoss/dmean = dlp (a - mean) / σ²,  d_value [n] = dLoss/dvalue,
// with dlp = dLoss/dnewLogProb following torch's max (a tie splits the gradient in half) and clamp (flat
// outside [lo, hi]). Â comes normalized from the CPU. Row terms for ppo-loss-reduce.wgsl go to
// terms[c * TERM_STRIDE + b]: c = 0 pg, 1 value error, 2 r - 1 - ln r, 3 clipped (0 or 1), 4 + j the row's
// dLoss/dlogStd_j share dlp ((a - mean)² / σ_j² - 1). One invocation per row.

override ACT_DIM: u32;
override LOG_STD_OFFSET: u32;
override TERM_STRIDE: u32;
override WORKGROUP_SIZE: u32 = 64;

const HALF_LOG_2PI: f32 = 0.9189385332046727;

@group(0) @binding(0) var<uniform> args: TrainArgs;
@group(0) @binding(1) var<storage, read> params: array<f32>;
// [n, ACT_DIM] policy mean and [n] value from the forward pass.
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> value: array<f32>;
// [n, ACT_DIM] minibatch actions; [n] (oldLogProb, normalized advantage, return, oldValue) per row.
@group(0) @binding(4) var<storage, read> actions: array<f32>;
@group(0) @binding(5) var<storage, read> rows: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> d_mean: array<f32>;
@group(0) @binding(7) var<storage, read_write> d_value: array<f32>;
@group(0) @binding(8) var<storage, read_write> terms: array<f32>;

// Share of max(x, y)'s gradient that goes to x: 1, 0, or 0.5 on a tie (torch.maximum).
fn max_share(x: f32, y: f32) -> f32 {
  return select(select(0.5, 0.0, x < y), 1.0, x > y);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(ids: GridIds) {
  let b = grid_index(ids);
  if (b >= args.n) { return; }
  let row = rows[b];
  let eps = args.clip_coef;
  // HEAD: log-probability of the minibatch action and the ratio.
  var lp = 0.0;
  for (var j = 0u; j < ACT_DIM; j++) {
    let log_std = params[LOG_STD_OFFSET + j];
    let diff = actions[b * ACT_DIM + j] - mean[b * ACT_DIM + j];
    lp += -0.5 * diff * diff * exp(-2.0 * log_std) - log_std - HALF_LOG_2PI;
  }
  let log_ratio = lp - row.x;
  let r = exp(log_ratio);
  // POLICY LOSS: max(-Â r, -Â clip(r)); dl/dr through the larger branch, times dr/dlp = r.
  let adv = row.y;
  let rc = clamp(r, 1.0 - eps, 1.0 + eps);
  let pg1 = -adv * r;
  let pg2 = -adv * rc;
  let s1 = max_share(pg1, pg2);
  let d_clip = select(0.0, 1.0, r >= 1.0 - eps && r <= 1.0 + eps);
  let dlp = (s1 * -adv + (1.0 - s1) * -adv * d_clip) * args.inv_n * r;
  for (var j = 0u; j < ACT_DIM; j++) {
    let inv_var = exp(-2.0 * params[LOG_STD_OFFSET + j]);
    let diff = actions[b * ACT_DIM + j] - mean[b * ACT_DIM + j];
    d_mean[b * ACT_DIM + j] = dlp * diff * inv_var;
    terms[(4u + j) * TERM_STRIDE + b] = dlp * (diff * diff * inv_var - 1.0);
  }
  // VALUE LOSS: max((v - R)², (oldV + clip(v - oldV, ±ε) - R)²) or (v - R)².
  let v = value[b];
  let ret = row.z;
  var v_term: f32;
  var dv: f32;
  if (args.clip_vloss != 0u) {
    let old_v = row.w;
    let d_old = v - old_v;
    let vc = old_v + clamp(d_old, -eps, eps);
    let lu = (v - ret) * (v - ret);
    let lc = (vc - ret) * (vc - ret);
    v_term = max(lu, lc);
    let su = max_share(lu, lc);
    let dvc = select(0.0, 1.0, d_old >= -eps && d_old <= eps);
    dv = su * 2.0 * (v - ret) + (1.0 - su) * 2.0 * (vc - ret) * dvc;
  } else {
    v_term = (v - ret) * (v - ret);
    dv = 2.0 * (v - ret);
  }
  d_value[b] = args.vf_coef * 0.5 * dv * args.inv_n;
  terms[b] = max(pg1, pg2);
  terms[TERM_STRIDE + b] = v_term;
  terms[2u * TERM_STRIDE + b] = r - 1.0 - log_ratio;
  terms[3u * TERM_STRIDE + b] = select(0.0, 1.0, abs(r - 1.0) > eps);
}
