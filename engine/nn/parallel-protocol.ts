/**
 * The commands of ParallelWasmBackend's kernel workers on the engine/threads command block
 * (engine/threads/control.ts): per worker the protocol's int slots, then these argument slots, and 2 KiB of
 * text for an error message.
 *
 * | int slot    | meaning                                       | f64 slot   | meaning   |
 * |-------------|-----------------------------------------------|------------|-----------|
 * | PAR_N       | rows of the lane                              | CLIP_COEF  | clipCoef  |
 * | PAR_SEED, PAR_STEP, PAR_ENV_OFFSET, PAR_DETERMINISTIC | act()'s Philox arguments (uint32 stored as int32) | ENT_COEF | entCoef |
 * | PAR_CLIP_VLOSS | 1 to clip the value loss                   | VF_COEF    | vfCoef    |
 */
import { FIRST_ARG_SLOT, type ControlLayout } from '../threads/control.ts';

/** One kernel worker's block. */
export const PAR_CONTROL: ControlLayout = { ints: 16, f64s: 4, messageBytes: 2048 };
/** Int32 argument slots. */
export const PAR_N = FIRST_ARG_SLOT, PAR_SEED = FIRST_ARG_SLOT + 1, PAR_STEP = FIRST_ARG_SLOT + 2, PAR_ENV_OFFSET = FIRST_ARG_SLOT + 3;
export const PAR_DETERMINISTIC = FIRST_ARG_SLOT + 4, PAR_CLIP_VLOSS = FIRST_ARG_SLOT + 5;
/** Float64 slots. */
export const PAR_CLIP_COEF = 0, PAR_ENT_COEF = 1, PAR_VF_COEF = 2;
/** Commands: forward both nets and the loss gradient (advantages already normalized); forward and sample; value net only; stop. */
export const PAR_CMD_GRAD = 1, PAR_CMD_ACT = 2, PAR_CMD_VALUE = 3, PAR_CMD_CLOSE = 4;

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
