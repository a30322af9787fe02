// The one worker entry of engine/threads: runs the module named in workerData.entry. From the sources (a .ts
// entry) it registers the TypeScript loader in this thread first; the compiled package imports .js directly.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
