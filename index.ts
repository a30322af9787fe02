/** cairn's public API. */
export { makeEnv, VecEnv, MAX_ENVS, MAX_WORKERS, type EnvOptions, type StepResult } from './engine/env.ts';
export { listTasks, getTask } from './tasks/registry.ts';
export type { TaskDef } from './tasks/task.ts';
export { DEFAULT_PHYSICS, type PhysicsConfig } from './engine/physics/config.ts';
export { createBatch, batchLayout, type Batch, type BatchDims } from './engine/batch.ts';
export * from './engine/policy/index.ts';
