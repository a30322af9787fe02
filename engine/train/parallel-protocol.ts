/**
 * The control block shared by ParallelWasmBackend (main thread) and its kernel workers, one SharedArrayBuffer:
 * per worker PAR_INTS int32 slots, PAR_F64S float64 slots and PAR_MESSAGE_BYTES of UTF-8 text (an error
 * message coming out). The main thread writes the arguments, bumps SEQ and notifies; the worker runs the
 * command on its lane's table, writes STATUS and sets DONE = SEQ (the sim workers' protocol, engine/workers/).
 *
 * | ints slot   | meaning                              | f64 slot   | meaning   |
 * |-------------|--------------------------------------|------------|-----------|
 * | SEQ, DONE   | command sequence number, last done   | CLIP_COEF  | clipCoef  |
 * | CMD, STATUS | command, STATUS_OK / STATUS_ERROR    | ENT_COEF   | entCoef   |
 * | N           | rows of the lane                     | VF_COEF    | vfCoef    |
 * | SEED, STEP, ENV_OFFSET, DETERMINISTIC | act()'s Philox arguments (uint32 stored as int32) | | |
 * | CLIP_VLOSS  | 1 to clip the value loss             |            |           |
 * | MESSAGE_LEN | bytes of the error message           |            |           |
 */
export const PAR_INTS = 16;
export const PAR_F64S = 4;
export const PAR_MESSAGE_BYTES = 2048;
/** Int32 slots. */
export const PAR_SEQ = 0, PAR_CMD = 1, PAR_DONE = 2, PAR_STATUS = 3, PAR_N = 4, PAR_SEED = 5, PAR_STEP = 6, PAR_ENV_OFFSET = 7;
export const PAR_DETERMINISTIC = 8, PAR_CLIP_VLOSS = 9, PAR_MESSAGE_LEN = 10;
/** Float64 slots. */
export const PAR_CLIP_COEF = 0, PAR_ENT_COEF = 1, PAR_VF_COEF = 2;
/** Commands: forward both nets and the loss gradient (advantages already normalized); forward and sample; value net only; stop. */
export const PAR_CMD_GRAD = 1, PAR_CMD_ACT = 2, PAR_CMD_VALUE = 3, PAR_CMD_CLOSE = 4;
export const PAR_STATUS_OK = 0, PAR_STATUS_ERROR = 1;

const STRIDE = PAR_INTS * 4 + PAR_F64S * 8 + PAR_MESSAGE_BYTES;

/** One worker's views of the control block. */
export interface ParControl {
  ints: Int32Array;
  f64: Float64Array;
  text: Uint8Array;
}

/** Byte size of the control block for numWorkers workers. */
export function parControlBytes(numWorkers: number): number {
  return Math.max(1, numWorkers) * STRIDE;
}

/** Views of worker w's slots. */
export function parControl(sab: SharedArrayBuffer, w: number): ParControl {
  const at = w * STRIDE;
  return {
    ints: new Int32Array(sab, at, PAR_INTS),
    f64: new Float64Array(sab, at + PAR_INTS * 4, PAR_F64S),
    text: new Uint8Array(sab, at + PAR_INTS * 4 + PAR_F64S * 8, PAR_MESSAGE_BYTES),
  };
}

/** Writes an error message (truncated to fit). */
export function parWriteMessage(c: ParControl, msg: string): void {
  const { written } = new TextEncoder().encodeInto(msg, c.text);
  Atomics.store(c.ints, PAR_MESSAGE_LEN, written);
}

/** Reads the last error message. */
export function parReadMessage(c: ParControl): string {
  return new TextDecoder().decode(c.text.slice(0, Atomics.load(c.ints, PAR_MESSAGE_LEN)));
}

/** What the main thread hands each worker at start. */
export interface ParallelWorkerData {
  /** The shared memory every lane works in. */
  memory: WebAssembly.Memory;
  /** The compiled shared-memory kernel (build/assembly/mlp.shared.wasm). */
  module: WebAssembly.Module;
  control: SharedArrayBuffer;
  /** Worker index (its control slot); it runs lane index + 1. */
  index: number;
  /** Byte address of its lane's table. */
  table: number;
}
