/** WebGPU plumbing shared by the policy and later kernels: device, errors, shader loading, struct views. */
export { getDevice, adapterInfoOf, isNode, NO_ADAPTER_HELP, SWIFTSHADER_ICD_CANDIDATES } from './device.ts';
export type { AdapterInfo, GetDeviceOptions } from './device.ts';
export { GpuError, LossWatch, openErrorScopes, withErrorScopes } from './errors.ts';
export { loadWgsl, shaderLineOrigin, shaderSource } from './shader-source.ts';
export { uniformView } from './struct-view.ts';
