/**
 * A task's scene as data: the table, the gripper (fingers held closed or moving) and K objects, each with
 * shape, size, mass and friction. Bodies of the per-env state block follow this order: body 0 is the
 * gripper (its pose is the grip site between the fingertips), bodies 1..K are the objects.
 *
 * Friction: every object collider uses Rapier's Multiply rule, so a contact's coefficient is the product of
 * the two colliders' values. The table and the gripper have 1 unless randomized, so object–table friction is
 * the object's value and finger–object friction is the object's value times the fingers'.
 */

/** One dynamic object of a scene. */
export interface SceneObjectDef {
  /** Name used in points and views, e.g. 'object', 'cubeA'. */
  name: string;
  /** 'box': halfExtents [hx, hy, hz]; 'cylinder': an upright puck, halfExtents [radius, radius, halfHeight]. */
  shape: 'box' | 'cylinder';
  /** [3] half extents, metres. */
  halfExtents: readonly [number, number, number];
  /** Mass, kg. */
  mass: number;
  /** Friction coefficient (object–table contact), >= 0. */
  friction: number;
}

/** The fixed table: a box whose top is at topZ. */
export interface SceneTableDef {
  /** [x, y] centre, env-local metres. */
  center: readonly [number, number];
  /** [x, y, z] half extents, metres. */
  half: readonly [number, number, number];
  /** Height of the top surface, metres. */
  topZ: number;
}

/** A task's scene: table, gripper mode and objects. */
export interface SceneDef {
  table: SceneTableDef;
  /** Fetch's block_gripper: fingers held closed and action[3] ignored. */
  blockGripper: boolean;
  /** The dynamic objects, bodies 1..K of the state block (at most MAX_OBJECTS). */
  objects: readonly SceneObjectDef[];
}

/** Most objects one scene may hold. */
export const MAX_OBJECTS = 4;
/** Floats per body pose: position [3] then quaternion (x, y, z, w) [4]. */
export const POSE_WIDTH = 7;
/** Floats per body velocity: linear [3] m/s then angular [3] rad/s. */
export const VEL_WIDTH = 6;

/** Bodies per env in the state block: the gripper and the objects. */
export function numBodies(scene: SceneDef): number {
  return 1 + scene.objects.length;
}

function check(ok: boolean, path: string, msg: string): void {
  if (!ok) throw new Error(`scene.${path}: ${msg}`);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks a scene for physical sense; throws naming the field (e.g. "scene.objects[1].mass: must be in (0, 100] kg, got -1"). */
export function validateScene(scene: SceneDef): SceneDef {
  check(scene !== null && typeof scene === 'object', '', 'expected an object');
  const t = scene.table;
  check(t !== null && typeof t === 'object', 'table', 'expected an object');
  check(Array.isArray(t.center) && t.center.length === 2 && t.center.every(isNum), 'table.center', `must be 2 finite numbers, got ${JSON.stringify(t.center)}`);
  check(Array.isArray(t.half) && t.half.length === 3 && t.half.every((v) => isNum(v) && v > 0 && v <= 1.4), 'table.half', `must be 3 numbers in (0, 1.4] m, got ${JSON.stringify(t.half)}`);
  check(isNum(t.topZ) && t.topZ > 0 && t.topZ < 1, 'table.topZ', `must be in (0, 1) m, got ${t.topZ}`);
  check(typeof scene.blockGripper === 'boolean', 'blockGripper', `must be true or false, got ${String(scene.blockGripper)}`);
  check(Array.isArray(scene.objects) && scene.objects.length <= MAX_OBJECTS, 'objects', `must be an array of at most ${MAX_OBJECTS} objects`);
  const names = new Set<string>();
  scene.objects.forEach((o, k) => {
    const p = `objects[${k}]`;
    check(typeof o.name === 'string' && o.name.length > 0 && !names.has(o.name), `${p}.name`, `must be a unique non-empty string, got ${JSON.stringify(o.name)}`);
    names.add(o.name);
    check(o.shape === 'box' || o.shape === 'cylinder', `${p}.shape`, `must be 'box' or 'cylinder', got ${JSON.stringify(o.shape)}`);
    check(Array.isArray(o.halfExtents) && o.halfExtents.length === 3 && o.halfExtents.every((v) => isNum(v) && v >= 0.005 && v <= 0.2),
      `${p}.halfExtents`, `must be 3 numbers in [0.005, 0.2] m, got ${JSON.stringify(o.halfExtents)}`);
    if (o.shape === 'cylinder') check(o.halfExtents[0] === o.halfExtents[1], `${p}.halfExtents`, 'a cylinder needs equal radii [r, r, halfHeight]');
    check(isNum(o.mass) && o.mass > 0 && o.mass <= 100, `${p}.mass`, `must be in (0, 100] kg, got ${o.mass}`);
    check(isNum(o.friction) && o.friction >= 0 && o.friction <= 2, `${p}.friction`, `must be in [0, 2], got ${o.friction}`);
  });
  return scene;
}
