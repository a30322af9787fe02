/**
 * Scripted controllers over a batch, for benchmarks, tests and the CLI's `--policy scripted`.
 *
 * ScriptedPush is the peer benchmark's scripted push (shared/peers/controller.mjs) driven through cairn's API: hover
 * 6 cm behind the cube at z = 0.50 for 10 steps, descend to z = Z_PUSH for 8, then drive the grip to
 * goal − 4.5 cm along the push direction fixed at the episode's start; a = clip(10 (target − grip), −1, 1).
 */

/** Writes the unit horizontal direction from (fx, fy) to (tx, ty) into dir[2i..2i+2]; +x when they lie within minLen, m. */
function setDirection(dir: Float64Array, i: number, fx: number, fy: number, tx: number, ty: number, minLen: number): void {
  let dx = tx - fx, dy = ty - fy;
  const n = Math.hypot(dx, dy);
  if (n > minLen) { dx /= n; dy /= n; } else { dx = 1; dy = 0; }
  dir[2 * i] = dx; dir[2 * i + 1] = dy;
}

/** Grip-site height while pushing, metres (fingertips 1 cm above the table). */
export const Z_PUSH = 0.41;

/** Scripted push over a batch of Push envs; reads obs [N, 25] and desired goals [N, 3]. */
export class ScriptedPush {
  /** [N, 2] unit push direction of each env's episode. */
  private readonly dir: Float64Array;
  constructor(readonly numEnvs: number) {
    this.dir = new Float64Array(numEnvs * 2);
  }

  /** Writes actions [N, 4] for obs [N, 25] at each env's episode step k [N]. */
  act(obs: Float32Array, desiredGoal: Float32Array, episodeStep: Int32Array, out: Float32Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      const o = i * 25, k = episodeStep[i];
      const gx = obs[o], gy = obs[o + 1], gz = obs[o + 2], bx = obs[o + 3], by = obs[o + 4];
      const goalX = desiredGoal[3 * i], goalY = desiredGoal[3 * i + 1];
      if (k === 0) setDirection(this.dir, i, bx, by, goalX, goalY, 0.02);
      const dx = this.dir[2 * i], dy = this.dir[2 * i + 1];
      let tx: number, ty: number, tz: number;
      if (k < 10) { tx = bx - 0.06 * dx; ty = by - 0.06 * dy; tz = 0.5; }
      else if (k < 18) { tx = bx - 0.06 * dx; ty = by - 0.06 * dy; tz = Z_PUSH; }
      else { tx = goalX - 0.045 * dx; ty = goalY - 0.045 * dy; tz = Z_PUSH; }
      drive(out, i, gx, gy, gz, tx, ty, tz, 0);
    }
  }
}

function clip1(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

/** Scripted reach: a = clip(10 (goal − grip), −1, 1); reads obs [N, 10] and desired goals [N, 3]. */
export class ScriptedReach {
  constructor(readonly numEnvs: number) {}

  /** Writes actions [N, 4]. */
  act(obs: Float32Array, desiredGoal: Float32Array, _episodeStep: Int32Array, out: Float32Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      const o = i * 10, d = 3 * i;
      drive(out, i, obs[o], obs[o + 1], obs[o + 2], desiredGoal[d], desiredGoal[d + 1], desiredGoal[d + 2], 0);
    }
  }
}

/** Grip-site height while grasping a resting 5 cm cube, metres: fingertips 0.5 cm above the table, cube centre 2 cm above the grip site. */
export const Z_GRASP = 0.405;
/** Cube centre above the grip site once grasped, metres. */
export const GRASP_OFFSET = 0.02;
/** Hover height above the table for moves, metres. */
export const Z_HOVER = 0.5;

/** Writes the xyz action toward (tx, ty, tz) from grip (gx, gy, gz) and the finger action at out[4i]. */
function drive(out: Float32Array, i: number, gx: number, gy: number, gz: number, tx: number, ty: number, tz: number, finger: number): void {
  out[4 * i] = clip1(10 * (tx - gx));
  out[4 * i + 1] = clip1(10 * (ty - gy));
  out[4 * i + 2] = clip1(10 * (tz - gz));
  out[4 * i + 3] = finger;
}

/**
 * Scripted pick-and-place (shared/peers/pick_controller.mjs through cairn's API): over the cube at z 0.50 with the
 * fingers opening (8 steps), down to Z_GRASP (6), close (4), then carry the cube centre to the goal; reads obs [N, 25].
 */
export class ScriptedPickAndPlace {
  constructor(readonly numEnvs: number) {}

  act(obs: Float32Array, desiredGoal: Float32Array, episodeStep: Int32Array, out: Float32Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      const o = i * 25, k = episodeStep[i];
      const gx = obs[o], gy = obs[o + 1], gz = obs[o + 2], bx = obs[o + 3], by = obs[o + 4];
      if (k < 8) drive(out, i, gx, gy, gz, bx, by, Z_HOVER, 1);
      else if (k < 14) drive(out, i, gx, gy, gz, bx, by, Z_GRASP, 1);
      else if (k < 18) drive(out, i, gx, gy, gz, bx, by, Z_GRASP, -1);
      else drive(out, i, gx, gy, gz, desiredGoal[3 * i], desiredGoal[3 * i + 1], desiredGoal[3 * i + 2] - GRASP_OFFSET, -1);
    }
  }
}

/**
 * Scripted stack over obs [N, 40] and goals [N, 6]: pick cube A, lift it straight up, carry it over its target,
 * lower it and let go, then the same for cube B onto A, then rise; each phase a fixed number of the 100 steps.
 */
export class ScriptedStack {
  constructor(readonly numEnvs: number) {}

  act(obs: Float32Array, desiredGoal: Float32Array, episodeStep: Int32Array, out: Float32Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      const o = i * 40, k = episodeStep[i], g = 6 * i;
      const gx = obs[o], gy = obs[o + 1], gz = obs[o + 2];
      // Phase 1 picks cube A (obs 10..13) onto goal A; phase 2 cube B (obs 25..28) onto goal B, 50 steps each.
      const second = k >= 50, t = second ? k - 50 : k;
      const cx = obs[o + (second ? 25 : 10)], cy = obs[o + (second ? 26 : 11)];
      const tx = desiredGoal[g + (second ? 3 : 0)], ty = desiredGoal[g + (second ? 4 : 1)], tz = desiredGoal[g + (second ? 5 : 2)];
      if (t < 8) drive(out, i, gx, gy, gz, cx, cy, Z_HOVER, 1);
      else if (t < 14) drive(out, i, gx, gy, gz, cx, cy, Z_GRASP, 1);
      else if (t < 18) drive(out, i, gx, gy, gz, cx, cy, Z_GRASP, -1);
      else if (t < 23) drive(out, i, gx, gy, gz, cx, cy, Z_HOVER + 0.02, -1); // straight up: carried across, a cube would sweep the other off
      else if (t < 30) drive(out, i, gx, gy, gz, tx, ty, Math.max(Z_HOVER + 0.02, tz + 0.08), -1);
      else if (t < 38) drive(out, i, gx, gy, gz, tx, ty, tz - GRASP_OFFSET + 0.003, -1);
      else if (t < 42) drive(out, i, gx, gy, gz, tx, ty, tz - GRASP_OFFSET + 0.003, 1);
      else drive(out, i, gx, gy, gz, tx, ty, Z_HOVER + 0.05, 1);
    }
  }
}

/**
 * Scripted slide over obs [N, 25]: hover 6 cm behind the puck as seen from the goal (8 steps), descend to Z_PUSH
 * (6), then push the puck toward the goal while it is slower than the speed from which it would slide exactly the
 * remaining distance on friction μ = 0.1, v = √(2 μ g d), and let it go once it is as fast, steering the grip site
 * onto the line through the puck to the goal. The gripper reaches x ≤ 1.7 m, so the farthest goals need the puck
 * released at about 0.8 m/s, near the fastest strike (STRIKE_GAIN).
 */
export class ScriptedSlide {
  private readonly dir: Float64Array;
  constructor(readonly numEnvs: number) {
    this.dir = new Float64Array(numEnvs * 2);
  }

  act(obs: Float32Array, desiredGoal: Float32Array, episodeStep: Int32Array, out: Float32Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      const o = i * 25, k = episodeStep[i];
      const gx = obs[o], gy = obs[o + 1], gz = obs[o + 2], bx = obs[o + 3], by = obs[o + 4];
      const tx = desiredGoal[3 * i], ty = desiredGoal[3 * i + 1];
      if (k === 0) setDirection(this.dir, i, bx, by, tx, ty, 1e-6);
      const dx = this.dir[2 * i], dy = this.dir[2 * i + 1];
      if (k < 8) { drive(out, i, gx, gy, gz, bx - 0.06 * dx, by - 0.06 * dy, Z_HOVER, 0); continue; }
      if (k < 14) { drive(out, i, gx, gy, gz, bx - 0.06 * dx, by - 0.06 * dy, Z_PUSH, 0); continue; }
      // Remaining distance of the puck along the push direction, and the speed that slides it there.
      const rem = Math.max(0, (tx - bx) * dx + (ty - by) * dy);
      const need = Math.sqrt(2 * SLIDE_MU * 9.81 * rem);
      // The puck's speed along the push (obs: velocity relative to the grip plus the grip's, × control dt).
      const puck = ((obs[o + 14] + obs[o + 20]) * dx + (obs[o + 15] + obs[o + 21]) * dy) / CONTROL_DT;
      // Push while the puck is slower than it needs to be; once it is fast enough, let it go.
      const a = puck >= need ? 0 : Math.min(need / STRIKE_GAIN, 1 / Math.max(Math.abs(dx), Math.abs(dy)));
      // Steer onto the line behind the puck: the grip's offset across the push direction, corrected in one step.
      const across = (gx - bx) * -dy + (gy - by) * dx;
      out[4 * i] = clip1(a * dx + 10 * across * dy);
      out[4 * i + 1] = clip1(a * dy - 10 * across * dx);
      out[4 * i + 2] = clip1(10 * (Z_PUSH - gz));
      out[4 * i + 3] = 0;
    }
  }
}

/** Control period the obs velocities are scaled by, s (25 Hz). */
const CONTROL_DT = 0.04;
/** Slide's puck–table friction the scripted strike plans with. */
const SLIDE_MU = 0.1;
/**
 * Puck speed per unit action when the gripper strikes it from rest 6 cm behind, m/s: measured ~1 m/s at a ≈ 1
 * (the follower covers ~65% of the 5 cm lead a step, and the struck puck leaves a little faster than the
 * gripper); scripted success over 128 episodes was 32% at 1.0 and at 1.2, 7-12% with the steady-state 0.8.
 */
const STRIKE_GAIN = 1.0;

/** A scripted controller of a batch: writes actions [N, 4] from the returned views. */
export interface ScriptedController {
  act(obs: Float32Array, desiredGoal: Float32Array, episodeStep: Int32Array, out: Float32Array): void;
}

/** The scripted controller for a task name. */
export function scriptedController(taskName: string, numEnvs: number): ScriptedController {
  if (taskName === 'Push') return new ScriptedPush(numEnvs);
  if (taskName === 'Reach') return new ScriptedReach(numEnvs);
  if (taskName === 'PickAndPlace') return new ScriptedPickAndPlace(numEnvs);
  if (taskName === 'Slide') return new ScriptedSlide(numEnvs);
  if (taskName === 'Stack') return new ScriptedStack(numEnvs);
  throw new Error(`no scripted controller for task '${taskName}'`);
}
