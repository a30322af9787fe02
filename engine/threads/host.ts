/**
 * The host side of engine/threads: starting workers (one entry file for every kind, ready handshake, failures
 * named, unref'd so idle workers never keep a process alive) and posting commands that block the caller until
 * done, with a hang timeout.
 */
import { Worker } from 'node:worker_threads';
import { moduleUrl } from '../module-url.ts';
import { CMD, DONE, SEQ, STATUS, STATUS_ERROR, readMessage, type Control } from './control.ts';

/** Longest a command may take before the host declares a worker hung, ms. */
export const HANG_TIMEOUT_MS = 120_000;

/** Workers started by startWorkers, and a promise that settles when all have exited. */
export interface StartedWorkers {
  workers: Worker[];
  exited: Promise<void>;
}

/**
 * Starts one worker per data object, each running `module` (a URL from moduleUrl) through the shared entry,
 * and waits until each posted its ready message; on any failure all are terminated and the error names the worker.
 */
export async function startWorkers(module: URL, datas: readonly object[], name: string): Promise<StartedWorkers> {
  const entry = moduleUrl('./worker-entry.mjs', import.meta.url);
  const workers: Worker[] = [];
  const exits: Promise<void>[] = [];
  const ready = datas.map((data, i) => {
    const w = new Worker(entry, { workerData: { ...data, entry: module.href } });
    workers.push(w);
    exits.push(new Promise((resolve) => w.once('exit', () => resolve())));
    return new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`${name} ${i} exited with code ${code} before it was ready`)));
    });
  });
  try {
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  // Commands block the caller in Atomics.wait, so idle workers sleep there and must not keep the process alive:
  // a script that ends without close() exits, and its workers end with it.
  for (const w of workers) w.unref();
  return { workers, exited: Promise.all(exits).then(() => undefined) };
}

/** Posts command `cmd` as sequence number `seq` to one worker (its arguments already written into its block). */
export function post(c: Control, seq: number, cmd: number): void {
  Atomics.store(c.ints, CMD, cmd);
  Atomics.store(c.ints, SEQ, seq);
  Atomics.notify(c.ints, SEQ);
}

/** Blocks until the worker finished command `seq`; returns its error message, or null; throws after HANG_TIMEOUT_MS. */
export function awaitDone(c: Control, seq: number, who: string): string | null {
  const t0 = Date.now();
  while (Atomics.load(c.ints, DONE) !== seq) {
    Atomics.wait(c.ints, DONE, Atomics.load(c.ints, DONE), 1000);
    if (Atomics.load(c.ints, DONE) !== seq && Date.now() - t0 > HANG_TIMEOUT_MS) throw new Error(`${who} did not answer within ${HANG_TIMEOUT_MS} ms`);
  }
  return Atomics.load(c.ints, STATUS) === STATUS_ERROR ? readMessage(c) : null;
}
