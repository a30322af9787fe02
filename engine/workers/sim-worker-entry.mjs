// Worker bootstrap: registers the TypeScript loader in this thread, then runs the sim worker.
import { register } from 'tsx/esm/api';

register();
await import('./sim-worker.ts');
