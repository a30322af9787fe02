/**
 * The command block a host thread and its workers share, one SharedArrayBuffer with a fixed stride per worker:
 * `ints` int32 slots (the first five are the protocol's: SEQ, CMD, DONE, STATUS, MESSAGE_LEN; the rest are a
 * command's arguments), `f64s` float64 argument slots, and `messageBytes` of UTF-8 text (an argument going in,
 * an error message coming out). The host writes CMD and the arguments, bumps SEQ and notifies; the worker runs
 * the command, writes STATUS and sets DONE = SEQ (engine/threads/host.ts, serve.ts).
 */
export const SEQ = 0;
export const CMD = 1;
export const DONE = 2;
export const STATUS = 3;
export const MESSAGE_LEN = 4;
/** First int slot a protocol may use for its own arguments. */
export const FIRST_ARG_SLOT = 5;
export const STATUS_OK = 0;
export const STATUS_ERROR = 1;

/** Sizes of one worker's block: int32 slots (even, so the float64 slots align), float64 slots, text bytes (a multiple of 8). */
export interface ControlLayout {
  ints: number;
  f64s: number;
  messageBytes: number;
}

/** One worker's views of the block. */
export interface Control {
  ints: Int32Array;
  f64: Float64Array;
  text: Uint8Array;
}

function stride(l: ControlLayout): number {
  if (l.ints % 2 !== 0 || l.ints < FIRST_ARG_SLOT || l.messageBytes % 8 !== 0) throw new Error(`control layout ${JSON.stringify(l)}: ints must be even and ≥ ${FIRST_ARG_SLOT}, messageBytes a multiple of 8`);
  return l.ints * 4 + l.f64s * 8 + l.messageBytes;
}

/** A block for numWorkers workers (at least one slot, so a pool of none still has a buffer). */
export function createControl(layout: ControlLayout, numWorkers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, numWorkers) * stride(layout));
}

/** Views of worker w's slots. */
export function controlOf(sab: SharedArrayBuffer, layout: ControlLayout, w: number): Control {
  const at = w * stride(layout);
  return {
    ints: new Int32Array(sab, at, layout.ints),
    f64: new Float64Array(sab, at + layout.ints * 4, layout.f64s),
    text: new Uint8Array(sab, at + layout.ints * 4 + layout.f64s * 8, layout.messageBytes),
  };
}

/** Writes a message (truncated to fit) into a block's text and records its byte length. */
export function writeMessage(c: Control, msg: string): void {
  const { written } = new TextEncoder().encodeInto(msg, c.text);
  Atomics.store(c.ints, MESSAGE_LEN, written);
}

/** Reads the message last written into a block's text. */
export function readMessage(c: Control): string {
  return new TextDecoder().decode(c.text.slice(0, Atomics.load(c.ints, MESSAGE_LEN)));
}
