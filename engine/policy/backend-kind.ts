/** Where a policy network runs: the one name for the choice that the CLI, createPolicy and the view take. */

/** 'webgpu' (WGSL on a GPU), 'wasm' (the WASM SIMD CPU kernels), or 'auto' (WebGPU on a real GPU adapter, else WASM). */
export type BackendKind = 'auto' | 'wasm' | 'webgpu';
/** Every BackendKind, in the order help texts list them. */
export const BACKEND_KINDS: readonly BackendKind[] = ['auto', 'wasm', 'webgpu'];
