/**
 * Randomized scene parameters: their layout in the state block's `sceneParams` [N, P] row, their nominal
 * values, the domain-randomization ranges (data, validated) and the per-episode draw from the counter stream.
 *
 * Row layout (P = SCENE_PARAMS_FIXED + 3 K for K objects):
 *
 * | index          | meaning                                                        | nominal                |
 * |----------------|----------------------------------------------------------------|------------------------|
 * | 0              | table height offset, m (the table top is at topZ + this)       | 0                      |
 * | 1              | gripper follower ω, 1/s (larger: less lag)                     | physics.followOmega    |
 * | 2              | std of Gaussian action noise, action units (before clipping)  | 0                      |
 * | 3              | std of Gaussian observation noise, obs units                   | 0                      |
 * | 4              | finger friction coefficient                                    | 1                      |
 * | 5 + 3k + 0     | object k mass, kg                                              | scene mass             |
 * | 5 + 3k + 1     | object k size scale (half extents × this)                      | 1                      |
 * | 5 + 3k + 2     | object k friction coefficient                                  | scene friction         |
 */
import { counterUniform } from './rng.ts';
import type { SceneDef } from './physics/scene-def.ts';

export const P_TABLE_DZ = 0;
export const P_FOLLOW_OMEGA = 1;
export const P_ACTION_NOISE = 2;
export const P_OBS_NOISE = 3;
export const P_FINGER_FRICTION = 4;
/** Per-env parameters before the per-object ones. */
export const SCENE_PARAMS_FIXED = 5;
/** Offsets inside an object's three parameters. */
export const PO_MASS = 0, PO_SCALE = 1, PO_FRICTION = 2;

/** Index of object k's first parameter in a sceneParams row. */
export function objectParam(k: number): number {
  return SCENE_PARAMS_FIXED + 3 * k;
}

/** Parameters per env for a scene: P. */
export function numSceneParams(scene: SceneDef): number {
  return SCENE_PARAMS_FIXED + 3 * scene.objects.length;
}

/** A uniform range [lo, hi]. */
export type Range = readonly [number, number];

/** Ranges drawn per env at every reset (uniform); a missing field keeps its nominal value. */
export interface DomainRandomization {
  /** Scale of each object's nominal mass. */
  objectMass?: Range;
  /** Scale of each object's half extents. */
  objectSize?: Range;
  /** Object–table friction coefficient (replaces the scene's). */
  objectFriction?: Range;
  /** Finger friction coefficient (finger–object friction = object × finger). */
  fingerFriction?: Range;
  /** Table height offset, m. */
  tableHeight?: Range;
  /** Gripper follower ω, 1/s (the mocap lag: 50/s covers ~60% of a commanded step). */
  gripperLag?: Range;
  /** Std of Gaussian noise added to each action component before clipping. */
  actionNoise?: Range;
  /** Std of Gaussian noise added to each observation component. */
  observationNoise?: Range;
}

/** Physical bounds of every range, with units for the error message. */
const BOUNDS: Record<keyof DomainRandomization, readonly [number, number, string]> = {
  objectMass: [0.05, 10, '× nominal mass'],
  objectSize: [0.5, 1.5, '× nominal size'],
  objectFriction: [0, 2, 'coefficient'],
  fingerFriction: [0, 2, 'coefficient'],
  tableHeight: [-0.1, 0.1, 'm'],
  gripperLag: [5, 500, '1/s'],
  actionNoise: [0, 1, 'action units'],
  observationNoise: [0, 0.1, 'obs units'],
};

/** Names of the randomizable quantities. */
export const DR_FIELDS = Object.keys(BOUNDS) as (keyof DomainRandomization)[];

/** Checks DR ranges (parsed JSON or an object literal) and returns a clean copy; throws naming the field. */
export function validateDomainRandomization(json: unknown): DomainRandomization {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`domainRandomization: expected an object of ranges, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  const out: DomainRandomization = {};
  for (const [key, v] of Object.entries(json)) {
    const b = BOUNDS[key as keyof DomainRandomization];
    if (!b) throw new Error(`domainRandomization.${key}: unknown field (known: ${DR_FIELDS.join(', ')})`);
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new Error(`domainRandomization.${key}: must be a range [lo, hi] of two finite numbers, got ${JSON.stringify(v)}`);
    }
    const [lo, hi] = v as [number, number];
    if (lo > hi) throw new Error(`domainRandomization.${key}: lo ${lo} is above hi ${hi}`);
    if (lo < b[0] || hi > b[1]) throw new Error(`domainRandomization.${key}: [${lo}, ${hi}] leaves the physical range [${b[0]}, ${b[1]}] (${b[2]})`);
    out[key as keyof DomainRandomization] = [lo, hi];
  }
  return out;
}

/** Salt that separates the DR stream from the episode-sampling stream of the same (seed, env, episode). */
const DR_SALT = 0x0d7a11e5;

/**
 * Writes env `env`'s parameters for episode `episode` into row[at .. at + P]: nominal values, replaced by draws
 * from the DR ranges where given. Draw j of the stream is a pure function of (seed, env, episode, j).
 */
export function drawSceneParams(scene: SceneDef, followOmega: number, dr: DomainRandomization | null, seed: number, env: number, episode: number, row: Float32Array, at: number): void {
  let draw = 0;
  const u = (r: Range | undefined, nominal: number): number => {
    const x = r ? r[0] + (r[1] - r[0]) * counterUniform(seed ^ DR_SALT, env, episode, draw) : nominal;
    draw++;
    return x;
  };
  row[at + P_TABLE_DZ] = u(dr?.tableHeight, 0);
  row[at + P_FOLLOW_OMEGA] = u(dr?.gripperLag, followOmega);
  row[at + P_ACTION_NOISE] = u(dr?.actionNoise, 0);
  row[at + P_OBS_NOISE] = u(dr?.observationNoise, 0);
  row[at + P_FINGER_FRICTION] = u(dr?.fingerFriction, 1);
  scene.objects.forEach((o, k) => {
    const p = at + objectParam(k);
    row[p + PO_MASS] = o.mass * u(dr?.objectMass, 1);
    row[p + PO_SCALE] = u(dr?.objectSize, 1);
    row[p + PO_FRICTION] = u(dr?.objectFriction, o.friction);
  });
}
