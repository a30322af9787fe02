/** The policy network: Gaussian MLP policy with value head on WebGPU or the WASM CPU kernels, its parameter layout, init, RNG and float64 reference. */
export { createPolicy } from './create-policy.ts';
export { BackendPolicy } from './policy.ts';
export { DEFAULT_HIDDEN, DEFAULT_MAX_BATCH } from './backend.ts';
export type { Policy, PolicyOptions, ActOptions, ActResult } from './policy.ts';
export { WebGpuPolicy } from './webgpu-policy.ts';
export { WasmPolicy, WASM_POLICY_MAX_BATCH } from './wasm-policy.ts';
export type { WasmPolicyOptions } from './wasm-policy.ts';
export { paramLayout } from './param-layout.ts';
export type { ParamLayout, ParamEntry, LayerSpec } from './param-layout.ts';
export { initParams, orthogonalMatrix, HIDDEN_GAIN, POLICY_OUT_GAIN, VALUE_OUT_GAIN } from './init.ts';
export { referenceForward, HALF_LOG_2PI, TANH_CLAMP } from './reference.ts';
export type { ForwardOptions, ForwardResult } from './reference.ts';
export { philox4x32, philoxGaussians, actionNoise, wordToUniform, STREAM_ACTION, STREAM_INIT } from './philox.ts';
export { getDevice, adapterInfoOf } from '../gpu/device.ts';
export { GpuError } from '../gpu/errors.ts';
export type { AdapterInfo } from '../gpu/device.ts';
