// Flat layout of the MLP table that engine/nn/wasm-layout.ts writes into the backend's memory (at 64 KiB):
// sizes and the byte addresses of every buffer the kernels in assembly/mlp.ts read and write. Offsets are in
// bytes from the table base, every field an i32 (sizes) or u32 (byte addresses). engine/nn/wasm-layout.ts
// holds the same numbers; the glue checks the exported MLP_LAYOUT_* globals against its own at instantiation.

/** Magic word at offset 0 ('CMLP' little-endian). */
export const MAGIC: i32 = 0x504c4d43;
/** Layout version; bump with any change below. */
export const VERSION: i32 = 1;
/** Most hidden layers a net may have. */
export const MAX_HIDDEN: i32 = 8;
/** Table size, bytes. */
export const TABLE_BYTES: i32 = 512;

// Header (i32).
export const T_MAGIC: i32 = 0;
export const T_VERSION: i32 = 4;
export const T_OBS_DIM: i32 = 8;
export const T_ACT_DIM: i32 = 12;
/** Hidden layers L; each net has L + 1 dense layers. */
export const T_NUM_HIDDEN: i32 = 16;
export const T_MAX_BATCH: i32 = 20;
/** Parameters P (f32 elements). */
export const T_NUM_PARAMS: i32 = 24;

// Buffers (u32 byte addresses).
/** [P] parameters, engine/nn/param-layout.ts order. */
export const P_PARAMS: i32 = 32;
/** [P] gradient, same layout. */
export const P_GRAD: i32 = 36;
/** [P] Adam first moment. */
export const P_ADAM_M: i32 = 40;
/** [P] Adam second moment. */
export const P_ADAM_V: i32 = 44;
/** [maxBatch, obsDim] observations. */
export const P_OBS: i32 = 48;
/** [maxBatch, actDim] minibatch actions (logProb and loss read them). */
export const P_ACTIONS: i32 = 52;
/** [maxBatch] old log-probabilities. */
export const P_OLD_LOGP: i32 = 56;
/** [maxBatch] advantages. */
export const P_ADV: i32 = 60;
/** [maxBatch] returns. */
export const P_RETURNS: i32 = 64;
/** [maxBatch] old values. */
export const P_OLD_VALUES: i32 = 68;
/** [maxBatch, actDim] sampled actions. */
export const P_ACTION_OUT: i32 = 72;
/** [maxBatch] log-probabilities out. */
export const P_LOGP_OUT: i32 = 76;
/** [maxBatch, actDim] dLoss/dmean. */
export const P_DMEAN: i32 = 80;
/** [maxBatch] dLoss/dvalue. */
export const P_DVALUE: i32 = 84;
/** [maxBatch, max hidden width] backward ping-pong buffers. */
export const P_DELTA_A: i32 = 88;
export const P_DELTA_B: i32 = 92;
/** [STATS_COUNT] f64 loss statistics out (S_*). */
export const P_STATS: i32 = 96;
/** [actDim] f64 scratch: dLoss/dlogStd accumulators. */
export const P_LOGSTD_ACC: i32 = 100;
/** Address of logStd [actDim] inside the parameters. */
export const P_LOG_STD: i32 = 104;

// Layers: policy layer l at POLICY_LAYERS + l * LAYER_BYTES, value layer l at VALUE_LAYERS + l * LAYER_BYTES.
export const POLICY_LAYERS: i32 = 128;
export const VALUE_LAYERS: i32 = 320;
export const LAYER_BYTES: i32 = 20;
export const L_IN: i32 = 0; // i32 input width
export const L_OUT: i32 = 4; // i32 output width
export const L_W: i32 = 8; // u32 address of the [out, in] weight
export const L_B: i32 = 12; // u32 address of the [out] bias
export const L_ACT: i32 = 16; // u32 address of the [maxBatch, out] output activations

// Statistics (f64 slots at P_STATS).
export const S_LOSS: i32 = 0;
export const S_PG_LOSS: i32 = 1;
export const S_V_LOSS: i32 = 2;
export const S_ENTROPY: i32 = 3;
export const S_APPROX_KL: i32 = 4;
export const S_CLIP_FRAC: i32 = 5;
export const S_ADV_MEAN: i32 = 6;
export const S_ADV_STD: i32 = 7;
export const STATS_COUNT: i32 = 8;
