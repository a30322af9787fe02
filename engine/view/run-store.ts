/**
 * The page's training run kept in IndexedDB (database 'cairn', store 'runs', key 'last'): its session options and
 * newest checkpoint, saved at every checkpoint the worker sends, so a run survives a page reload
 * and continues from there (the Train box's "continue").
 */
import type { TrainSessionOptions } from '../train/session.ts';
import type { CheckpointFiles } from './train-protocol.ts';

/** A saved run: what continues it. */
export interface SavedRun {
  savedAt: string;
  options: TrainSessionOptions;
  files: CheckpointFiles;
  iteration: number;
  envSteps: number;
}

const DB = 'cairn', STORE = 'runs', KEY = 'last';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`IndexedDB: cannot open '${DB}' (${req.error?.message ?? 'unknown error'})`));
  });
}

/** Runs one request on the store and resolves with its result. */
async function onStore<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = op(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(new Error(`IndexedDB: ${req.error?.message ?? 'request failed'}`));
    });
  } finally {
    db.close();
  }
}

/** Saves the run (replacing the one saved before). */
export function saveRun(run: SavedRun): Promise<void> {
  return onStore<void>('readwrite', (s) => s.put(run, KEY));
}

/** The saved run, or null when none is saved (or what is saved is not a run). */
export async function loadRun(): Promise<SavedRun | null> {
  const r = await onStore<SavedRun | undefined>('readonly', (s) => s.get(KEY));
  return r && typeof r === 'object' && r.files?.weights instanceof Uint8Array && typeof r.files.manifestText === 'string' ? r : null;
}

/** Forgets the saved run. */
export function clearRun(): Promise<void> {
  return onStore<void>('readwrite', (s) => s.delete(KEY));
}
