/**
 * (Longer than 500 lines: the kinematic gripper's contact bounds read and write this World's per-env body caches, which a split would have to expose.)
 *
 * One Rapier World holding many envs of one scene (engine/physics/scene-def.ts) on a compact grid over one floor:
 * per env a fixed table, a kinematic palm that follows its mocap target critically damped, two fingers, and
 * the scene's dynamic objects. Envs never touch: each env's colliders share one of 16 collision-group bits
 * tiled 4 × 4 over the grid, so same-bit envs are 12 m apart.
 *
 * Fingers: with blockGripper they are closed, one collider of the palm spanning both. Otherwise each is a kinematic body beside
 * the palm whose half-opening q moves toward its target at most FINGER_SPEED, and stops where it would press
 * more than GRASP_BUDGET into an object (an object between the fingers bounds q from below, one outside from
 * above). Objects are held only by contact and friction.
 *
 * Bounded force: the palm and the fingertips stop where they would press more than PRESS_BUDGET down into an
 * object below them, so the gripper cannot crush an object into the table or launch it.
 *
 * The per-env state lives in the batch's state block (engine/batch.ts); `readState` fills it from the World
 * after a step and `writeState` puts a block row into the World (a reset or a restore). Handles to Rapier
 * objects are owned here; `free()` MUST be called to release the World's WASM memory.
 */
import type { Collider, RigidBody, World } from '@dimforge/rapier3d-simd-compat';
import type { Batch } from '../batch.ts';
import { objectParam, P_FINGER_FRICTION, P_FOLLOW_OMEGA, P_TABLE_DZ, PO_FRICTION, PO_MASS, PO_SCALE } from '../domain-randomization.ts';
import type { PhysicsConfig } from './config.ts';
import {
  ACTION_SCALE, CELL_SPACING, FINGER_ACTION_SCALE, FINGER_CLOSED_Y, FINGER_GAP0, FINGER_HALF, FINGER_MAX_OPEN, FINGER_OFFSET_Z, FINGER_SPEED, FINGER_TARGET_MIN,
  FLOOR_HALF, GRASP_BUDGET, GRIP_MIN_ABOVE_TABLE, PALM_HALF, PALM_OFFSET_Z, PRESS_BUDGET, WORKSPACE_MAX, WORKSPACE_MIN,
} from './fetch-scene.ts';
import type { Rapier } from './rapier.ts';
import { numBodies, POSE_WIDTH, VEL_WIDTH, type SceneDef } from './scene-def.ts';

/** Worlds constructed and not yet freed in this thread (a leak check for tests). */
let liveWorlds = 0;

/** Number of SceneWorlds alive in this thread: constructed and not yet freed. */
export function liveSceneWorlds(): number {
  return liveWorlds;
}

/** Objects farther than this from the grip site keep the pose read at the last control step inside substeps, m. */
const NEAR = 0.3;
/** Overlap an object must have with a finger (x and z) before it bounds the finger's opening, m. */
const FINGER_OVERLAP = 0.002;
/** Objects within this of a gripper part have their speed and sink bounded (boundPinchedObjects), m. */
const CAP_MARGIN = 0.03;
/** Deepest an object near the gripper may be pressed into the table, m (boundPinchedObjects). */
const SINK_LIMIT = 0.002;
/** Below this under an object's top, a gripper part counts as beside the object rather than above it, m. */
const ABOVE_SLACK = 0.01;
/** Gripper parts as boxes relative to the grip site: [x half, z bottom, z top]; y comes from palm or finger. */
const PALM_PART = [PALM_HALF[0], PALM_OFFSET_Z - PALM_HALF[2]] as const;
const FINGER_BOTTOM = FINGER_OFFSET_Z - FINGER_HALF[2];
const FINGER_TOP = FINGER_OFFSET_Z + FINGER_HALF[2];

export class SceneWorld {
  readonly numEnvs: number;
  readonly scene: SceneDef;
  /** Objects per env (K). */
  readonly numObjects: number;
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
  /** [n, 2] finger half-openings (+y, −y), m. */
  readonly fingerQ: Float64Array;
  /** [n, 2] finger opening speeds, m/s. */
  readonly fingerV: Float64Array;
  /** [n, 2] finger half-opening targets, m. */
  readonly fingerTarget: Float64Array;
  /** [n] follower ω of each env, 1/s, and its per-substep decay e^{−ω dt}. */
  private readonly omega: Float64Array;
  private readonly decay: Float64Array;
  /** [n] table top height of each env, m. */
  private readonly tableTop: Float64Array;
  /** [n, K, 3] half extents of each object (size-scaled), m. */
  private readonly objHalf: Float64Array;
  /** [n, K, 3] object position (env-local) and [n, K, 4] quaternion, refreshed near the gripper every substep. */
  private readonly objPos: Float64Array;
  private readonly objQuat: Float64Array;
  /** [3] world-axis half extents of the object last passed to aabbHalf, m. */
  private readonly aabb = new Float64Array(3);
  private readonly palms: RigidBody[] = [];
  private readonly fingerBodies: RigidBody[] = [];
  /** [n × 2] each env's finger colliders (+y, −y); with blockGripper both entries are the one closed-finger box. */
  private readonly fingerColliders: Collider[] = [];
  private readonly tables: RigidBody[] = [];
  private readonly objects: RigidBody[] = [];
  private readonly groups: Int32Array;
  private readonly v = { x: 0, y: 0, z: 0 };
  private readonly q = { x: 0, y: 0, z: 0, w: 1 };
  /** Targets that Rapier's getters fill in place of allocating: a position, a velocity and a rotation. */
  private readonly readP = { x: 0, y: 0, z: 0 };
  private readonly readV = { x: 0, y: 0, z: 0 };
  private readonly readQ = { x: 0, y: 0, z: 0, w: 1 };
  private freed = false;

  constructor(R: Rapier, numEnvs: number, scene: SceneDef, cfg: PhysicsConfig) {
    this.R = R;
    this.numEnvs = numEnvs;
    this.scene = scene;
    this.numObjects = scene.objects.length;
    this.cfg = cfg;
    this.world = new R.World({ x: 0, y: 0, z: -9.81 });
    liveWorlds++;
    this.world.timestep = cfg.dt;
    this.world.numSolverIterations = cfg.solverIterations;
    this.world.integrationParameters.normalizedPredictionDistance = cfg.contactPrediction;
    const K = this.numObjects;
    this.origin = new Float64Array(numEnvs * 3);
    this.gripPos = new Float64Array(numEnvs * 3);
    this.gripVel = new Float64Array(numEnvs * 3);
    this.target = new Float64Array(numEnvs * 3);
    this.fingerQ = new Float64Array(numEnvs * 2);
    this.fingerV = new Float64Array(numEnvs * 2);
    this.fingerTarget = new Float64Array(numEnvs * 2);
    this.omega = new Float64Array(numEnvs).fill(cfg.followOmega);
    this.decay = new Float64Array(numEnvs).fill(Math.exp(-cfg.followOmega * cfg.dt));
    this.tableTop = new Float64Array(numEnvs).fill(scene.table.topZ);
    this.objHalf = new Float64Array(numEnvs * K * 3);
    this.objPos = new Float64Array(numEnvs * K * 3);
    this.objQuat = new Float64Array(numEnvs * K * 4);
    this.groups = new Int32Array(numEnvs);
    const side = Math.ceil(Math.sqrt(numEnvs));
    const [tcx, tcy] = scene.table.center;
    for (let i = 0; i < numEnvs; i++) {
      const cx = i % side, cy = Math.floor(i / side);
      this.origin[3 * i] = (cx - (side - 1) / 2) * CELL_SPACING - tcx;
      this.origin[3 * i + 1] = (cy - (side - 1) / 2) * CELL_SPACING - tcy;
      const bit = 1 << ((cx % 4) * 4 + (cy % 4));
      this.groups[i] = (bit << 16) | bit;
      this.buildEnv(i);
    }
    // One floor under the whole grid (one collider per World, not one per env: fewer colliders for Rapier to keep).
    const half = ((side - 1) / 2) * CELL_SPACING + FLOOR_HALF;
    const floor = this.world.createRigidBody(R.RigidBodyDesc.fixed());
    this.world.createCollider(R.ColliderDesc.cuboid(half, half, 0.5).setTranslation(0, 0, -0.5).setFriction(1).setRestitution(0), floor);
  }

  /** Creates env i's table, palm and fingers, and its objects at rest on the table centre. */
  private buildEnv(i: number): void {
    const { R, world, scene } = this;
    const t = scene.table;
    const groups = this.groups[i];
    const ox = this.origin[3 * i], oy = this.origin[3 * i + 1];
    const fixed = world.createRigidBody(R.RigidBodyDesc.fixed().setTranslation(ox, oy, 0));
    const shape = (d: InstanceType<Rapier['ColliderDesc']>) => d.setCollisionGroups(groups).setFriction(1).setRestitution(0);
    world.createCollider(shape(R.ColliderDesc.cuboid(t.half[0], t.half[1], t.half[2]).setTranslation(t.center[0], t.center[1], t.topZ - t.half[2])), fixed);
    this.tables.push(fixed);
    const palm = world.createRigidBody(R.RigidBodyDesc.kinematicPositionBased().setTranslation(ox, oy, 1));
    world.createCollider(shape(R.ColliderDesc.cuboid(PALM_HALF[0], PALM_HALF[1], PALM_HALF[2]).setTranslation(0, 0, PALM_OFFSET_Z)), palm);
    this.palms.push(palm);
    if (scene.blockGripper) {
      // Closed fingers collide as one box from the outer face of one to the outer face of the other: the gap
      // between them (2 × FINGER_GAP0) is narrower than any object, and one box halves the contacts of a push.
      const fingers = R.ColliderDesc.cuboid(FINGER_HALF[0], FINGER_CLOSED_Y + FINGER_HALF[1], FINGER_HALF[2]).setTranslation(0, 0, FINGER_OFFSET_Z);
      const collider = world.createCollider(shape(fingers), palm);
      this.fingerColliders.push(collider, collider);
    } else {
      for (const s of [1, -1]) {
        const body = world.createRigidBody(R.RigidBodyDesc.kinematicPositionBased().setTranslation(ox, oy + s * FINGER_CLOSED_Y, 1));
        const finger = R.ColliderDesc.cuboid(FINGER_HALF[0], FINGER_HALF[1], FINGER_HALF[2]).setTranslation(0, 0, FINGER_OFFSET_Z);
        this.fingerColliders.push(world.createCollider(shape(finger), body));
        this.fingerBodies.push(body);
      }
    }
    scene.objects.forEach((o, k) => {
      const placeholder = world.createRigidBody(R.RigidBodyDesc.dynamic().setTranslation(ox + t.center[0], oy + t.center[1] + 0.1 * k, t.topZ + o.halfExtents[2]));
      this.objects.push(this.spawnObject(i, k, 1, o.mass, o.friction, placeholder));
      this.cacheObjectPose(i, i * this.numObjects + k);
    });
  }

  /**
   * Replaces `old` (object k of env i) by a new body of the scene's shape scaled by `scale`, with the given mass
   * and friction, at old's pose; a new body carries no contact state. Returns the new body.
   */
  private spawnObject(i: number, k: number, scale: number, mass: number, friction: number, old: RigidBody): RigidBody {
    const { R, world } = this;
    const o = this.scene.objects[k];
    const t = old.translation(), r = old.rotation();
    world.removeRigidBody(old);
    const body = world.createRigidBody(R.RigidBodyDesc.dynamic().setCanSleep(false).setTranslation(t.x, t.y, t.z).setRotation(r));
    const [hx, hy, hz] = o.halfExtents.map((h) => h * scale);
    let desc: InstanceType<Rapier['ColliderDesc']>;
    let volume: number;
    if (o.shape === 'box') {
      desc = R.ColliderDesc.cuboid(hx, hy, hz);
      volume = 8 * hx * hy * hz;
    } else {
      // Rapier's cylinder axis is y: turn it upright (z) inside the body.
      desc = R.ColliderDesc.cylinder(hz, hx).setRotation({ x: Math.SQRT1_2, y: 0, z: 0, w: Math.SQRT1_2 });
      volume = Math.PI * hx * hx * 2 * hz;
    }
    desc.setDensity(mass / volume).setCollisionGroups(this.groups[i]).setFriction(friction).setRestitution(0)
      .setFrictionCombineRule(R.CoefficientCombineRule.Multiply);
    world.createCollider(desc, body);
    const h = 3 * (i * this.numObjects + k);
    this.objHalf[h] = hx; this.objHalf[h + 1] = hy; this.objHalf[h + 2] = hz;
    return body;
  }

  /**
   * Sets env i's mocap target to its grip site plus ACTION_SCALE × (ax, ay, az), clamped to the workspace, and
   * (unless blockGripper) each finger's target to its previous target plus FINGER_ACTION_SCALE × ag, clamped to
   * [FINGER_TARGET_MIN, FINGER_MAX_OPEN].
   */
  setTargetFromAction(i: number, ax: number, ay: number, az: number, ag: number): void {
    for (let k = 0; k < 3; k++) {
      const t = this.gripPos[3 * i + k] + ACTION_SCALE * (k === 0 ? ax : k === 1 ? ay : az);
      const lo = k === 2 ? Math.max(WORKSPACE_MIN[2], this.tableTop[i] + GRIP_MIN_ABOVE_TABLE) : WORKSPACE_MIN[k];
      this.target[3 * i + k] = Math.min(WORKSPACE_MAX[k], Math.max(lo, t));
    }
    if (this.scene.blockGripper) return;
    // The target moves from where it was (not from where the finger is), down to FINGER_TARGET_MIN: a finger
    // closed on an object keeps squeezing through a few opening actions (PPO's exploration noise) before it lets go.
    for (let f = 0; f < 2; f++) {
      const t = this.fingerTarget[2 * i + f] + FINGER_ACTION_SCALE * ag;
      this.fingerTarget[2 * i + f] = Math.min(FINGER_MAX_OPEN, Math.max(FINGER_TARGET_MIN, t));
    }
  }

  /** Advances the world by one control step (substeps × dt), moving each palm and finger along its follower. */
  simulate(): void {
    const { cfg, world, gripPos: p, gripVel: v, target: m, origin, palms, numObjects: K } = this;
    const dt = cfg.dt;
    const moving = !this.scene.blockGripper;
    for (let s = 0; s < cfg.substeps; s++) {
      for (let i = 0; i < this.numEnvs; i++) {
        // The first substep needs no refresh: readState and writeState leave every object's pose cached.
        if (K > 0 && s > 0) this.refreshNearObjects(i);
        const zPrev = p[3 * i + 2];
        // Exact critically damped step toward the target: e(t) = (e0 + (v0 + ω e0) t) e^{-ωt}.
        const w = this.omega[i], decay = this.decay[i];
        for (let k = 0; k < 3; k++) {
          const j = 3 * i + k;
          const e = p[j] - m[j];
          const c = v[j] + w * e;
          p[j] = m[j] + (e + c * dt) * decay;
          v[j] = (v[j] - w * c * dt) * decay;
        }
        if (K > 0) {
          const floor = this.pressFloor(i, zPrev);
          if (p[3 * i + 2] < floor) {
            v[3 * i + 2] = Math.max(0, (floor - zPrev) / dt);
            p[3 * i + 2] = floor;
          }
        }
        const x = p[3 * i] + origin[3 * i], y = p[3 * i + 1] + origin[3 * i + 1], z = p[3 * i + 2];
        this.v.x = x; this.v.y = y; this.v.z = z;
        palms[i].setNextKinematicTranslation(this.v);
        if (moving) this.moveFingers(i, x, y, z, dt);
      }
      world.step();
      if (K > 0) this.boundPinchedObjects();
    }
  }

  /**
   * Bounds what the gripper can do to an object near it, after each substep. A kinematic gripper has unbounded
   * force, and the contact solver would otherwise press a pinched object into the table and then shoot it out at
   * several times the gripper's speed. So an object within CAP_MARGIN of the gripper (1) moves at most
   * max(cfg.maxObjectSpeed, the gripper's speed), the role of max_linear_velocity and max_depenetration_velocity
   * in PhysX and Isaac Lab, and (2) over its table, is projected back to SINK_LIMIT under the table top when its
   * lowest point lies deeper, losing its downward velocity (the non-penetration the table contact would keep
   * against a bounded force).
   */
  private boundPinchedObjects(): void {
    const K = this.numObjects, p = this.gripPos, gv = this.gripVel, limit = this.cfg.maxObjectSpeed, t = this.scene.table;
    for (let i = 0; i < this.numEnvs; i++) {
      const cap = Math.max(limit, Math.hypot(gv[3 * i], gv[3 * i + 1], gv[3 * i + 2]));
      for (let k = 0; k < K; k++) {
        const o = i * K + k;
        const dx = this.objPos[3 * o] - p[3 * i], dy = this.objPos[3 * o + 1] - p[3 * i + 1], dz = this.objPos[3 * o + 2] - p[3 * i + 2];
        if (dx * dx + dy * dy + dz * dz >= NEAR * NEAR) continue;
        const a = this.aabbHalf(o);
        if (!this.touchesGripper(i, dx, dy, dz, a, CAP_MARGIN)) continue;
        const body = this.objects[o];
        const v = body.linvel(this.readV);
        let vx = v.x, vy = v.y, vz = v.z;
        const pos = body.translation(this.readP);
        const lx = pos.x - this.origin[3 * i], ly = pos.y - this.origin[3 * i + 1];
        const over = Math.abs(lx - t.center[0]) < t.half[0] && Math.abs(ly - t.center[1]) < t.half[1];
        const sink = this.tableTop[i] - SINK_LIMIT - (pos.z - a[2]);
        if (over && sink > 0) {
          this.v.x = pos.x; this.v.y = pos.y; this.v.z = pos.z + sink;
          body.setTranslation(this.v, true);
          if (vz < 0) vz = 0;
        }
        const speed = Math.hypot(vx, vy, vz);
        if (speed > cap) { vx *= cap / speed; vy *= cap / speed; vz *= cap / speed; }
        if (vx !== v.x || vy !== v.y || vz !== v.z) {
          this.v.x = vx; this.v.y = vy; this.v.z = vz;
          body.setLinvel(this.v, true);
        }
      }
    }
  }

  /** Moves env i's fingers one substep toward their targets, bounded by the objects they touch; (x, y, z) is the new palm position in world coordinates. */
  private moveFingers(i: number, x: number, y: number, z: number, dt: number): void {
    const K = this.numObjects, step = FINGER_SPEED * dt;
    for (let f = 0; f < 2; f++) {
      const s = f === 0 ? 1 : -1;
      const j = 2 * i + f;
      let lo = 0, hi = FINGER_MAX_OPEN;
      const q = this.fingerQ[j];
      for (let k = 0; k < K; k++) {
        const o = i * K + k;
        const a = this.aabbHalf(o);
        const dx = this.objPos[3 * o] + this.origin[3 * i] - x;
        const dy = this.objPos[3 * o + 1] + this.origin[3 * i + 1] - y;
        const cz = this.objPos[3 * o + 2] - z;
        if (Math.abs(dx) > FINGER_HALF[0] + a[0] - FINGER_OVERLAP) continue;
        if (cz + a[2] < FINGER_BOTTOM + PRESS_BUDGET + FINGER_OVERLAP || cz - a[2] > FINGER_TOP - FINGER_OVERLAP) continue;
        if (s * dy < FINGER_HALF[1] + FINGER_GAP0 + q) {
          // Between the fingers: this finger stops GRASP_BUDGET into the object's face, and the pair never closes
          // below the object's width less a budget a side, wherever the object sits (a carried object pressed into
          // one finger by its inertia does not let the other finger follow it in).
          const width = 2 * (a[1] - GRASP_BUDGET - FINGER_GAP0);
          lo = Math.max(lo, s * dy + a[1] - GRASP_BUDGET - FINGER_GAP0, width - this.fingerQ[2 * i + 1 - f]);
        } else hi = Math.min(hi, s * dy - a[1] + GRASP_BUDGET - FINGER_GAP0 - 2 * FINGER_HALF[1]);
      }
      // A closing finger stops at lo and an opening one at hi; neither is pushed back by an object pressing on it.
      let want = this.fingerTarget[j];
      if (want < q) want = Math.max(want, Math.min(q, lo));
      else if (want > q) want = Math.min(want, Math.max(q, hi));
      want = Math.min(FINGER_MAX_OPEN, Math.max(0, want));
      const nq = q + Math.min(step, Math.max(-step, want - q));
      this.fingerV[j] = (nq - q) / dt;
      this.fingerQ[j] = nq;
      this.v.x = x; this.v.y = y + s * (FINGER_HALF[1] + FINGER_GAP0 + nq); this.v.z = z;
      this.fingerBodies[j].setNextKinematicTranslation(this.v);
    }
  }

  /**
   * Lowest grip-site height env i may take this substep: no gripper part that was above an object (its bottom at
   * zPrev no more than ABOVE_SLACK under the object's top) presses more than PRESS_BUDGET into it.
   */
  private pressFloor(i: number, zPrev: number): number {
    const K = this.numObjects, p = this.gripPos;
    let floor = -Infinity;
    for (let k = 0; k < K; k++) {
      const o = i * K + k;
      const a = this.aabbHalf(o);
      const dx = this.objPos[3 * o] - p[3 * i], dy = this.objPos[3 * o + 1] - p[3 * i + 1];
      const top = this.objPos[3 * o + 2] + a[2];
      // Palm.
      if (Math.abs(dx) < PALM_PART[0] + a[0] && Math.abs(dy) < PALM_HALF[1] + a[1] && zPrev + PALM_PART[1] >= top - ABOVE_SLACK) {
        floor = Math.max(floor, top - PRESS_BUDGET - PALM_PART[1]);
      }
      // Fingertips.
      if (Math.abs(dx) < FINGER_HALF[0] + a[0] && zPrev + FINGER_BOTTOM >= top - ABOVE_SLACK) {
        for (let f = 0; f < 2; f++) {
          const s = f === 0 ? 1 : -1;
          const c = s * (FINGER_HALF[1] + FINGER_GAP0 + this.fingerQ[2 * i + f]);
          if (Math.abs(dy - c) < FINGER_HALF[1] + a[1]) floor = Math.max(floor, top - PRESS_BUDGET - FINGER_BOTTOM);
        }
      }
    }
    return floor;
  }

  /**
   * Whether an object at (dx, dy, dz) from env i's grip site, with world-axis half extents a, comes within m of the
   * palm or a finger box.
   */
  private touchesGripper(i: number, dx: number, dy: number, dz: number, a: Float64Array, m: number): boolean {
    if (Math.abs(dx) < PALM_HALF[0] + a[0] + m && Math.abs(dy) < PALM_HALF[1] + a[1] + m && Math.abs(dz - PALM_OFFSET_Z) < PALM_HALF[2] + a[2] + m) return true;
    if (Math.abs(dx) >= FINGER_HALF[0] + a[0] + m || Math.abs(dz - FINGER_OFFSET_Z) >= FINGER_HALF[2] + a[2] + m) return false;
    for (let f = 0; f < 2; f++) {
      const c = (f === 0 ? 1 : -1) * (FINGER_HALF[1] + FINGER_GAP0 + this.fingerQ[2 * i + f]);
      if (Math.abs(dy - c) < FINGER_HALF[1] + a[1] + m) return true;
    }
    return false;
  }

  /** World-axis half extents of object o (env i × K + k) at its cached pose, into this.aabb. */
  private aabbHalf(o: number): Float64Array {
    const q = this.objQuat, h = this.objHalf, out = this.aabb;
    const x = q[4 * o], y = q[4 * o + 1], z = q[4 * o + 2], w = q[4 * o + 3];
    // Rotation matrix rows.
    const r00 = 1 - 2 * (y * y + z * z), r01 = 2 * (x * y - z * w), r02 = 2 * (x * z + y * w);
    const r10 = 2 * (x * y + z * w), r11 = 1 - 2 * (x * x + z * z), r12 = 2 * (y * z - x * w);
    const r20 = 2 * (x * z - y * w), r21 = 2 * (y * z + x * w), r22 = 1 - 2 * (x * x + y * y);
    const hx = h[3 * o], hy = h[3 * o + 1], hz = h[3 * o + 2];
    if (this.scene.objects[o % this.numObjects].shape === 'box') {
      out[0] = Math.abs(r00) * hx + Math.abs(r01) * hy + Math.abs(r02) * hz;
      out[1] = Math.abs(r10) * hx + Math.abs(r11) * hy + Math.abs(r12) * hz;
      out[2] = Math.abs(r20) * hx + Math.abs(r21) * hy + Math.abs(r22) * hz;
    } else {
      // Upright cylinder: axis = body z (column 2), radius hx, half height hz.
      out[0] = hx * Math.sqrt(Math.max(0, 1 - r02 * r02)) + hz * Math.abs(r02);
      out[1] = hx * Math.sqrt(Math.max(0, 1 - r12 * r12)) + hz * Math.abs(r12);
      out[2] = hx * Math.sqrt(Math.max(0, 1 - r22 * r22)) + hz * Math.abs(r22);
    }
    return out;
  }

  /** Re-reads the pose of env i's objects that lie within NEAR of its grip site. */
  private refreshNearObjects(i: number): void {
    const K = this.numObjects, p = this.gripPos;
    for (let k = 0; k < K; k++) {
      const o = i * K + k;
      const dx = this.objPos[3 * o] - p[3 * i], dy = this.objPos[3 * o + 1] - p[3 * i + 1], dz = this.objPos[3 * o + 2] - p[3 * i + 2];
      if (dx * dx + dy * dy + dz * dz < NEAR * NEAR) this.cacheObjectPose(i, o);
    }
  }

  /** Copies object o's pose (env-local) from the World into the cache; returns the body. */
  private cacheObjectPose(i: number, o: number): RigidBody {
    const b = this.objects[o];
    const t = b.translation(this.readP), r = b.rotation(this.readQ);
    this.objPos[3 * o] = t.x - this.origin[3 * i]; this.objPos[3 * o + 1] = t.y - this.origin[3 * i + 1]; this.objPos[3 * o + 2] = t.z;
    this.objQuat[4 * o] = r.x; this.objQuat[4 * o + 1] = r.y; this.objQuat[4 * o + 2] = r.z; this.objQuat[4 * o + 3] = r.w;
    return b;
  }

  /**
   * Writes the state-block rows of batch envs [lo + i] for local envs i in [0, n): body poses and velocities,
   * finger openings and speeds, mocap and finger targets. `lo` is the batch index of local env 0.
   */
  readState(b: Batch, lo: number): void {
    const B = numBodies(this.scene), K = this.numObjects;
    const pose = b.bodyPose, vel = b.bodyVel;
    for (let i = 0; i < this.numEnvs; i++) {
      const g = lo + i, po = g * B * POSE_WIDTH, vo = g * B * VEL_WIDTH;
      // The gripper's state is rounded to the block's f32 here, so the block holds all of it exactly and a
      // restore (writeState) continues from the very numbers the World goes on from.
      for (let k = 0; k < 3; k++) {
        const j = 3 * i + k;
        this.gripPos[j] = pose[po + k] = Math.fround(this.gripPos[j]);
        this.gripVel[j] = vel[vo + k] = Math.fround(this.gripVel[j]);
        vel[vo + 3 + k] = 0;
        this.target[j] = b.mocapTarget[3 * g + k] = Math.fround(this.target[j]);
      }
      pose[po + 3] = 0; pose[po + 4] = 0; pose[po + 5] = 0; pose[po + 6] = 1;
      for (let f = 0; f < 2; f++) {
        const j = 2 * i + f;
        this.fingerQ[j] = b.fingerPos[2 * g + f] = Math.fround(this.fingerQ[j]);
        this.fingerV[j] = b.fingerVel[2 * g + f] = Math.fround(this.fingerV[j]);
        this.fingerTarget[j] = b.fingerTarget[2 * g + f] = Math.fround(this.fingerTarget[j]);
      }
      for (let k = 0; k < K; k++) {
        const o = i * K + k;
        const body = this.cacheObjectPose(i, o);
        const bp = po + (1 + k) * POSE_WIDTH, bv = vo + (1 + k) * VEL_WIDTH;
        for (let c = 0; c < 3; c++) pose[bp + c] = this.objPos[3 * o + c];
        for (let c = 0; c < 4; c++) pose[bp + 3 + c] = this.objQuat[4 * o + c];
        const lv = body.linvel(this.readV);
        vel[bv] = lv.x; vel[bv + 1] = lv.y; vel[bv + 2] = lv.z;
        const av = body.angvel(this.readV);
        vel[bv + 3] = av.x; vel[bv + 4] = av.y; vel[bv + 5] = av.z;
      }
    }
  }

  /**
   * Puts batch env g (local env i = g − lo) into the World from its state-block row: scene parameters (table
   * height, follower ω, finger friction, object sizes, masses and frictions), gripper and fingers with their
   * targets, objects at their poses and velocities. Objects are re-created, so no contact state survives.
   */
  writeState(b: Batch, lo: number, g: number): void {
    const i = g - lo, B = numBodies(this.scene), K = this.numObjects, S = b.layout.widths.sceneParams;
    const par = g * S, po = g * B * POSE_WIDTH, vo = g * B * VEL_WIDTH;
    const ox = this.origin[3 * i], oy = this.origin[3 * i + 1];
    // Scene parameters.
    const dz = b.sceneParams[par + P_TABLE_DZ];
    const top = this.scene.table.topZ + dz;
    if (top !== this.tableTop[i]) {
      this.tableTop[i] = top;
      this.v.x = ox; this.v.y = oy; this.v.z = dz;
      this.tables[i].setTranslation(this.v, true);
    }
    const w = b.sceneParams[par + P_FOLLOW_OMEGA];
    if (w !== this.omega[i]) {
      this.omega[i] = w;
      this.decay[i] = Math.exp(-w * this.cfg.dt);
    }
    const mu = b.sceneParams[par + P_FINGER_FRICTION];
    for (let f = 0; f < 2; f++) if (this.fingerColliders[2 * i + f].friction() !== mu) this.fingerColliders[2 * i + f].setFriction(mu);
    // Gripper and fingers.
    for (let k = 0; k < 3; k++) {
      this.gripPos[3 * i + k] = b.bodyPose[po + k];
      this.gripVel[3 * i + k] = b.bodyVel[vo + k];
      this.target[3 * i + k] = b.mocapTarget[3 * g + k];
    }
    this.v.x = this.gripPos[3 * i] + ox; this.v.y = this.gripPos[3 * i + 1] + oy; this.v.z = this.gripPos[3 * i + 2];
    this.palms[i].setTranslation(this.v, true);
    this.palms[i].setNextKinematicTranslation(this.v);
    const px = this.v.x, py = this.v.y, pz = this.v.z;
    for (let f = 0; f < 2; f++) {
      const j = 2 * i + f;
      this.fingerQ[j] = this.scene.blockGripper ? 0 : b.fingerPos[2 * g + f];
      this.fingerV[j] = this.scene.blockGripper ? 0 : b.fingerVel[2 * g + f];
      this.fingerTarget[j] = this.scene.blockGripper ? 0 : b.fingerTarget[2 * g + f];
      if (this.scene.blockGripper) continue;
      this.v.x = px; this.v.y = py + (f === 0 ? 1 : -1) * (FINGER_HALF[1] + FINGER_GAP0 + this.fingerQ[j]); this.v.z = pz;
      this.fingerBodies[j].setTranslation(this.v, true);
      this.fingerBodies[j].setNextKinematicTranslation(this.v);
    }
    // Objects.
    for (let k = 0; k < K; k++) {
      const o = i * K + k, bp = po + (1 + k) * POSE_WIDTH, bv = vo + (1 + k) * VEL_WIDTH, pp = par + objectParam(k);
      const old = this.objects[o];
      this.v.x = b.bodyPose[bp] + ox; this.v.y = b.bodyPose[bp + 1] + oy; this.v.z = b.bodyPose[bp + 2];
      this.q.x = b.bodyPose[bp + 3]; this.q.y = b.bodyPose[bp + 4]; this.q.z = b.bodyPose[bp + 5]; this.q.w = b.bodyPose[bp + 6];
      old.setTranslation(this.v, false);
      old.setRotation(this.q, false);
      const body = this.spawnObject(i, k, b.sceneParams[pp + PO_SCALE], b.sceneParams[pp + PO_MASS], b.sceneParams[pp + PO_FRICTION], old);
      this.v.x = b.bodyVel[bv]; this.v.y = b.bodyVel[bv + 1]; this.v.z = b.bodyVel[bv + 2];
      body.setLinvel(this.v, true);
      this.v.x = b.bodyVel[bv + 3]; this.v.y = b.bodyVel[bv + 4]; this.v.z = b.bodyVel[bv + 5];
      body.setAngvel(this.v, true);
      this.objects[o] = body;
      this.cacheObjectPose(i, o);
    }
  }

  /** Sets object k of env i's velocity (for tests and scripted disturbances), m/s and rad/s. */
  setObjectVelocity(i: number, k: number, linvel: ArrayLike<number>, angvel: ArrayLike<number> = [0, 0, 0]): void {
    const c = this.objects[i * this.numObjects + k];
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
    this.objects.length = 0;
    this.fingerBodies.length = 0;
    this.fingerColliders.length = 0;
    this.tables.length = 0;
  }
}
