// Subgoal stage latch and reward shaping over a slice [lo, hi) of the batch, in place, four envs per f32x4.
//
// Every entry takes `table`, the byte address of the shaping table (assembly/lib/shaping-layout.ts) that the
// glue (engine/shaping/kernel.ts) wrote into the batch memory's reserved scratch, and a `slot`: the index of
// the calling thread's scratch, so threads working on disjoint slices never write the same bytes. Each lane is
// one env and its result depends on that env's data only (a tail group of fewer than four envs computes its
// spare lanes on a copy of its last env and stores nothing for them), so [0, N) gives the same bytes as
// [0, k) then [k, N). No static data, no allocation.
//
// Math, exactly as engine/shaping/reference.ts does it (f32 unless noted, so the two agree bit for bit):
//   latch:  k ← stage[i]; while k < K and every leaf of stage k holds on s': k ← k + 1
//   g(x)  = 1 − tanh(x) = 2 / (1 + e^{2x}), x = d_k / σ_k clamped to [0, 40], e^y by Cody-Waite reduction
//           and Cephes' degree-5 expf polynomial
//   Φ(s') = w · (j + g(d_j / σ_j)), j = min(k, K − 1): the last stage is the task's goal, and its progress term
//           stays live once it holds, so Φ falls again if the goal is lost; 0 when the transition terminated
//   P(s') = j + g(d_j / σ_j), the subgoal progress (Φ = w · P): bestProgress keeps the episode's highest P
//   terms:  [0] sparse = reward, [1] dense = −w · d_{K−1}, [2] pbrs F = γ Φ(s') − Φ(s) (in f64, then f32),
//           [3] bonus = b · (stages completed by this transition), [4] gated = −w · d_j,
//           [5] progress = w · max(P(s') − bestProgress, 0) (CaRL: only new progress pays), then
//           bestProgress = max(bestProgress, P(s')); [6..11] 0 (the slice writes the penalty terms there)
//   shapedReward = reward + terms[mode] (+ 0 in mode sparse)
//   accumulators of the running episode: episodeReturn += reward, episodeShapedReturn += shapedReward,
//           episodeTermSums += terms, maxStage = max(maxStage, k); the slice copies them to the batch's
//           finalEpisode* fields at done, and the env's finished-episode statistics come from those
//           (engine/env.ts)
import {
  D_AWAY, D_FROM, D_KIND, D_OFFSET, D_SHIFT, D_XY, DERIVED_BYTES, DERIVED_OFFSET, DERIVED_SHIFT, H_BONUS, H_GAMMA, H_MAGIC, H_MODE,
  H_NUM_BASE, H_NUM_DERIVED, H_NUM_STAGES, H_VERSION, H_WEIGHT, L_A, L_B, L_KIND, L_VALUE, L_XY, LEAF_BYTES, LEAF_DISTANCE, LEAF_GRIPPER_CLOSED, LEAF_GRIPPER_OPEN,
  LEAF_HEIGHT, MAGIC, MAX_SLOTS, MODE_BONUS, MODE_DENSE, MODE_GATED, MODE_PBRS, MODE_PROGRESS, PTR_BEST_PROGRESS, PTR_DONE, PTR_EP_RETURN, PTR_EP_SHAPED, PTR_EP_TERMS,
  PTR_GRIPPER, PTR_MAX_STAGE, PTR_POINTS, PTR_POTENTIAL, PTR_REWARD, PTR_SHAPED, PTR_STAGE, PTR_TERMINATED, PTR_TERMS, SL_POINTS,
  SL_TMP, SLOT_BYTES, SLOTS_OFFSET,
  ST_LEAVES, ST_NUM_LEAVES, ST_PROG_A, ST_PROG_B, ST_PROG_XY, ST_SIGMA, STAGE_BYTES, STAGES_OFFSET, TABLE_BYTES, TERMS_STRIDE, VERSION,
} from './lib/shaping-layout';

// Layout constants the glue checks against its own copy.
export const SHAPING_LAYOUT_VERSION: i32 = VERSION;
export const SHAPING_LAYOUT_TABLE_BYTES: i32 = TABLE_BYTES;
export const SHAPING_LAYOUT_SLOT_BYTES: i32 = SLOT_BYTES;
export const SHAPING_LAYOUT_MAX_SLOTS: i32 = MAX_SLOTS;

// e^y constants (Cephes expf): ln 2 = C1 + C2 split so that n · C1 is exact.
const LOG2E: f32 = 1.44269504088896341;
const C1: f32 = 0.693359375;
const C2: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
/** g(x) is evaluated for x <= X_MAX; g(40) = 3.6e-35, and e^80 stays finite in f32. */
const X_MAX: f32 = 40.0;
/** A derived point falls back to `from` when ‖from − awayFrom‖ <= this, metres. */
const MIN_LEN: f32 = 1e-9;

/** Bytes of one scratch point: x, y, z of four envs. */
const POINT_BYTES: i32 = 48;

@inline function ptr(table: usize, h: i32): usize {
  return <usize>load<u32>(table + <usize>h);
}

@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/** g(x) = 1 − tanh(x) = 2 / (1 + e^{2x}) per lane, x >= 0. */
@inline function oneMinusTanh(x0: v128): v128 {
  const x = f32x4.min(x0, splat(X_MAX));
  const y = f32x4.add(x, x);
  const n = f32x4.floor(f32x4.add(f32x4.mul(y, splat(LOG2E)), splat(0.5)));
  let r = f32x4.sub(y, f32x4.mul(n, splat(C1)));
  r = f32x4.sub(r, f32x4.mul(n, splat(C2)));
  const z = f32x4.mul(r, r);
  let p = f32x4.add(f32x4.mul(splat(P0), r), splat(P1));
  p = f32x4.add(f32x4.mul(p, r), splat(P2));
  p = f32x4.add(f32x4.mul(p, r), splat(P3));
  p = f32x4.add(f32x4.mul(p, r), splat(P4));
  p = f32x4.add(f32x4.mul(p, r), splat(P5));
  p = f32x4.add(f32x4.add(f32x4.mul(p, z), r), splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23); // 2^n as f32 bits
  return f32x4.div(splat(2.0), f32x4.add(splat(1.0), f32x4.mul(p, scale)));
}

/** ‖a − b‖ per lane for scratch points a and b (horizontal when xy != 0). */
@inline function dist(pts: usize, a: i32, b: i32, xy: i32): v128 {
  const pa = pts + <usize>(a * POINT_BYTES);
  const pb = pts + <usize>(b * POINT_BYTES);
  const dx = f32x4.sub(v128.load(pa), v128.load(pb));
  const dy = f32x4.sub(v128.load(pa, 16), v128.load(pb, 16));
  let s = f32x4.add(f32x4.mul(dx, dx), f32x4.mul(dy, dy));
  if (xy == 0) {
    const dz = f32x4.sub(v128.load(pa, 32), v128.load(pb, 32));
    s = f32x4.add(s, f32x4.mul(dz, dz));
  }
  return f32x4.sqrt(s);
}

/**
 * Gathers the task points of envs e0..e3 into the slot's scratch (one v128 per point coordinate, lane = env)
 * and evaluates the derived points after them: DERIVED_SHIFT p = from + shift, DERIVED_AWAY
 * p = from + offset · (from − awayFrom) / ‖from − awayFrom‖ (p = from when ‖·‖ <= MIN_LEN).
 */
@inline function loadPoints(table: usize, pts: usize, e0: i32, e1: i32, e2: i32, e3: i32): void {
  const numBase = load<i32>(table + <usize>H_NUM_BASE);
  const numDerived = load<i32>(table + <usize>H_NUM_DERIVED);
  const src = ptr(table, PTR_POINTS);
  const stride = numBase * 12;
  const a0 = src + <usize>(e0 * stride), a1 = src + <usize>(e1 * stride);
  const a2 = src + <usize>(e2 * stride), a3 = src + <usize>(e3 * stride);
  const m = numBase * 3;
  for (let j = 0; j < m; j++) {
    const o = <usize>(j << 2);
    let v = f32x4.splat(load<f32>(a0 + o));
    v = f32x4.replace_lane(v, 1, load<f32>(a1 + o));
    v = f32x4.replace_lane(v, 2, load<f32>(a2 + o));
    v = f32x4.replace_lane(v, 3, load<f32>(a3 + o));
    v128.store(pts + <usize>(j << 4), v);
  }
  for (let d = 0; d < numDerived; d++) {
    const e = table + <usize>(DERIVED_OFFSET + d * DERIVED_BYTES);
    const pf = pts + <usize>(load<i32>(e + <usize>D_FROM) * POINT_BYTES);
    const out = pts + <usize>((numBase + d) * POINT_BYTES);
    const fx = v128.load(pf), fy = v128.load(pf, 16), fz = v128.load(pf, 32);
    if (load<i32>(e + <usize>D_KIND) == DERIVED_SHIFT) {
      v128.store(out, f32x4.add(fx, splat(load<f32>(e + <usize>D_SHIFT))));
      v128.store(out, f32x4.add(fy, splat(load<f32>(e + <usize>(D_SHIFT + 4)))), 16);
      v128.store(out, f32x4.add(fz, splat(load<f32>(e + <usize>(D_SHIFT + 8)))), 32);
      continue;
    }
    const pa = pts + <usize>(load<i32>(e + <usize>D_AWAY) * POINT_BYTES);
    const vx = f32x4.sub(fx, v128.load(pa));
    const vy = f32x4.sub(fy, v128.load(pa, 16));
    const vz = load<i32>(e + <usize>D_XY) != 0 ? f32x4.splat(0) : f32x4.sub(fz, v128.load(pa, 32));
    const len = f32x4.sqrt(f32x4.add(f32x4.add(f32x4.mul(vx, vx), f32x4.mul(vy, vy)), f32x4.mul(vz, vz)));
    const s = v128.bitselect(f32x4.div(splat(load<f32>(e + <usize>D_OFFSET)), len), f32x4.splat(0), f32x4.gt(len, splat(MIN_LEN)));
    v128.store(out, f32x4.add(fx, f32x4.mul(s, vx)));
    v128.store(out, f32x4.add(fy, f32x4.mul(s, vy)), 16);
    v128.store(out, f32x4.add(fz, f32x4.mul(s, vz)), 32);
  }
}

@inline function stageAt(table: usize, k: i32): usize {
  return table + <usize>(STAGES_OFFSET + k * STAGE_BYTES);
}

/** Lane mask of envs where every leaf of stage st holds (g: gripper openings). */
@inline function holds(st: usize, pts: usize, g: v128): v128 {
  const n = load<i32>(st + <usize>ST_NUM_LEAVES);
  let mask = i32x4.splat(-1);
  for (let l = 0; l < n; l++) {
    const lf = st + <usize>(ST_LEAVES + l * LEAF_BYTES);
    const kind = load<i32>(lf + <usize>L_KIND);
    const v = splat(load<f32>(lf + <usize>L_VALUE));
    let ok: v128;
    if (kind == LEAF_DISTANCE) ok = f32x4.lt(dist(pts, load<i32>(lf + <usize>L_A), load<i32>(lf + <usize>L_B), load<i32>(lf + <usize>L_XY)), v);
    else if (kind == LEAF_HEIGHT) ok = f32x4.gt(v128.load(pts + <usize>(load<i32>(lf + <usize>L_A) * POINT_BYTES), 32), v);
    else if (kind == LEAF_GRIPPER_CLOSED) ok = f32x4.lt(g, v);
    else if (kind == LEAF_GRIPPER_OPEN) ok = f32x4.gt(g, v);
    else ok = i32x4.splat(0);
    mask = v128.and(mask, ok);
  }
  return mask;
}

/** Advances each lane's stage k while its current stage holds, in order; returns the new stages. */
@inline function latch(table: usize, k0: v128, numStages: i32, pts: usize, g: v128): v128 {
  let k = k0;
  for (let s = 0; s < numStages; s++) {
    const at = i32x4.eq(k, i32x4.splat(s));
    if (!v128.any_true(at)) continue;
    k = i32x4.sub(k, v128.and(at, holds(stageAt(table, s), pts, g))); // a true lane is −1
  }
  return k;
}

/**
 * Φ per lane at stages k, evaluated at stage min(k, K − 1): the last stage is the task's goal, so its progress
 * term stays live after it completes. With dOut != 0, also stores there the progress distance d_min(k, K−1) and
 * 16 bytes after it d_{K−1}.
 */
@inline function potential(table: usize, k: v128, numStages: i32, pts: usize, w: f32, dOut: usize): v128 {
  const kk = i32x4.min_s(k, i32x4.splat(numStages - 1));
  let dk = f32x4.splat(0);
  let xk = f32x4.splat(0);
  for (let s = 0; s < numStages; s++) {
    const at = i32x4.eq(kk, i32x4.splat(s));
    const isLast = s == numStages - 1;
    if (!v128.any_true(at) && !(isLast && dOut != 0)) continue;
    const st = stageAt(table, s);
    const d = dist(pts, load<i32>(st + <usize>ST_PROG_A), load<i32>(st + <usize>ST_PROG_B), load<i32>(st + <usize>ST_PROG_XY));
    if (isLast && dOut != 0) v128.store(dOut, d, 16);
    dk = v128.bitselect(d, dk, at);
    xk = v128.bitselect(f32x4.div(d, splat(load<f32>(st + <usize>ST_SIGMA))), xk, at);
  }
  if (dOut != 0) v128.store(dOut, dk);
  return f32x4.mul(splat(w), f32x4.add(f32x4.convert_i32x4_s(kk), oneMinusTanh(xk)));
}

/** Stores the first `count` lanes of v at p (all four at once when count = 4), via the slot's staging area. */
@inline function storeLanes(p: usize, v: v128, count: i32, tmp: usize): void {
  if (count == 4) {
    v128.store(p, v);
  } else {
    v128.store(tmp, v);
    for (let l = 0; l < count; l++) store<u32>(p + <usize>(l << 2), load<u32>(tmp + <usize>(l << 2)));
  }
}

/**
 * Elements i .. i+3 of a 32-bit field at p as lanes; in a tail group (count < 4) the spare lanes repeat element
 * i + count − 1, so nothing past the slice is read.
 */
@inline function load4(p: usize, i: i32, count: i32): v128 {
  const a = p + <usize>(i << 2);
  if (count == 4) return v128.load(a);
  const l1 = <usize>(min(1, count - 1) << 2), l2 = <usize>(min(2, count - 1) << 2);
  let v = i32x4.splat(load<i32>(a));
  v = i32x4.replace_lane(v, 1, load<i32>(a + l1));
  v = i32x4.replace_lane(v, 2, load<i32>(a + l2));
  return i32x4.replace_lane(v, 3, load<i32>(a + <usize>((count - 1) << 2)));
}

/** Elements i .. i+3 of a u8 field at p widened to i32 lanes, as load4 does for the tail. */
@inline function loadBytes4(p: usize, i: i32, count: i32): v128 {
  const a = p + <usize>i;
  if (count == 4) return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(a)));
  let v = i32x4.splat(<i32>load<u8>(a));
  v = i32x4.replace_lane(v, 1, <i32>load<u8>(a + <usize>min(1, count - 1)));
  v = i32x4.replace_lane(v, 2, <i32>load<u8>(a + <usize>min(2, count - 1)));
  return i32x4.replace_lane(v, 3, <i32>load<u8>(a + <usize>(count - 1)));
}

@inline function checkTable(table: usize): void {
  if (load<i32>(table + <usize>H_MAGIC) != MAGIC || load<i32>(table + <usize>H_VERSION) != VERSION) unreachable();
}

/**
 * One transition for envs [lo, hi): latch update on s', Φ(s'), F, the six terms, shapedReward, bestProgress and the running
 * episode's accumulators.
 */
export function step(table: usize, lo: i32, hi: i32, slot: i32): void {
  checkTable(table);
  const numStages = load<i32>(table + <usize>H_NUM_STAGES);
  const mode = load<i32>(table + <usize>H_MODE);
  const gamma = f64x2.splat(load<f64>(table + <usize>H_GAMMA));
  const w = <f32>load<f64>(table + <usize>H_WEIGHT);
  const b64 = load<f64>(table + <usize>H_BONUS);
  const bonus = isNaN(b64) ? w : <f32>b64; // NaN: the bonus follows the weight
  const pReward = ptr(table, PTR_REWARD), pShaped = ptr(table, PTR_SHAPED), pPot = ptr(table, PTR_POTENTIAL);
  const pTerms = ptr(table, PTR_TERMS), pGrip = ptr(table, PTR_GRIPPER), pEpRet = ptr(table, PTR_EP_RETURN);
  const pEpShaped = ptr(table, PTR_EP_SHAPED), pEpTerms = ptr(table, PTR_EP_TERMS), pStage = ptr(table, PTR_STAGE);
  const pMaxStage = ptr(table, PTR_MAX_STAGE), pTerm = ptr(table, PTR_TERMINATED), pBest = ptr(table, PTR_BEST_PROGRESS);
  const sl = table + <usize>(SLOTS_OFFSET + slot * SLOT_BYTES);
  const pts = sl + <usize>SL_POINTS, tmp = sl + <usize>SL_TMP;
  const zero = f32x4.splat(0);
  for (let i = lo; i < hi; i += 4) {
    const count = min(4, hi - i);
    const last = i + count - 1;
    const i4 = <usize>(i << 2);
    loadPoints(table, pts, i, min(i + 1, last), min(i + 2, last), last);
    const k0 = load4(pStage, i, count);
    const k = latch(table, k0, numStages, pts, load4(pGrip, i, count));
    const terminated = i32x4.ne(loadBytes4(pTerm, i, count), i32x4.splat(0));
    const prog = potential(table, k, numStages, pts, 1.0, tmp);
    const phi = v128.bitselect(zero, f32x4.mul(splat(w), prog), terminated);
    const best = load4(pBest, i, count);
    const gain = f32x4.mul(splat(w), f32x4.max(f32x4.sub(prog, best), zero));
    const dk = v128.load(tmp);
    const dLast = v128.load(tmp, 16);
    // F = γΦ(s') − Φ(s) in f64, two lanes at a time.
    const old = load4(pPot, i, count);
    const fLo = f64x2.sub(f64x2.mul(gamma, f64x2.promote_low_f32x4(phi)), f64x2.promote_low_f32x4(old));
    const fHi = f64x2.sub(f64x2.mul(gamma, f64x2.promote_low_f32x4(f32x4.shuffle(phi, phi, 2, 3, 2, 3))), f64x2.promote_low_f32x4(f32x4.shuffle(old, old, 2, 3, 2, 3)));
    const f = f32x4.shuffle(f32x4.demote_f64x2_zero(fLo), f32x4.demote_f64x2_zero(fHi), 0, 1, 4, 5);
    const r = load4(pReward, i, count);
    const dense = f32x4.mul(splat(-w), dLast);
    const gated = f32x4.mul(splat(-w), dk);
    const bon = f32x4.mul(splat(bonus), f32x4.convert_i32x4_s(i32x4.sub(k, k0)));
    let t = zero;
    if (mode == MODE_DENSE) t = dense;
    else if (mode == MODE_PBRS) t = f;
    else if (mode == MODE_BONUS) t = bon;
    else if (mode == MODE_GATED) t = gated;
    else if (mode == MODE_PROGRESS) t = gain;
    const shaped = f32x4.add(r, t);
    storeLanes(pShaped + i4, shaped, count, tmp);
    storeLanes(pPot + i4, phi, count, tmp);
    storeLanes(pBest + i4, f32x4.max(best, prog), count, tmp);
    storeLanes(pStage + i4, k, count, tmp);
    storeLanes(pMaxStage + i4, i32x4.max_s(load4(pMaxStage, i, count), k), count, tmp);
    storeLanes(pEpRet + i4, f32x4.add(load4(pEpRet, i, count), r), count, tmp);
    storeLanes(pEpShaped + i4, f32x4.add(load4(pEpShaped, i, count), shaped), count, tmp);
    // Terms rows [sparse, dense, pbrs, bonus] [gated, progress, 0, 0] [0, 0, 0, 0] per env: 4 x 4 transposes, then the sums.
    const t0 = f32x4.shuffle(r, dense, 0, 4, 1, 5), t1 = f32x4.shuffle(f, bon, 0, 4, 1, 5);
    const t2 = f32x4.shuffle(r, dense, 2, 6, 3, 7), t3 = f32x4.shuffle(f, bon, 2, 6, 3, 7);
    const tp = pTerms + <usize>(i * TERMS_STRIDE * 4);
    const ep = pEpTerms + <usize>(i * TERMS_STRIDE * 4);
    for (let l = 0; l < count; l++) {
      let row: v128, rowG: v128;
      if (l == 0) { row = f32x4.shuffle(t0, t1, 0, 1, 4, 5); rowG = f32x4.shuffle(gated, gain, 0, 4, 4, 4); }
      else if (l == 1) { row = f32x4.shuffle(t0, t1, 2, 3, 6, 7); rowG = f32x4.shuffle(gated, gain, 1, 5, 5, 5); }
      else if (l == 2) { row = f32x4.shuffle(t2, t3, 0, 1, 4, 5); rowG = f32x4.shuffle(gated, gain, 2, 6, 6, 6); }
      else { row = f32x4.shuffle(t2, t3, 2, 3, 6, 7); rowG = f32x4.shuffle(gated, gain, 3, 7, 7, 7); }
      rowG = v128.and(rowG, i32x4(-1, -1, 0, 0));
      const o = <usize>(l * TERMS_STRIDE * 4);
      v128.store(tp + o, row);
      v128.store(tp + o, rowG, 16);
      v128.store(tp + o, zero, 32);
      v128.store(ep + o, f32x4.add(v128.load(ep + o), row));
      v128.store(ep + o, f32x4.add(v128.load(ep + o, 16), rowG), 16);
    }
  }
}

/**
 * Starts the episode of envs [lo, hi) (only those with done = 1 when onlyDone != 0): latch from stage 0 on the
 * current state, Φ and P of it (bestProgress = P), maxStage = stage, episode accumulators zeroed. With onlyDone = 0 (env.reset()) there
 * is no transition, so shapedReward and rewardTerms are zeroed as well; with onlyDone = 1 they keep the
 * transition that ended the episode.
 */
export function reset(table: usize, lo: i32, hi: i32, onlyDone: i32, slot: i32): void {
  checkTable(table);
  const numStages = load<i32>(table + <usize>H_NUM_STAGES);
  const w = <f32>load<f64>(table + <usize>H_WEIGHT);
  const pShaped = ptr(table, PTR_SHAPED), pPot = ptr(table, PTR_POTENTIAL), pTerms = ptr(table, PTR_TERMS);
  const pGrip = ptr(table, PTR_GRIPPER), pEpRet = ptr(table, PTR_EP_RETURN), pEpShaped = ptr(table, PTR_EP_SHAPED);
  const pEpTerms = ptr(table, PTR_EP_TERMS), pStage = ptr(table, PTR_STAGE), pMaxStage = ptr(table, PTR_MAX_STAGE);
  const pDone = ptr(table, PTR_DONE), pBest = ptr(table, PTR_BEST_PROGRESS);
  const sl = table + <usize>(SLOTS_OFFSET + slot * SLOT_BYTES);
  const pts = sl + <usize>SL_POINTS, tmp = sl + <usize>SL_TMP;
  const zero = f32x4.splat(0);
  for (let i = lo; i < hi; i += 4) {
    const count = min(4, hi - i);
    const last = i + count - 1;
    let lanes = (1 << count) - 1;
    if (onlyDone != 0) {
      lanes &= i32x4.bitmask(i32x4.ne(loadBytes4(pDone, i, count), i32x4.splat(0)));
      if (lanes == 0) continue;
    }
    loadPoints(table, pts, i, min(i + 1, last), min(i + 2, last), last);
    const i4 = <usize>(i << 2);
    const k = latch(table, i32x4.splat(0), numStages, pts, load4(pGrip, i, count));
    const prog = potential(table, k, numStages, pts, 1.0, 0);
    const phi = f32x4.mul(splat(w), prog);
    if (lanes == 15) {
      v128.store(pPot + i4, phi);
      v128.store(pBest + i4, prog);
      v128.store(pStage + i4, k);
      v128.store(pMaxStage + i4, k);
      v128.store(pEpRet + i4, zero);
      v128.store(pEpShaped + i4, zero);
    } else {
      v128.store(tmp, phi);
      for (let l = 0; l < 4; l++) if ((lanes >> l) & 1) store<f32>(pPot + i4 + <usize>(l << 2), load<f32>(tmp + <usize>(l << 2)));
      v128.store(tmp, prog);
      for (let l = 0; l < 4; l++) if ((lanes >> l) & 1) store<f32>(pBest + i4 + <usize>(l << 2), load<f32>(tmp + <usize>(l << 2)));
      v128.store(tmp, k);
      for (let l = 0; l < 4; l++) {
        if (!((lanes >> l) & 1)) continue;
        const o = i4 + <usize>(l << 2);
        store<i32>(pStage + o, load<i32>(tmp + <usize>(l << 2)));
        store<i32>(pMaxStage + o, load<i32>(tmp + <usize>(l << 2)));
        store<f32>(pEpRet + o, 0);
        store<f32>(pEpShaped + o, 0);
      }
    }
    for (let l = 0; l < 4; l++) {
      if (!((lanes >> l) & 1)) continue;
      const o = <usize>((i + l) * TERMS_STRIDE * 4);
      v128.store(pEpTerms + o, zero);
      v128.store(pEpTerms + o, zero, 16);
      v128.store(pEpTerms + o, zero, 32);
      if (onlyDone == 0) {
        v128.store(pTerms + o, zero);
        v128.store(pTerms + o, zero, 16);
        v128.store(pTerms + o, zero, 32);
        store<f32>(pShaped + <usize>((i + l) << 2), 0);
      }
    }
  }
}

/** Recomputes Φ of the current state of envs [lo, hi) at their latched stage (after the weight changed). */
export function refreshPotential(table: usize, lo: i32, hi: i32, slot: i32): void {
  checkTable(table);
  const numStages = load<i32>(table + <usize>H_NUM_STAGES);
  const w = <f32>load<f64>(table + <usize>H_WEIGHT);
  const pPot = ptr(table, PTR_POTENTIAL), pStage = ptr(table, PTR_STAGE);
  const sl = table + <usize>(SLOTS_OFFSET + slot * SLOT_BYTES);
  const pts = sl + <usize>SL_POINTS, tmp = sl + <usize>SL_TMP;
  for (let i = lo; i < hi; i += 4) {
    const count = min(4, hi - i);
    const last = i + count - 1;
    const i4 = <usize>(i << 2);
    loadPoints(table, pts, i, min(i + 1, last), min(i + 2, last), last);
    storeLanes(pPot + i4, potential(table, load4(pStage, i, count), numStages, pts, w, 0), count, tmp);
  }
}
