// Flat layout of the shaping table that engine/shaping/table.ts writes into the batch memory's reserved
// scratch (below KERNEL_RESERVED_BYTES). Every offset is in bytes from the table base, which the glue passes
// to each kernel entry. engine/shaping/table.ts holds the same numbers; the glue checks the exported
// SHAPING_LAYOUT_* globals against its own at instantiation, so the two cannot drift apart silently.

/** Magic word at offset 0 ('CRNS' little-endian). */
export const MAGIC: i32 = 0x534e5243;
/** Layout version; bump with any change below. */
export const VERSION: i32 = 4;

// Header: i32 words.
export const H_MAGIC: i32 = 0;
export const H_VERSION: i32 = 4;
/** Base points per env written by the task (P). */
export const H_NUM_BASE: i32 = 8;
/** Base plus derived points (P + D). */
export const H_NUM_POINTS: i32 = 12;
/** Stages K (>= 1). */
export const H_NUM_STAGES: i32 = 16;
/** Reward mode: MODE_*. */
export const H_MODE: i32 = 20;
/** Derived points D. */
export const H_NUM_DERIVED: i32 = 24;
// Byte offsets of batch fields inside the memory (u32).
export const PTR_REWARD: i32 = 32;
export const PTR_SHAPED: i32 = 36;
export const PTR_POTENTIAL: i32 = 40;
export const PTR_TERMS: i32 = 44;
export const PTR_POINTS: i32 = 48;
export const PTR_GRIPPER: i32 = 52;
export const PTR_EP_RETURN: i32 = 56;
export const PTR_EP_SHAPED: i32 = 60;
export const PTR_EP_TERMS: i32 = 64;
export const PTR_STAGE: i32 = 68;
export const PTR_MAX_STAGE: i32 = 72;
export const PTR_TERMINATED: i32 = 76;
export const PTR_TRUNCATED: i32 = 80;
export const PTR_SUCCESS: i32 = 84;
export const PTR_DONE: i32 = 88;
/** The episode's best progress P = j + g(d_j / σ_j) so far (mode 'progress'). */
export const PTR_BEST_PROGRESS: i32 = 92;
// Config: f64.
export const H_GAMMA: i32 = 96;
export const H_WEIGHT: i32 = 104;
export const H_BONUS: i32 = 112;

// Derived points, in evaluation order, of two kinds (D_KIND):
//   DERIVED_AWAY:  p = from + offset * (from - awayFrom) / |from - awayFrom|
//   DERIVED_SHIFT: p = from + shift (awayFrom and xy unused, 0)
export const DERIVED_OFFSET: i32 = 128;
export const DERIVED_BYTES: i32 = 32;
export const MAX_DERIVED: i32 = 8;
export const D_FROM: i32 = 0; // i32 point index
export const D_AWAY: i32 = 4; // i32 point index (DERIVED_AWAY)
export const D_XY: i32 = 8; // i32 1 = direction in the xy plane only (DERIVED_AWAY)
export const D_KIND: i32 = 12; // i32 DERIVED_*
export const D_OFFSET: i32 = 16; // f32 metres (DERIVED_AWAY)
export const D_SHIFT: i32 = 16; // f32 [3] x, y, z metres (DERIVED_SHIFT)

export const DERIVED_AWAY: i32 = 1;
export const DERIVED_SHIFT: i32 = 2;

// Stages, in order.
export const STAGES_OFFSET: i32 = 384;
export const STAGE_BYTES: i32 = 160;
export const MAX_STAGES: i32 = 8;
export const ST_NUM_LEAVES: i32 = 0; // i32, all must hold
export const ST_PROG_A: i32 = 4; // i32 point index
export const ST_PROG_B: i32 = 8; // i32 point index
export const ST_PROG_XY: i32 = 12; // i32
export const ST_SIGMA: i32 = 16; // f32 metres
export const ST_LEAVES: i32 = 32;
export const LEAF_BYTES: i32 = 32;
export const MAX_LEAVES: i32 = 4;
export const L_KIND: i32 = 0; // i32 LEAF_*
export const L_A: i32 = 4; // i32 point index
export const L_B: i32 = 8; // i32 point index
export const L_XY: i32 = 12; // i32
export const L_VALUE: i32 = 16; // f32 threshold or level

export const LEAF_DISTANCE: i32 = 1; // |a - b| < value
export const LEAF_HEIGHT: i32 = 2; // a.z > value
export const LEAF_GRIPPER_CLOSED: i32 = 3; // gripperOpening < value
export const LEAF_GRIPPER_OPEN: i32 = 4; // gripperOpening > value

// Per-slot scratch, one slot per thread that runs kernels on the batch: tail staging, then the point scratch.
export const SLOTS_OFFSET: i32 = 1664;
export const SLOT_BYTES: i32 = 608;
export const MAX_SLOTS: i32 = 64;
export const SL_TMP: i32 = 0; // v128 [2] staging: partial (tail) stores; the two distances potential() returns
export const SL_POINTS: i32 = 32; // v128 [MAX_POINTS, 3] scratch: x, y, z of 4 envs per point
export const MAX_POINTS: i32 = 12;

export const TABLE_BYTES: i32 = SLOTS_OFFSET + MAX_SLOTS * SLOT_BYTES;

// Reward modes; a mode's term sits at the same index of rewardTerms.
export const MODE_SPARSE: i32 = 0;
export const MODE_DENSE: i32 = 1;
export const MODE_PBRS: i32 = 2;
export const MODE_BONUS: i32 = 3;
export const MODE_GATED: i32 = 4;
export const MODE_PROGRESS: i32 = 5;
/** Width of a rewardTerms row (batch MAX_REWARD_TERMS). */
export const TERMS_STRIDE: i32 = 12;
