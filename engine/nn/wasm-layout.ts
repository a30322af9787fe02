/**
 * Memory layout of the WASM CPU backend: one WebAssembly.Memory the backend owns, the kernel's static data
 * below 64 KiB (AssemblyScript's math tables, ~7 KiB), then the MLP table and every buffer at fixed byte
 * addresses, each 64-byte aligned and followed by at least 64 bytes of slack (the kernels' masked vector
 * loads may read up to 12 bytes past a row).
 *
 * | buffer                | shape                 | type |
 * |-----------------------|-----------------------|------|
 * | table                 | TABLE_BYTES           | i32/u32 fields, see assembly/lib/mlp-layout.ts |
 * | params, grad, m, v    | [P] each              | f32  |
 * | obs                   | [maxBatch, obsDim]    | f32  |
 * | actions, actionOut, dMean | [maxBatch, actDim] | f32  |
 * | oldLogProb, advantages, returns, oldValues, logProbOut, dValue | [maxBatch] | f32 |
 * | deltaA, deltaB        | [maxBatch, max(hidden)] | f32 |
 * | stats                 | [STATS_COUNT]         | f64  |
 * | logStdAcc             | [actDim]              | f64  |
 * | policy activations l  | [maxBatch, out_l], l = 0..L (the last is the mean) | f32 |
 * | value activations l   | [maxBatch, out_l], l = 0..L (the last is the value) | f32 |
 *
 * The numbers below mirror assembly/lib/mlp-layout.ts; the glue checks the kernel's MLP_LAYOUT_* exports.
 */
import type { ParamLayout } from './param-layout.ts';

/** Layout version, equal to the kernel's MLP_LAYOUT_VERSION. */
export const MLP_LAYOUT_VERSION = 1;
/** Magic word of the table ('CMLP'). */
export const MLP_MAGIC = 0x504c4d43;
/** Table size, bytes. */
export const MLP_TABLE_BYTES = 512;
/** Most hidden layers per net. */
export const MLP_MAX_HIDDEN = 8;
/** First byte the glue may use; the kernel's static data lies below. */
export const MLP_HEAP_BASE = 65536;
/** f64 statistics slots written by lossBackward. */
export const STATS_COUNT = 8;
/** Indices of the statistics slots. */
export const S_LOSS = 0, S_PG_LOSS = 1, S_V_LOSS = 2, S_ENTROPY = 3, S_APPROX_KL = 4, S_CLIP_FRAC = 5, S_ADV_MEAN = 6, S_ADV_STD = 7;

// Table field offsets (bytes), as in assembly/lib/mlp-layout.ts.
const T_MAGIC = 0, T_VERSION = 4, T_OBS_DIM = 8, T_ACT_DIM = 12, T_NUM_HIDDEN = 16, T_MAX_BATCH = 20, T_NUM_PARAMS = 24;
const P_PARAMS = 32, P_GRAD = 36, P_ADAM_M = 40, P_ADAM_V = 44, P_OBS = 48, P_ACTIONS = 52, P_OLD_LOGP = 56, P_ADV = 60;
const P_RETURNS = 64, P_OLD_VALUES = 68, P_ACTION_OUT = 72, P_LOGP_OUT = 76, P_DMEAN = 80, P_DVALUE = 84, P_DELTA_A = 88;
const P_DELTA_B = 92, P_STATS = 96, P_LOGSTD_ACC = 100, P_LOG_STD = 104;
const POLICY_LAYERS = 128, VALUE_LAYERS = 320, LAYER_BYTES = 20;

/** Byte addresses of every buffer in the backend's memory. */
export interface WasmLayout {
  table: number;
  params: number;
  grad: number;
  adamM: number;
  adamV: number;
  obs: number;
  actions: number;
  oldLogProb: number;
  advantages: number;
  returns: number;
  oldValues: number;
  actionOut: number;
  logProbOut: number;
  dMean: number;
  dValue: number;
  deltaA: number;
  deltaB: number;
  stats: number;
  logStdAcc: number;
  /** Output activations of each policy layer; the last is the mean [maxBatch, actDim]. */
  policyActs: number[];
  /** Output activations of each value layer; the last is the value [maxBatch]. */
  valueActs: number[];
  /** Total bytes used. */
  bytes: number;
  /** WebAssembly pages (64 KiB) the memory needs. */
  pages: number;
}

/** Lays out the buffers of a backend for this parameter layout and row capacity. */
export function wasmLayout(layout: ParamLayout, maxBatch: number): WasmLayout {
  const { obsDim, actDim, hidden } = layout;
  if (hidden.length > MLP_MAX_HIDDEN) throw new Error(`the WASM backend supports at most ${MLP_MAX_HIDDEN} hidden layers, got ${hidden.length}`);
  let at = MLP_HEAP_BASE;
  const take = (bytes: number): number => {
    const p = at;
    at = Math.ceil((at + bytes + 64) / 64) * 64;
    return p;
  };
  const P = layout.size;
  const maxWidth = Math.max(1, ...hidden);
  const f32 = (n: number): number => take(4 * n);
  const l: Omit<WasmLayout, 'bytes' | 'pages'> = {
    table: take(MLP_TABLE_BYTES),
    params: f32(P),
    grad: f32(P),
    adamM: f32(P),
    adamV: f32(P),
    obs: f32(maxBatch * obsDim),
    actions: f32(maxBatch * actDim),
    oldLogProb: f32(maxBatch),
    advantages: f32(maxBatch),
    returns: f32(maxBatch),
    oldValues: f32(maxBatch),
    actionOut: f32(maxBatch * actDim),
    logProbOut: f32(maxBatch),
    dMean: f32(maxBatch * actDim),
    dValue: f32(maxBatch),
    deltaA: f32(maxBatch * maxWidth),
    deltaB: f32(maxBatch * maxWidth),
    stats: take(8 * STATS_COUNT),
    logStdAcc: take(8 * actDim),
    policyActs: layout.policyLayers.map((s) => f32(maxBatch * s.outDim)),
    valueActs: layout.valueLayers.map((s) => f32(maxBatch * s.outDim)),
  };
  return { ...l, bytes: at, pages: Math.ceil(at / 65536) };
}

/** Writes the table the kernels read (sizes, buffer addresses, layer descriptors) into memory. */
export function writeTable(memory: WebAssembly.Memory, layout: ParamLayout, w: WasmLayout, maxBatch: number): void {
  const dv = new DataView(memory.buffer, w.table, MLP_TABLE_BYTES);
  const i32 = (off: number, v: number): void => dv.setInt32(off, v, true);
  const u32 = (off: number, v: number): void => dv.setUint32(off, v, true);
  for (let k = 0; k < MLP_TABLE_BYTES; k += 4) u32(k, 0);
  i32(T_MAGIC, MLP_MAGIC);
  i32(T_VERSION, MLP_LAYOUT_VERSION);
  i32(T_OBS_DIM, layout.obsDim);
  i32(T_ACT_DIM, layout.actDim);
  i32(T_NUM_HIDDEN, layout.hidden.length);
  i32(T_MAX_BATCH, maxBatch);
  i32(T_NUM_PARAMS, layout.size);
  const ptrs: [number, number][] = [
    [P_PARAMS, w.params], [P_GRAD, w.grad], [P_ADAM_M, w.adamM], [P_ADAM_V, w.adamV], [P_OBS, w.obs], [P_ACTIONS, w.actions],
    [P_OLD_LOGP, w.oldLogProb], [P_ADV, w.advantages], [P_RETURNS, w.returns], [P_OLD_VALUES, w.oldValues], [P_ACTION_OUT, w.actionOut],
    [P_LOGP_OUT, w.logProbOut], [P_DMEAN, w.dMean], [P_DVALUE, w.dValue], [P_DELTA_A, w.deltaA], [P_DELTA_B, w.deltaB], [P_STATS, w.stats],
    [P_LOGSTD_ACC, w.logStdAcc], [P_LOG_STD, w.params + 4 * layout.logStdOffset],
  ];
  for (const [off, v] of ptrs) u32(off, v);
  const nets: [number, typeof layout.policyLayers, number[]][] = [[POLICY_LAYERS, layout.policyLayers, w.policyActs], [VALUE_LAYERS, layout.valueLayers, w.valueActs]];
  for (const [base, layers, acts] of nets) {
    layers.forEach((s, i) => {
      const e = base + i * LAYER_BYTES;
      i32(e, s.inDim);
      i32(e + 4, s.outDim);
      u32(e + 8, w.params + 4 * s.weightOffset);
      u32(e + 12, w.params + 4 * s.biasOffset);
      u32(e + 16, acts[i]);
    });
  }
}
