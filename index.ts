/** cairn's public API. */
export { makeEnv, VecEnv, MAX_ENVS, MAX_WORKERS, type EnvOptions, type StepResult } from './engine/env.ts';
export { listTasks, getTask } from './tasks/registry.ts';
/** The built-in tasks' subgoal specs (also getTask(name).subgoals), to start a spec of your own from. */
export { REACH_SUBGOALS } from './tasks/reach.ts';
export { PUSH_SUBGOALS } from './tasks/push.ts';
export { PICK_SUBGOALS } from './tasks/pick-and-place.ts';
export { SLIDE_SUBGOALS } from './tasks/slide.ts';
export { STACK_SUBGOALS } from './tasks/stack.ts';
export { type Penalties } from './engine/penalties.ts';
export type { BoxSpace, GoalObservationSpace, EnvSpec } from './engine/spaces.ts';
export type { TaskDef } from './tasks/task.ts';
export { DEFAULT_PHYSICS, type PhysicsConfig } from './engine/physics/config.ts';
export { stateLayout, STATE_LAYOUT_VERSION, type StateLayout, type StateRows } from './engine/state.ts';
export { createBatch, batchLayout, type Batch, type BatchDims } from './engine/batch.ts';
export * from './engine/nn/index.ts';
export * from './engine/shaping/index.ts';
export { PpoTrainer, DEFAULT_PPO_CONFIG, type PpoConfig, type IterationMetrics } from './engine/train/ppo.ts';
export { trainRun, type TrainRunOptions, type TrainRunResult } from './engine/train/run.ts';
export { evaluatePolicy, type EvalResult } from './engine/train/evaluate.ts';
export { createBackend, type BackendKind } from './engine/nn/select-backend.ts';
export { WasmBackend } from './engine/nn/wasm-backend.ts';
export { WebGpuBackend } from './engine/nn/webgpu-backend.ts';
export type { PolicyBackend, PpoHyperparams } from './engine/nn/backend.ts';
export { loadCheckpoint, saveCheckpoint } from './engine/train/checkpoint-fs.ts';
export { rollout, randomSource, scriptedSource, type ActionSource, type RolloutStats } from './engine/rollout.ts';
