/**
 * The shaping table: a validated spec compiled to numbers, plus the config, batch field addresses and
 * per-thread scratch, written into the batch memory's reserved scratch where the kernel reads it.
 *
 * Flat layout (bytes from the table base, by default SHAPING_TABLE_OFFSET = 24960, so that the 40576-byte table
 * ends at KERNEL_RESERVED_BYTES = 65536; assembly/lib/shaping-layout.ts holds the same numbers and the kernel
 * exports SHAPING_LAYOUT_* so the glue can check them):
 *
 * | bytes          | content                                                                         |
 * |----------------|---------------------------------------------------------------------------------|
 * | 0..28          | i32 magic 'CRNS', version, P (task points), P + D, K (stages), mode, D          |
 * | 32..96         | u32 byte addresses of 16 batch fields (reward ... bestProgress, TABLE_FIELDS)   |
 * | 96..120        | f64 gamma, weight, bonus (NaN = same as weight)                                 |
 * | 128..384       | 8 derived points × 32: i32 from, awayFrom, xy, kind (DERIVED_*); then by kind:  |
 * |                |   DERIVED_AWAY f32 offset at +16, DERIVED_SHIFT f32 shift x, y, z at +16..28    |
 * |                |   (awayFrom and xy 0)                                                           |
 * | 384..1664      | 8 stages × 160: i32 numLeaves, progress a, b, xy; f32 sigma at +16;             |
 * |                |   4 leaves × 32 at +32: i32 kind, a, b, xy; f32 value at +16                    |
 * | 1664..40576    | 64 slots × 608 (one per thread): v128 staging [2] at +0 (tail stores, the two   |
 * |                |   distances of Φ), v128 point scratch [12, 3] (x, y, z of four envs) at +32     |
 *
 * Finished-episode statistics are not part of the table: the env computes them from the batch's finalEpisode*
 * fields (engine/env.ts, shaping/stats.ts).
 *
 * Point indices count the task's points first (batch.points order), then derived points in evaluation order.
 */
import { KERNEL_RESERVED_BYTES, type BatchLayout } from '../batch.ts';
import {
  derivedOrder, isShiftPoint, MAX_LEAVES, MAX_POINTS, MAX_STAGES, SHAPING_MODES, type LeafPredicate, type ShapingConfig, type SubgoalSpec,
} from './spec.ts';

export const TABLE_MAGIC = 0x534e5243;
export const TABLE_VERSION = 4;

export const H_MAGIC = 0, H_VERSION = 4, H_NUM_BASE = 8, H_NUM_POINTS = 12, H_NUM_STAGES = 16, H_MODE = 20, H_NUM_DERIVED = 24;
/** Batch fields whose addresses the header holds, in order from byte 32. */
export const TABLE_FIELDS = [
  'reward', 'shapedReward', 'potential', 'rewardTerms', 'points', 'gripperOpening', 'episodeReturn', 'episodeShapedReturn',
  'episodeTermSums', 'stage', 'maxStage', 'terminated', 'truncated', 'success', 'done', 'bestProgress',
] as const;
export const PTR_FIRST = 32;
export const H_GAMMA = 96, H_WEIGHT = 104, H_BONUS = 112;
export const DERIVED_OFFSET = 128, DERIVED_BYTES = 32, MAX_DERIVED = 8;
export const D_FROM = 0, D_AWAY = 4, D_XY = 8, D_KIND = 12, D_OFFSET = 16, D_SHIFT = 16;
/** Derived point kinds: p = from + offset · unit(from − awayFrom) (OffsetPoint), p = from + shift (ShiftPoint). */
export const DERIVED_AWAY = 1, DERIVED_SHIFT = 2;
export const STAGES_OFFSET = 384, STAGE_BYTES = 160, ST_LEAVES = 32, LEAF_BYTES = 32;
export const SLOTS_OFFSET = 1664, SLOT_BYTES = 608, MAX_SLOTS = 64;
/** Slot offsets: v128 [2] staging, then v128 [MAX_POINTS, 3] point scratch. */
export const SL_TMP = 0, SL_POINTS = 32;
export const TABLE_BYTES = SLOTS_OFFSET + MAX_SLOTS * SLOT_BYTES;
/** Default byte address of the table in the batch memory: at the top of the reserved bytes (24960 of 65536). */
export const SHAPING_TABLE_OFFSET = Math.floor((KERNEL_RESERVED_BYTES - TABLE_BYTES) / 64) * 64;

const fround = Math.fround;

export const LEAF_DISTANCE = 1, LEAF_HEIGHT = 2, LEAF_GRIPPER_CLOSED = 3, LEAF_GRIPPER_OPEN = 4;

if (SL_TMP + 32 !== SL_POINTS || SL_POINTS + MAX_POINTS * 48 !== SLOT_BYTES || SLOT_BYTES % 16 !== 0) {
  throw new Error('shaping table: slot layout constants disagree');
}
if (STAGES_OFFSET + MAX_STAGES * STAGE_BYTES !== SLOTS_OFFSET || ST_LEAVES + MAX_LEAVES * LEAF_BYTES !== STAGE_BYTES) {
  throw new Error('shaping table: stage layout constants disagree');
}
if (SHAPING_TABLE_OFFSET < 0) throw new Error(`shaping table: ${TABLE_BYTES} bytes do not fit the ${KERNEL_RESERVED_BYTES} reserved bytes`);

/** One compiled leaf predicate: kind LEAF_*, point indices a and b, xy flag, threshold or level (f32-rounded). */
export interface CompiledLeaf {
  kind: number;
  a: number;
  b: number;
  xy: boolean;
  value: number;
}

/** One compiled derived point: point indices, numbers rounded to f32 (kind DERIVED_AWAY or DERIVED_SHIFT). */
export type CompiledDerived =
  | { kind: typeof DERIVED_AWAY; from: number; away: number; xy: boolean; offset: number }
  | { kind: typeof DERIVED_SHIFT; from: number; shift: [number, number, number] };

/** A spec with names resolved to point indices and numbers rounded to f32: what kernel and reference evaluate. */
export interface CompiledSpec {
  /** P: points the task writes to batch.points per env. */
  numBase: number;
  /** Every point name: the task's, then derived points in evaluation order. */
  pointNames: string[];
  derived: CompiledDerived[];
  stages: { name: string; leaves: CompiledLeaf[]; progA: number; progB: number; progXY: boolean; sigma: number }[];
}

/** Resolves a validated spec against the task's point names. */
export function compileSubgoalSpec(spec: SubgoalSpec, taskPoints: readonly string[]): CompiledSpec {
  const derivedSpec = spec.points ?? {};
  const order = derivedOrder(derivedSpec);
  const names = [...taskPoints, ...order];
  const at = (n: string): number => {
    const j = names.indexOf(n);
    if (j < 0) throw new Error(`subgoals: unknown point '${n}' (known: ${names.join(', ')})`);
    return j;
  };
  const leaf = (p: LeafPredicate): CompiledLeaf => {
    if (p.kind === 'distance') return { kind: LEAF_DISTANCE, a: at(p.a), b: at(p.b), xy: p.xy ?? false, value: fround(p.below) };
    if (p.kind === 'height') return { kind: LEAF_HEIGHT, a: at(p.point), b: 0, xy: false, value: fround(p.above) };
    return { kind: p.state === 'closed' ? LEAF_GRIPPER_CLOSED : LEAF_GRIPPER_OPEN, a: 0, b: 0, xy: false, value: fround(p.threshold) };
  };
  return {
    numBase: taskPoints.length,
    pointNames: names,
    derived: order.map((n): CompiledDerived => {
      const d = derivedSpec[n];
      if (isShiftPoint(d)) return { kind: DERIVED_SHIFT, from: at(d.from), shift: [fround(d.shift[0]), fround(d.shift[1]), fround(d.shift[2])] };
      return { kind: DERIVED_AWAY, from: at(d.from), away: at(d.awayFrom), xy: d.xy ?? false, offset: fround(d.offset) };
    }),
    stages: spec.stages.map((s) => ({
      name: s.name,
      leaves: s.predicate.kind === 'all' ? s.predicate.of.map(leaf) : [leaf(s.predicate)],
      progA: at(s.progress.a),
      progB: at(s.progress.b),
      progXY: s.progress.xy ?? false,
      sigma: fround(s.progress.sigma),
    })),
  };
}

/** Mode number as the kernel reads it (= index of the mode's term in rewardTerms). */
export function modeIndex(mode: ShapingConfig['mode']): number {
  return SHAPING_MODES.indexOf(mode);
}

/** Checks that a table placed at `offset` lies inside the reserved scratch and is 16-byte aligned. */
export function checkTableOffset(offset: number): void {
  if (!Number.isInteger(offset) || offset % 16 !== 0 || offset < 0 || offset + TABLE_BYTES > KERNEL_RESERVED_BYTES) {
    throw new Error(`shaping: table offset must be a multiple of 16 in [0, ${KERNEL_RESERVED_BYTES - TABLE_BYTES}], got ${offset}`);
  }
}

/**
 * Writes the spec part of the table (everything before the config and the slots): header, batch addresses,
 * derived points and stages. Returns the bytes written so an attaching thread can compare them.
 */
export function encodeSpec(c: CompiledSpec, layout: BatchLayout): Uint8Array {
  const bytes = new Uint8Array(SLOTS_OFFSET);
  const v = new DataView(bytes.buffer);
  v.setInt32(H_MAGIC, TABLE_MAGIC, true);
  v.setInt32(H_VERSION, TABLE_VERSION, true);
  v.setInt32(H_NUM_BASE, c.numBase, true);
  v.setInt32(H_NUM_POINTS, c.pointNames.length, true);
  v.setInt32(H_NUM_STAGES, c.stages.length, true);
  v.setInt32(H_NUM_DERIVED, c.derived.length, true);
  TABLE_FIELDS.forEach((f, j) => v.setUint32(PTR_FIRST + 4 * j, layout.offsets[f], true));
  c.derived.forEach((d, j) => {
    const e = DERIVED_OFFSET + j * DERIVED_BYTES;
    v.setInt32(e + D_FROM, d.from, true);
    v.setInt32(e + D_KIND, d.kind, true);
    if (d.kind === DERIVED_SHIFT) {
      d.shift.forEach((x, c) => v.setFloat32(e + D_SHIFT + 4 * c, x, true));
    } else {
      v.setInt32(e + D_AWAY, d.away, true);
      v.setInt32(e + D_XY, d.xy ? 1 : 0, true);
      v.setFloat32(e + D_OFFSET, d.offset, true);
    }
  });
  c.stages.forEach((s, k) => {
    const e = STAGES_OFFSET + k * STAGE_BYTES;
    v.setInt32(e, s.leaves.length, true);
    v.setInt32(e + 4, s.progA, true);
    v.setInt32(e + 8, s.progB, true);
    v.setInt32(e + 12, s.progXY ? 1 : 0, true);
    v.setFloat32(e + 16, s.sigma, true);
    s.leaves.forEach((l, j) => {
      const o = e + ST_LEAVES + j * LEAF_BYTES;
      v.setInt32(o, l.kind, true);
      v.setInt32(o + 4, l.a, true);
      v.setInt32(o + 8, l.b, true);
      v.setInt32(o + 12, l.xy ? 1 : 0, true);
      v.setFloat32(o + 16, l.value, true);
    });
  });
  return bytes;
}

/** Bytes of the encoded spec that the config does not touch (mode and gamma/weight/bonus are skipped). */
export function specBytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  for (let j = 0; j < SLOTS_OFFSET; j++) {
    if ((j >= H_MODE && j < H_MODE + 4) || (j >= H_GAMMA && j < H_BONUS + 8)) continue;
    if (a[j] !== b[j]) return false;
  }
  return true;
}

/** Writes mode, gamma, weight and bonus (NaN when it follows the weight) into the table at `base`. */
export function writeConfig(memory: WebAssembly.Memory, base: number, config: ShapingConfig): void {
  const v = new DataView(memory.buffer, base, SLOTS_OFFSET);
  v.setInt32(H_MODE, modeIndex(config.mode), true);
  v.setFloat64(H_GAMMA, config.gamma, true);
  v.setFloat64(H_WEIGHT, config.weight, true);
  v.setFloat64(H_BONUS, config.bonus ?? NaN, true);
}

/** Reads the config back from the table at `base`. */
export function readConfig(memory: WebAssembly.Memory, base: number): ShapingConfig {
  const v = new DataView(memory.buffer, base, SLOTS_OFFSET);
  const out: ShapingConfig = { mode: SHAPING_MODES[v.getInt32(H_MODE, true)], gamma: v.getFloat64(H_GAMMA, true), weight: v.getFloat64(H_WEIGHT, true) };
  const bonus = v.getFloat64(H_BONUS, true);
  if (!Number.isNaN(bonus)) out.bonus = bonus;
  return out;
}

/** Re-exported for engine/env.ts, which imports it from here; it is defined in stats.ts. */
