/**
 * The control block shared by the main thread and the sim workers: per worker CTRL_INTS int32 slots and
 * MESSAGE_BYTES of UTF-8 text (a JSON argument going in, an error message coming out), in one
 * SharedArrayBuffer. The main thread bumps SEQ after writing CMD/ARG; the worker runs the command,
 * writes STATUS and sets DONE = SEQ.
 */
export const CTRL_INTS = 8;
export const MESSAGE_BYTES = 4096;
/** Slot indices inside a worker's block. */
export const SEQ = 0;
export const CMD = 1;
export const DONE = 2;
export const STATUS = 3;
export const MESSAGE_LEN = 4;
/** Commands. */
export const CMD_STEP = 1;
export const CMD_RESET = 2;
export const CMD_RESET_SEEDED = 3;
export const CMD_CONFIGURE = 4;
export const CMD_CLOSE = 5;
/** Put the state-block rows flagged in batch.pendingWrite into the Worlds (env.setState). */
export const CMD_WRITE_STATE = 6;
/** Status values. */
export const STATUS_OK = 0;
export const STATUS_ERROR = 1;

/** Byte size of the control buffer for numWorkers workers. */
export function controlBytes(numWorkers: number): number {
  return numWorkers * (CTRL_INTS * 4 + MESSAGE_BYTES);
}

/** Views of worker w's control ints and message bytes. */
export function workerControl(sab: SharedArrayBuffer, w: number): { ints: Int32Array; text: Uint8Array } {
  const stride = CTRL_INTS * 4 + MESSAGE_BYTES;
  return { ints: new Int32Array(sab, w * stride, CTRL_INTS), text: new Uint8Array(sab, w * stride + CTRL_INTS * 4, MESSAGE_BYTES) };
}

/** Writes a message (truncated to fit) into a worker's text region and records its byte length. */
export function writeMessage(ctrl: { ints: Int32Array; text: Uint8Array }, msg: string): void {
  const { written } = new TextEncoder().encodeInto(msg, ctrl.text);
  Atomics.store(ctrl.ints, MESSAGE_LEN, written);
}

/** Reads the message last written into a worker's text region. */
export function readMessage(ctrl: { ints: Int32Array; text: Uint8Array }): string {
  const n = Atomics.load(ctrl.ints, MESSAGE_LEN);
  return new TextDecoder().decode(ctrl.text.slice(0, n));
}
