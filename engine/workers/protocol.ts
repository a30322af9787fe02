/**
 * The sim workers' commands on the engine/threads command block (engine/threads/control.ts): CMD_RESET_SEEDED
 * passes its { seed, startEpisode } as JSON text; errors come back as text.
 */
import type { ControlLayout } from '../threads/control.ts';

/** One sim worker's block: the protocol's int slots and 4 KiB of text. */
export const SIM_CONTROL: ControlLayout = { ints: 8, f64s: 0, messageBytes: 4096 };
/** Commands. */
export const CMD_STEP = 1;
export const CMD_RESET = 2;
export const CMD_RESET_SEEDED = 3;
export const CMD_CONFIGURE = 4;
export const CMD_CLOSE = 5;
/** Put the state-block rows flagged in batch.pendingWrite into the Worlds (env.setState). */
export const CMD_WRITE_STATE = 6;
