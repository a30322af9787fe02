/**
 * Scripted controllers over a batch, for benchmarks, tests and the CLI's `--policy scripted`.
 *
 * ScriptedPush is the peer benchmark's scripted push (shared/peers/controller.mjs) driven through cairn's API: hover
 * 6 cm behind the cube at z = 0.50 for 10 steps, descend to z = Z_PUSH for 8, then drive the grip to
 * goal − 4.5 cm along the push direction fixed at the episode's start; a = clip(10 (target − grip), −1, 1).
 */

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
      if (k === 0) {
        let dx = goalX - bx, dy = goalY - by;
        const n = Math.hypot(dx, dy);
        if (n > 0.02) { dx /= n; dy /= n; } else { dx = 1; dy = 0; }
        this.dir[2 * i] = dx; this.dir[2 * i + 1] = dy;
      }
      const dx = this.dir[2 * i], dy = this.dir[2 * i + 1];
      let tx: number, ty: number, tz: number;
      if (k < 10) { tx = bx - 0.06 * dx; ty = by - 0.06 * dy; tz = 0.5; }
      else if (k < 18) { tx = bx - 0.06 * dx; ty = by - 0.06 * dy; tz = Z_PUSH; }
      else { tx = goalX - 0.045 * dx; ty = goalY - 0.045 * dy; tz = Z_PUSH; }
      out[4 * i] = clip1(10 * (tx - gx));
      out[4 * i + 1] = clip1(10 * (ty - gy));
      out[4 * i + 2] = clip1(10 * (tz - gz));
      out[4 * i + 3] = 0;
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
      for (let k = 0; k < 3; k++) out[4 * i + k] = clip1(10 * (desiredGoal[3 * i + k] - obs[i * 10 + k]));
      out[4 * i + 3] = 0;
    }
  }
}

/** A scripted controller of a batch: writes actions [N, 4] from the returned views. */
export interface ScriptedController {
  act(obs: Float32Array, desiredGoal: Float32Array, episodeStep: Int32Array, out: Float32Array): void;
}

/** The scripted controller for a task name ('Reach' or 'Push'). */
export function scriptedController(taskName: string, numEnvs: number): ScriptedController {
  if (taskName === 'Push') return new ScriptedPush(numEnvs);
  if (taskName === 'Reach') return new ScriptedReach(numEnvs);
  throw new Error(`no scripted controller for task '${taskName}'`);
}
