/**
 * The host side of engine/threads: starting workers (Node worker_threads, or Web Workers in a cross-origin
 * isolated page; ready handshake, failures named, Node's unref'd so idle workers never keep a process alive) and
 * posting commands that block the caller until done, with a hang timeout.
 */
import { importHidden, isNode } from '../gpu/device.ts';
import { moduleUrl } from '../module-url.ts';
import { CMD, DONE, SEQ, STATUS, STATUS_ERROR, readMessage, type Control } from './control.ts';

/** Longest a command may take before the host declares a worker hung, ms. */
export const HANG_TIMEOUT_MS = 120_000;

/** A started worker as the host keeps it: Node's worker_threads.Worker or a browser Worker behind one stop call. */
export interface WorkerHandle {
  terminate(): Promise<unknown>;
}

/**
 * Where a worker's code lives: its module URL (from moduleUrl) for Node, and for a page a function that starts
 * it as a module Web Worker, written `new Worker(new URL('./x.ts', import.meta.url), { type: 'module' })` at
 * the call site so that bundlers (Vite) see and bundle the worker.
 */
export interface WorkerModule {
  url: URL;
  browser: () => Worker;
}

/** Workers started by startWorkers, and a promise that settles when all have exited. */
export interface StartedWorkers {
  workers: WorkerHandle[];
  exited: Promise<void>;
}

/** True where this thread can start workers that share memory: Node, or a cross-origin isolated page or worker. */
export function canShareMemory(): boolean {
  return isNode() || (typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true);
}

/** Workers just started: their handles, one promise per worker that settles when it exits and one when it is ready, and (Node) a call that lets the process exit while they idle. */
interface Launched {
  workers: WorkerHandle[];
  exits: Promise<void>[];
  ready: Promise<void>[];
  unref?: () => void;
}

/** Starts one Node worker_threads Worker per data object through the shared entry. */
async function startNodeWorkers(module: URL, datas: readonly object[], name: string): Promise<Launched> {
  const { Worker } = await importHidden<typeof import('node:worker_threads')>('node:worker_threads');
  const entry = moduleUrl('./worker-entry.mjs', import.meta.url);
  const workers: InstanceType<typeof Worker>[] = [];
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
  // Commands block the caller in Atomics.wait, so idle workers sleep there and must not keep the process alive:
  // a script that ends without close() exits, and its workers end with it.
  return { workers, exits, ready, unref: () => workers.forEach((w) => w.unref()) };
}

/** Starts one module Web Worker per data object, posting the data as its first message. */
function startWebWorkers(spawn: () => Worker, datas: readonly object[], name: string): Launched {
  const workers: WorkerHandle[] = [];
  const exits: Promise<void>[] = [];
  const ready = datas.map((data, i) => {
    const w = spawn();
    let exited!: () => void;
    exits.push(new Promise((resolve) => (exited = resolve)));
    workers.push({
      terminate: async () => {
        w.terminate();
        exited();
      },
    });
    const started = new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`${name} ${i} failed to start: ${e.message || 'its script did not load'}`));
      };
      w.onmessageerror = () => reject(new Error(`${name} ${i} could not read its start data`));
    });
    w.postMessage(data);
    return started;
  });
  return { workers, exits, ready };
}

/**
 * Starts one worker per data object, each running `module` (its data is workerData in Node, the first message
 * in a page), and waits until each posted its ready message; on any failure all are terminated and the error
 * names the worker. In a page that is not cross-origin isolated the error says so.
 */
export async function startWorkers(module: WorkerModule, datas: readonly object[], name: string): Promise<StartedWorkers> {
  if (!canShareMemory()) throw new Error(`${name}: worker threads need shared memory, which a page has only when cross-origin isolated (COOP: same-origin, COEP: require-corp)`);
  const started = isNode() ? await startNodeWorkers(module.url, datas, name) : startWebWorkers(module.browser, datas, name);
  try {
    await Promise.all(started.ready);
  } catch (e) {
    await Promise.all(started.workers.map((w) => w.terminate()));
    throw e;
  }
  started.unref?.();
  return { workers: started.workers, exited: Promise.all(started.exits).then(() => undefined) };
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
