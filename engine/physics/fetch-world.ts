/**
 * One Rapier World holding many Fetch-style envs on a compact grid: per env a fixed table and floor,
 * a kinematic gripper (palm + two closed fingers) that follows its mocap target critically damped,
 * and optionally a dynamic 5 cm cube. Envs never touch: each env's colliders share one of 16
 * collision-group bits tiled 4 × 4 over the grid, so same-bit envs are 12 m apart.
 *
 * Handles to Rapier objects are owned here; `free()` MUST be called to release the World's WASM memory.
 */
import type { RigidBody, World } from '@dimforge/rapier3d-simd-compat';
import type { PhysicsConfig } from './config.ts';
import {
  ACTION_SCALE, CELL_SPACING, CUBE_HALF, CUBE_MASS, FINGER_CLOSED_Y, FINGER_HALF, FINGER_OFFSET_Z, FLOOR_HALF, FRICTION,
  PALM_HALF, PALM_OFFSET_Z, TABLE_CENTER, TABLE_HALF, TABLE_TOP_Z, WORKSPACE_MAX, WORKSPACE_MIN,
} from './fetch-scene.ts';
import type { Rapier } from './rapier.ts';

/** Per-env scene values read back after a control step, env-local frame. */
export interface ObjectReadback {
  /** [3] position, m. */ pos: Float64Array;
  /** [4] quaternion (x, y, z, w). */ quat: Float64Array;
  /** [3] linear velocity, m/s. */ linvel: Float64Array;
  /** [3] angular velocity, rad/s. */ angvel: Float64Array;
}

/** FetchWorlds constructed and not yet freed in this thread (a leak check for tests). */
let liveWorlds = 0;

/** Number of FetchWorlds alive in this thread: constructed and not yet freed. */
export function liveFetchWorlds(): number {
  return liveWorlds;
}

export class FetchWorld {
  readonly numEnvs: number;
  readonly hasObject: boolean;
  private readonly R: Rapier;
  private readonly world: World;
  private readonly cfg: PhysicsConfig;
  /** [n, 3] env origin in world coordinates, m. */
  readonly origin: Float64Array;
  /** [n, 3] grip-site position (env-local), m; the palm body's origin. */
  readonly gripPos: Float64Array;
  /** [n, 3] grip-site velocity, m/s. */
  readonly gripVel: Float64Array;
  /** [n, 3] mocap target of the current control step (env-local), m. */
  readonly target: Float64Array;
  private readonly palms: RigidBody[] = [];
  private readonly cubes: RigidBody[] = [];
  private readonly v = { x: 0, y: 0, z: 0 };
  private freed = false;

  constructor(R: Rapier, numEnvs: number, hasObject: boolean, cfg: PhysicsConfig) {
    this.R = R;
    this.numEnvs = numEnvs;
    this.hasObject = hasObject;
    this.cfg = cfg;
    this.world = new R.World({ x: 0, y: 0, z: -9.81 });
    liveWorlds++;
    this.world.timestep = cfg.dt;
    this.world.numSolverIterations = cfg.solverIterations;
    this.origin = new Float64Array(numEnvs * 3);
    this.gripPos = new Float64Array(numEnvs * 3);
    this.gripVel = new Float64Array(numEnvs * 3);
    this.target = new Float64Array(numEnvs * 3);
    const side = Math.ceil(Math.sqrt(numEnvs));
    for (let i = 0; i < numEnvs; i++) {
      const cx = i % side, cy = Math.floor(i / side);
      this.origin[3 * i] = (cx - (side - 1) / 2) * CELL_SPACING - TABLE_CENTER[0];
      this.origin[3 * i + 1] = (cy - (side - 1) / 2) * CELL_SPACING - TABLE_CENTER[1];
      this.buildEnv(i, 1 << ((cx % 4) * 4 + (cy % 4)));
    }
  }

  /** Creates env i's bodies; `bit` is its collision-group bit. */
  private buildEnv(i: number, bit: number): void {
    const { R, world } = this;
    const groups = (bit << 16) | bit;
    const ox = this.origin[3 * i], oy = this.origin[3 * i + 1];
    const fixed = world.createRigidBody(R.RigidBodyDesc.fixed().setTranslation(ox, oy, 0));
    const shape = (d: InstanceType<Rapier['ColliderDesc']>) => d.setCollisionGroups(groups).setFriction(FRICTION).setRestitution(0);
    world.createCollider(shape(R.ColliderDesc.cuboid(TABLE_HALF[0], TABLE_HALF[1], TABLE_HALF[2]).setTranslation(TABLE_CENTER[0], TABLE_CENTER[1], TABLE_TOP_Z - TABLE_HALF[2])), fixed);
    world.createCollider(shape(R.ColliderDesc.cuboid(FLOOR_HALF, FLOOR_HALF, 0.5).setTranslation(TABLE_CENTER[0], TABLE_CENTER[1], -0.5)), fixed);
    const palm = world.createRigidBody(R.RigidBodyDesc.kinematicPositionBased().setTranslation(ox, oy, 1));
    world.createCollider(shape(R.ColliderDesc.cuboid(PALM_HALF[0], PALM_HALF[1], PALM_HALF[2]).setTranslation(0, 0, PALM_OFFSET_Z)), palm);
    for (const side of [1, -1]) {
      world.createCollider(shape(R.ColliderDesc.cuboid(FINGER_HALF[0], FINGER_HALF[1], FINGER_HALF[2]).setTranslation(0, side * FINGER_CLOSED_Y, FINGER_OFFSET_Z)), palm);
    }
    this.palms.push(palm);
    if (this.hasObject) {
      const cube = world.createRigidBody(R.RigidBodyDesc.dynamic().setCanSleep(false).setTranslation(ox + TABLE_CENTER[0], oy + TABLE_CENTER[1], TABLE_TOP_Z + CUBE_HALF));
      const density = CUBE_MASS / (8 * CUBE_HALF ** 3);
      world.createCollider(shape(R.ColliderDesc.cuboid(CUBE_HALF, CUBE_HALF, CUBE_HALF).setDensity(density)), cube);
      this.cubes.push(cube);
    }
  }

  /** Sets env i's mocap target to its grip site plus ACTION_SCALE × (ax, ay, az), clamped to the workspace. */
  setTargetFromAction(i: number, ax: number, ay: number, az: number): void {
    for (let k = 0; k < 3; k++) {
      const t = this.gripPos[3 * i + k] + ACTION_SCALE * (k === 0 ? ax : k === 1 ? ay : az);
      this.target[3 * i + k] = Math.min(WORKSPACE_MAX[k], Math.max(WORKSPACE_MIN[k], t));
    }
  }

  /** Advances the world by one control step (substeps × dt), moving each palm along its follower. */
  simulate(): void {
    const { cfg, world, gripPos: p, gripVel: v, target: m, origin, palms } = this;
    const w = cfg.followOmega, dt = cfg.dt;
    const decay = Math.exp(-w * dt);
    for (let s = 0; s < cfg.substeps; s++) {
      for (let i = 0; i < this.numEnvs; i++) {
        // Exact critically damped step toward the target: e(t) = (e0 + (v0 + ω e0) t) e^{-ωt}.
        for (let k = 0; k < 3; k++) {
          const j = 3 * i + k;
          const e = p[j] - m[j];
          const c = v[j] + w * e;
          p[j] = m[j] + (e + c * dt) * decay;
          v[j] = (v[j] - w * c * dt) * decay;
        }
        this.v.x = p[3 * i] + origin[3 * i]; this.v.y = p[3 * i + 1] + origin[3 * i + 1]; this.v.z = p[3 * i + 2];
        palms[i].setNextKinematicTranslation(this.v);
      }
      world.step();
    }
  }

  /** Reads env i's cube state (env-local) into out; one Rapier call per quantity. */
  readObject(i: number, out: ObjectReadback): void {
    const c = this.cubes[i];
    const t = c.translation(), r = c.rotation(), lv = c.linvel(), av = c.angvel();
    out.pos[0] = t.x - this.origin[3 * i]; out.pos[1] = t.y - this.origin[3 * i + 1]; out.pos[2] = t.z;
    out.quat[0] = r.x; out.quat[1] = r.y; out.quat[2] = r.z; out.quat[3] = r.w;
    out.linvel[0] = lv.x; out.linvel[1] = lv.y; out.linvel[2] = lv.z;
    out.angvel[0] = av.x; out.angvel[1] = av.y; out.angvel[2] = av.z;
  }

  /**
   * Puts env i back to an episode start: the gripper at rest at grip (env-local) and the cube at rest,
   * upright, at object. Contact state does not survive: the cube is re-created rather than teleported.
   */
  resetEnv(i: number, grip: ArrayLike<number>, object: ArrayLike<number> | null): void {
    const ox = this.origin[3 * i], oy = this.origin[3 * i + 1];
    for (let k = 0; k < 3; k++) {
      this.gripPos[3 * i + k] = grip[k];
      this.gripVel[3 * i + k] = 0;
      this.target[3 * i + k] = grip[k];
    }
    this.v.x = grip[0] + ox; this.v.y = grip[1] + oy; this.v.z = grip[2];
    this.palms[i].setTranslation(this.v, true);
    this.palms[i].setNextKinematicTranslation(this.v);
    if (this.hasObject && object) this.respawnCube(i, object[0] + ox, object[1] + oy, object[2]);
  }

  /** Replaces env i's cube by a new one at rest at world position (x, y, z), so no contact impulse survives. */
  private respawnCube(i: number, x: number, y: number, z: number): void {
    const { R, world } = this;
    const old = this.cubes[i];
    const groups = old.collider(0).collisionGroups();
    world.removeRigidBody(old);
    const cube = world.createRigidBody(R.RigidBodyDesc.dynamic().setCanSleep(false).setTranslation(x, y, z));
    const density = CUBE_MASS / (8 * CUBE_HALF ** 3);
    world.createCollider(R.ColliderDesc.cuboid(CUBE_HALF, CUBE_HALF, CUBE_HALF).setDensity(density).setCollisionGroups(groups).setFriction(FRICTION).setRestitution(0), cube);
    this.cubes[i] = cube;
  }

  /** Sets env i's cube velocity (for tests and scripted disturbances), m/s and rad/s. */
  setObjectVelocity(i: number, linvel: ArrayLike<number>, angvel: ArrayLike<number> = [0, 0, 0]): void {
    const c = this.cubes[i];
    c.setLinvel({ x: linvel[0], y: linvel[1], z: linvel[2] }, true);
    c.setAngvel({ x: angvel[0], y: angvel[1], z: angvel[2] }, true);
  }

  /** Number of rigid bodies and colliders in the World (for leak checks). */
  counts(): { bodies: number; colliders: number } {
    return { bodies: this.world.bodies.len(), colliders: this.world.colliders.len() };
  }

  /** Frees the World and every object in it; MUST be called once, after which this object is unusable. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.world.free();
    liveWorlds--;
    this.palms.length = 0;
    this.cubes.length = 0;
  }
}
