/**
 * Runs a vector env's slices on worker_threads (Node only): one worker per slice, each owning a Rapier
 * World, all sharing the batch's shared WebAssembly.Memory. Commands are synchronous for the caller:
 * `run()` posts one to every worker and blocks in Atomics.wait until all are done.
 */
import { Worker } from 'node:worker_threads';
import type { Batch } from '../batch.ts';
import type { PhysicsConfig } from '../physics/config.ts';
import type { SubgoalSpec } from '../shaping/spec.ts';
import type { DomainRandomization } from '../domain-randomization.ts';
import { CMD, CMD_CLOSE, DONE, SEQ, STATUS, STATUS_ERROR, controlBytes, readMessage, workerControl, writeMessage } from './protocol.ts';
import type { SimWorkerData } from './sim-worker.ts';

/** Longest a step may take before the pool declares a worker hung, ms. */
const HANG_TIMEOUT_MS = 120_000;

export class WorkerPool {
  readonly numWorkers: number;
  private readonly workers: Worker[] = [];
  private readonly control: SharedArrayBuffer;
  private readonly exited: (string | null)[] = [];
  private seq = 0;
  private closed = false;

  private constructor(numWorkers: number) {
    this.numWorkers = numWorkers;
    this.control = new SharedArrayBuffer(controlBytes(numWorkers));
  }

  /** Starts one worker per slice and waits until each has built its World. */
  static async start(batch: Batch, slices: [number, number][], taskName: string, seed: number, physics: PhysicsConfig, subgoals: SubgoalSpec, domainRandomization: DomainRandomization | null): Promise<WorkerPool> {
    const pool = new WorkerPool(slices.length);
    const ready = slices.map(([lo, hi], index) => {
      const data: SimWorkerData = { memory: batch.memory, layout: batch.layout, control: pool.control, index, lo, hi, taskName, seed, physics, subgoals, domainRandomization };
      const w = new Worker(new URL('./sim-worker-entry.mjs', import.meta.url), { workerData: data });
      pool.workers.push(w);
      pool.exited.push(null);
      return new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', (e) => { pool.exited[index] = String(e?.stack ?? e); reject(e); });
        w.once('exit', (code) => { pool.exited[index] ??= `exited with code ${code}`; reject(new Error(`sim worker ${index} exited with code ${code} before it was ready`)); });
      });
    });
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.terminate();
      throw e;
    }
    // Commands block the caller in Atomics.wait, so idle workers need not keep the process alive: a script that
    // ends without env.close() exits, and its workers end with it.
    for (const w of pool.workers) w.unref();
    return pool;
  }

  /** Posts a command (with an optional text argument) to every worker and blocks until all finished it. */
  run(cmd: number, message?: string): void {
    if (this.closed) throw new Error('worker pool: used after close()');
    const s = ++this.seq;
    for (let w = 0; w < this.numWorkers; w++) {
      const c = workerControl(this.control, w);
      if (message !== undefined) writeMessage(c, message);
      Atomics.store(c.ints, CMD, cmd);
      Atomics.store(c.ints, SEQ, s);
      Atomics.notify(c.ints, SEQ);
    }
    const errors: string[] = [];
    for (let w = 0; w < this.numWorkers; w++) {
      const c = workerControl(this.control, w);
      const t0 = Date.now();
      while (Atomics.load(c.ints, DONE) !== s) {
        Atomics.wait(c.ints, DONE, Atomics.load(c.ints, DONE), 1000);
        if (Atomics.load(c.ints, DONE) !== s && Date.now() - t0 > HANG_TIMEOUT_MS) throw new Error(`sim worker ${w} did not answer within ${HANG_TIMEOUT_MS} ms`);
      }
      if (Atomics.load(c.ints, STATUS) === STATUS_ERROR) errors.push(readMessage(c));
    }
    if (errors.length) throw new Error(errors.join('\n'));
  }

  /** Frees every worker's World and stops the threads; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.run(CMD_CLOSE);
    } finally {
      this.closed = true;
      await this.terminate();
    }
  }

  private async terminate(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
