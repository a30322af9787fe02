/**
 * Installs a Float16Array on globalThis where the runtime has none (Node 20): webgpu-utils 2.x reads the
 * global when its module is evaluated, so import this module before webgpu-utils.
 */
import { Float16Array as Float16ArrayPolyfill } from '@petamoriken/float16';

const g = globalThis as { Float16Array?: unknown };
if (typeof g.Float16Array === 'undefined') g.Float16Array = Float16ArrayPolyfill;
