/**
 * The worker side of startWorkers (engine/threads/host.ts): the data a worker was started with (Node's
 * workerData, or a page worker's first message) and the ready signal its host waits for. Call it at the top of
 * the worker module, before any await, so that a page worker listens before its first message can arrive.
 */
import { importHidden, isNode } from '../gpu/device.ts';

/** This worker's start data, and a function that tells the host it is ready. */
export interface WorkerStartup<T> {
  data: T;
  ready(): void;
}

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void, options: { once: true }): void;
}

/** Resolves with this worker's start data and its ready signal. */
export function workerStartup<T>(): Promise<WorkerStartup<T>> {
  if (isNode()) {
    return importHidden<typeof import('node:worker_threads')>('node:worker_threads').then(({ workerData, parentPort }) => ({
      data: workerData as T,
      ready: () => parentPort!.postMessage({ ready: true }),
    }));
  }
  const scope = globalThis as unknown as WorkerScope;
  return new Promise((resolve) => {
    scope.addEventListener('message', (e) => resolve({ data: e.data as T, ready: () => scope.postMessage({ ready: true }) }), { once: true });
  });
}
