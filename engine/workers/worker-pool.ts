/**
 * Runs a vector env's slices on worker threads (Node worker_threads, or Web Workers in a cross-origin isolated
 * page): one worker per slice, each owning a Rapier World, all sharing the batch's shared WebAssembly.Memory.
 * Commands are synchronous for the caller: `run()` posts one to every worker and blocks in Atomics.wait until all
 * are done.
 */
import type { Batch } from '../batch.ts';
import type { PhysicsConfig } from '../physics/config.ts';
import type { SubgoalSpec } from '../shaping/spec.ts';
import type { DomainRandomization } from '../domain-randomization.ts';
import { moduleUrl } from '../module-url.ts';
import { controlOf, createControl, writeMessage, type Control } from '../threads/control.ts';
import { awaitDone, post, startWorkers, type WorkerHandle } from '../threads/host.ts';
import { CMD_CLOSE, SIM_CONTROL } from './protocol.ts';
import type { SimWorkerData } from './sim-worker.ts';

export class WorkerPool {
  readonly numWorkers: number;
  private readonly workers: WorkerHandle[];
  /** [numWorkers] each worker's views of the command block (made once: run() is on every env step). */
  private readonly controls: Control[];
  private seq = 0;
  private closed = false;

  private constructor(workers: WorkerHandle[], control: SharedArrayBuffer) {
    this.numWorkers = workers.length;
    this.workers = workers;
    this.controls = workers.map((_, w) => controlOf(control, SIM_CONTROL, w));
  }

  /** Starts one worker per slice and waits until each has built its World. */
  static async start(batch: Batch, slices: [number, number][], taskName: string, seed: number, physics: PhysicsConfig, subgoals: SubgoalSpec, domainRandomization: DomainRandomization | null, terminateOnInfraction = false): Promise<WorkerPool> {
    const control = createControl(SIM_CONTROL, slices.length);
    const datas: SimWorkerData[] = slices.map(([lo, hi], index) => ({ memory: batch.memory, layout: batch.layout, control, index, lo, hi, taskName, seed, physics, subgoals, domainRandomization, terminateOnInfraction }));
    const { workers } = await startWorkers(
      { url: moduleUrl('./sim-worker.ts', import.meta.url), browser: () => new Worker(new URL('./sim-worker.ts', import.meta.url), { type: 'module' }) },
      datas, 'sim worker',
    );
    return new WorkerPool(workers, control);
  }

  /** Posts a command (with an optional text argument) to every worker and blocks until all finished it. */
  run(cmd: number, message?: string): void {
    if (this.closed) throw new Error('worker pool: used after close()');
    const s = ++this.seq;
    for (const c of this.controls) {
      if (message !== undefined) writeMessage(c, message);
      post(c, s, cmd);
    }
    const errors: string[] = [];
    for (let w = 0; w < this.numWorkers; w++) {
      const error = awaitDone(this.controls[w], s, `sim worker ${w}`);
      if (error !== null) errors.push(error);
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
