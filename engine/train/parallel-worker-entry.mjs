// Worker bootstrap: registers the TypeScript loader in this thread, then runs the parallel wasm kernel worker.
import { register } from 'tsx/esm/api';

register();
await import('./parallel-worker.ts');
