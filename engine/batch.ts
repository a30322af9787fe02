/**
 * The batch: every per-env array of one vector env, struct-of-arrays, cut from one WebAssembly.Memory.
 *
 * One memory holds everything so that AssemblyScript kernels work on the batch where it lives
 * (a kernel gets `byteOffset` pointers and a count), and worker threads share it when the memory is
 * shared (its buffer is then a SharedArrayBuffer). The memory never grows (maximum = initial), so the
 * views below stay valid for the life of the batch.
 *
 * Flat layout, in this order, each field starting on a 16-byte boundary after KERNEL_RESERVED_BYTES
 * (N = numEnvs, O = obsDim, A = actDim, G = goalDim, P = numPoints, T = MAX_REWARD_TERMS, B = numBodies,
 * S = numSceneParams, W = stateRowWidth). The state block (every env's full state: what a reset samples and what snapshot/restore
 * copies) is bodyPose, bodyVel, fingerPos, fingerVel, mocapTarget, fingerTarget, desiredGoal, sceneParams,
 * episodeStep, episodeIndex and the shaping latch, potential and best progress (stage, maxStage, potential, bestProgress); every other
 * field is derived from it or belongs to the transition. Positions are env-local, z up.
 *
 * | field               | type    | shape   | meaning                                                    |
 * |---------------------|---------|---------|------------------------------------------------------------|
 * | obs                 | f32     | [N, O]  | observation returned by reset/step                         |
 * | action              | f32     | [N, A]  | action of the current step, clipped to [-1, 1]             |
 * | achievedGoal        | f32     | [N, G]  | achieved goal of the returned state                        |
 * | desiredGoal         | f32     | [N, G]  | desired goal of the returned state                         |
 * | finalObs            | f32     | [N, O]  | last observation of an episode that ended at this step     |
 * | finalAchievedGoal   | f32     | [N, G]  | achieved goal of that last state                           |
 * | finalDesiredGoal    | f32     | [N, G]  | desired goal of that last state                            |
 * | reward              | f32     | [N]     | task reward of the transition (sparse: -1 or 0)            |
 * | shapedReward        | f32     | [N]     | reward the learner should use (= reward when unshaped)     |
 * | potential           | f32     | [N]     | Φ of the returned state, after any reset                   |
 * | bestProgress        | f32     | [N]     | highest subgoal progress P = j + g(d_j/σ_j) of the running episode (shaping mode 'progress') |
 * | rewardTerms         | f32     | [N, T]  | each reward term of the transition, logged separately      |
 * | points              | f32     | [N,P,3] | named task points (env-local metres), for subgoal specs    |
 * | gripperOpening      | f32     | [N]     | finger opening, metres (0 = closed)                        |
 * | episodeReturn       | f32     | [N]     | sum of `reward` in the running episode                     |
 * | episodeShapedReturn | f32     | [N]     | sum of `shapedReward` in the running episode               |
 * | episodeTermSums     | f32     | [N, T]  | per-term sums in the running episode                       |
 * | stage               | i32     | [N]     | latched subgoal stage of the returned state                |
 * | maxStage            | i32     | [N]     | highest stage reached in the running episode               |
 * | episodeStep         | i32     | [N]     | control steps taken in the running episode                 |
 * | episodeIndex        | i32     | [N]     | episodes started by this env since the last seeding        |
 * | terminated          | u8      | [N]     | 1 when the episode ended in a terminal state at this step  |
 * | truncated           | u8      | [N]     | 1 when the episode hit its time limit at this step         |
 * | success             | u8      | [N]     | 1 when the state reached by the transition is a success    |
 * | done                | u8      | [N]     | terminated or truncated (the env was reset after it)       |
 * | bodyPose            | f32     | [N,B,7] | body 0 the grip site, 1..K the objects: x, y, z, qx, qy, qz, qw |
 * | bodyVel             | f32     | [N,B,6] | linear (m/s) then angular (rad/s) velocity of each body    |
 * | fingerPos           | f32     | [N, 2]  | finger half-openings (+y, −y), m; 0 = closed, ≤ 0.05       |
 * | fingerVel           | f32     | [N, 2]  | finger opening speeds, m/s                                 |
 * | mocapTarget         | f32     | [N, 3]  | where the gripper is driven this control step, m           |
 * | fingerTarget        | f32     | [N, 2]  | finger half-opening targets, m                             |
 * | sceneParams         | f32     | [N, S]  | the episode's randomized scene (engine/domain-randomization.ts) |
 * | finalEpisodeReturn  | f32     | [N]     | sparse return of the episode that ended at this step       |
 * | finalEpisodeShapedReturn | f32 | [N]    | shaped return of that episode                              |
 * | finalEpisodeTermSums| f32     | [N, T]  | per-term sums of that episode                              |
 * | finalEpisodeLength  | i32     | [N]     | control steps of that episode                              |
 * | finalEpisodeMaxStage| i32     | [N]     | highest subgoal stage that episode latched                 |
 * | finalEpisodeSuccess | u8      | [N]     | success of its last state                                  |
 * | pendingWrite        | u8      | [N]     | 1 where setState put a row into the block that the World has yet to take |
 * | finalState          | f32     | [N, W]  | snapshot row (engine/state.ts) of the last state of an episode that ended at this step |
 * | penalties           | f64     | [N, 3]  | action, bound and infraction costs (≥ 0) of the transition (engine/penalties.ts), f64 so the learner's reward is exact |
 *
 * The finalEpisode* fields are written where done = 1 (as finalObs is), with or without shaping, and keep
 * their value elsewhere.
 */

/**
 * Bytes at the start of the memory left to kernels: [0, 24960) for kernels' static data, [24960, 65536) for
 * the shaping table and its per-thread scratch (engine/shaping/table.ts).
 */
export const KERNEL_RESERVED_BYTES = 65536;
/** Most reward terms a shaping mode can log per env. */
export const MAX_REWARD_TERMS = 12;
/** Field alignment in bytes (one f32x4 SIMD lane group). */
export const FIELD_ALIGN = 16;
/** WebAssembly page size in bytes. */
export const WASM_PAGE_BYTES = 65536;

/** The sizes a batch is laid out for. */
export interface BatchDims {
  numEnvs: number;
  obsDim: number;
  actDim: number;
  goalDim: number;
  numPoints: number;
  /** Bodies per env in the state block (gripper + objects); 0 for a batch without one. */
  numBodies?: number;
  /** Randomized scene parameters per env; 0 for a batch without them. */
  numSceneParams?: number;
}

type FieldKind = 'f64' | 'f32' | 'i32' | 'u8';
type FieldSpec = readonly [name: string, kind: FieldKind, width: (d: BatchDims) => number];

/** Field order and per-env widths; the table in this file's header documents the same list. */
export const BATCH_FIELDS = [
  ['obs', 'f32', (d) => d.obsDim],
  ['action', 'f32', (d) => d.actDim],
  ['achievedGoal', 'f32', (d) => d.goalDim],
  ['desiredGoal', 'f32', (d) => d.goalDim],
  ['finalObs', 'f32', (d) => d.obsDim],
  ['finalAchievedGoal', 'f32', (d) => d.goalDim],
  ['finalDesiredGoal', 'f32', (d) => d.goalDim],
  ['reward', 'f32', () => 1],
  ['shapedReward', 'f32', () => 1],
  ['potential', 'f32', () => 1],
  ['bestProgress', 'f32', () => 1],
  ['rewardTerms', 'f32', () => MAX_REWARD_TERMS],
  ['points', 'f32', (d) => d.numPoints * 3],
  ['gripperOpening', 'f32', () => 1],
  ['episodeReturn', 'f32', () => 1],
  ['episodeShapedReturn', 'f32', () => 1],
  ['episodeTermSums', 'f32', () => MAX_REWARD_TERMS],
  ['stage', 'i32', () => 1],
  ['maxStage', 'i32', () => 1],
  ['episodeStep', 'i32', () => 1],
  ['episodeIndex', 'i32', () => 1],
  ['terminated', 'u8', () => 1],
  ['truncated', 'u8', () => 1],
  ['success', 'u8', () => 1],
  ['done', 'u8', () => 1],
  ['bodyPose', 'f32', (d) => (d.numBodies ?? 0) * 7],
  ['bodyVel', 'f32', (d) => (d.numBodies ?? 0) * 6],
  ['fingerPos', 'f32', () => 2],
  ['fingerVel', 'f32', () => 2],
  ['mocapTarget', 'f32', () => 3],
  ['fingerTarget', 'f32', () => 2],
  ['sceneParams', 'f32', (d) => d.numSceneParams ?? 0],
  ['finalEpisodeReturn', 'f32', () => 1],
  ['finalEpisodeShapedReturn', 'f32', () => 1],
  ['finalEpisodeTermSums', 'f32', () => MAX_REWARD_TERMS],
  ['finalEpisodeLength', 'i32', () => 1],
  ['finalEpisodeMaxStage', 'i32', () => 1],
  ['finalEpisodeSuccess', 'u8', () => 1],
  ['pendingWrite', 'u8', () => 1],
  ['finalState', 'f32', (d) => stateRowWidth(d)],
  ['penalties', 'f64', () => 3],
] as const satisfies readonly FieldSpec[];

/**
 * The state block's fields, in the order a snapshot row (engine/state.ts) packs them: everything an env's next step
 * depends on, apart from Rapier's contact caches.
 */
export const STATE_FIELDS = [
  'bodyPose', 'bodyVel', 'fingerPos', 'fingerVel', 'mocapTarget', 'fingerTarget', 'desiredGoal', 'sceneParams', 'episodeStep', 'episodeIndex',
  'stage', 'maxStage', 'potential', 'bestProgress', 'episodeReturn', 'episodeShapedReturn', 'episodeTermSums',
] as const;

/** Floats in one snapshot row: the per-env widths of the STATE_FIELDS. */
export function stateRowWidth(d: BatchDims): number {
  let w = 0;
  for (const name of STATE_FIELDS) w += (BATCH_FIELDS as readonly FieldSpec[]).find((f) => f[0] === name)![2](d);
  return w;
}

type FieldName = (typeof BATCH_FIELDS)[number][0];
type FieldOf<K extends FieldKind> = Extract<(typeof BATCH_FIELDS)[number], readonly [string, K, unknown]>[0];

/** Byte offset of each field inside the memory, and the memory's size. */
export interface BatchLayout {
  dims: BatchDims;
  offsets: Record<FieldName, number>;
  /** Per-env element count of each field. */
  widths: Record<FieldName, number>;
  byteLength: number;
  pages: number;
}

const BYTES: Record<FieldKind, number> = { f64: 8, f32: 4, i32: 4, u8: 1 };

/** Computes the flat layout for the given sizes; throws on sizes that are not positive integers. */
export function batchLayout(dims: BatchDims): BatchLayout {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0 || (k === 'numEnvs' && v < 1)) throw new Error(`batch: ${k} must be a positive integer, got ${v}`);
  }
  const offsets = {} as Record<FieldName, number>;
  const widths = {} as Record<FieldName, number>;
  let at = KERNEL_RESERVED_BYTES;
  for (const [name, kind, width] of BATCH_FIELDS) {
    const w = width(dims);
    offsets[name] = at;
    widths[name] = w;
    at += Math.ceil((dims.numEnvs * w * BYTES[kind]) / FIELD_ALIGN) * FIELD_ALIGN;
  }
  const pages = Math.ceil(at / WASM_PAGE_BYTES);
  return { dims, offsets, widths, byteLength: at, pages };
}

/** Typed-array views of every field, over the whole batch (all envs). */
export type BatchViews = { [K in FieldOf<'f64'>]: Float64Array } & { [K in FieldOf<'f32'>]: Float32Array } & { [K in FieldOf<'i32'>]: Int32Array } & { [K in FieldOf<'u8'>]: Uint8Array };

/** A laid-out batch: the memory that holds it, the layout, and views of every field. */
export interface Batch extends BatchViews {
  memory: WebAssembly.Memory;
  layout: BatchLayout;
  numEnvs: number;
}

/** Cuts the views of a layout from a memory's buffer (used by the owner and by each worker). */
export function viewBatch(memory: WebAssembly.Memory, layout: BatchLayout): Batch {
  const buf = memory.buffer;
  if (buf.byteLength < layout.byteLength) throw new Error(`batch: memory holds ${buf.byteLength} bytes, layout needs ${layout.byteLength}`);
  const n = layout.dims.numEnvs;
  const views: Record<string, Float64Array | Float32Array | Int32Array | Uint8Array> = {};
  for (const [name, kind] of BATCH_FIELDS) {
    const len = n * layout.widths[name];
    const off = layout.offsets[name];
    views[name] = kind === 'f64' ? new Float64Array(buf, off, len) : kind === 'f32' ? new Float32Array(buf, off, len) : kind === 'i32' ? new Int32Array(buf, off, len) : new Uint8Array(buf, off, len);
  }
  return { ...(views as unknown as BatchViews), memory, layout, numEnvs: n };
}

/** Allocates a zeroed batch in a new fixed-size WebAssembly.Memory (shared when workers will use it). */
export function createBatch(dims: BatchDims, opts: { shared?: boolean } = {}): Batch {
  const layout = batchLayout(dims);
  const memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages, shared: opts.shared ?? false });
  return viewBatch(memory, layout);
}
