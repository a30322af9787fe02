/** createPolicy: the Policy on the backend a BackendKind names, resolved by chooseBackend's one rule. */
import { adapterInfoOf, getDevice } from '../gpu/device.ts';
import { BACKEND_KINDS, chooseBackend, gpuProbeOf } from './backend-kind.ts';
import type { PolicyOptions } from './policy.ts';
import { WasmPolicy } from './wasm-policy.ts';
import { WebGpuPolicy } from './webgpu-policy.ts';

/**
 * Makes a policy with cleanrl's initialization from `seed` (init.ts) on opts.backend (default WebGPU, see
 * PolicyOptions.backend); the WebGPU one throws a GpuError if shader compilation or buffer creation fails on the
 * device. Same seed → same actions on either backend, up to float rounding.
 */
export async function createPolicy(opts: PolicyOptions & { backend?: 'webgpu' }): Promise<WebGpuPolicy>;
export async function createPolicy(opts: PolicyOptions & { backend: 'wasm' }): Promise<WasmPolicy>;
export async function createPolicy(opts: PolicyOptions): Promise<WebGpuPolicy | WasmPolicy>;
export async function createPolicy(opts: PolicyOptions): Promise<WebGpuPolicy | WasmPolicy> {
  const kind = opts.backend ?? 'webgpu';
  if (!BACKEND_KINDS.includes(kind)) throw new Error(`backend must be one of webgpu, wasm, auto, got '${kind}'`);
  if (kind === 'webgpu') return WebGpuPolicy.create(opts);
  if (kind === 'auto') {
    const device = opts.device ?? (await getDevice().catch(() => undefined));
    // A device probed here belongs to the policy, destroyed with it, as when createPolicy makes one for 'webgpu'.
    if (device && chooseBackend('auto', gpuProbeOf(adapterInfoOf(device))).kind === 'webgpu') return WebGpuPolicy.create({ ...opts, device }, !opts.device);
    if (device && !opts.device) device.destroy();
  }
  return WasmPolicy.create(opts);
}
