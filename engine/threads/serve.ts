/** The worker side of engine/threads: the wait loop that runs each posted command and reports its status. */
import { CMD, DONE, SEQ, STATUS, STATUS_ERROR, STATUS_OK, writeMessage, type Control } from './control.ts';

/**
 * Serves commands on a block until `closeCommand` has run: waits for SEQ to move, runs `handle(cmd)`, writes
 * STATUS (and the error, prefixed with `who`, as the message) and sets DONE = SEQ.
 */
export function serveCommands(c: Control, who: string, closeCommand: number, handle: (cmd: number) => void): void {
  let seen = 0;
  for (;;) {
    Atomics.wait(c.ints, SEQ, seen);
    seen = Atomics.load(c.ints, SEQ);
    const cmd = Atomics.load(c.ints, CMD);
    let status = STATUS_OK;
    try {
      handle(cmd);
    } catch (e) {
      status = STATUS_ERROR;
      writeMessage(c, `${who}: ${(e as Error).stack ?? e}`);
    }
    Atomics.store(c.ints, STATUS, status);
    Atomics.store(c.ints, DONE, seen);
    Atomics.notify(c.ints, DONE);
    if (cmd === closeCommand) break;
  }
}
