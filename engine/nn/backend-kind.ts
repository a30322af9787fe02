/**
 * Where a policy network runs: the one name for the choice ('auto' | 'wasm' | 'webgpu') and the one rule that
 * resolves it, shared by the CLI (select-backend.ts), createPolicy and the view.
 */

/** 'webgpu' (WGSL on a GPU), 'wasm' (the WASM SIMD CPU kernels), or 'auto' (WebGPU on a real GPU adapter, else WASM). */
export type BackendKind = 'auto' | 'wasm' | 'webgpu';
/** Every BackendKind, in the order help texts list them. */
export const BACKEND_KINDS: readonly BackendKind[] = ['auto', 'wasm', 'webgpu'];

/** What WebGPU offers here (Node's Dawn or the browser's navigator.gpu). */
export interface GpuProbe {
  /** An adapter exists. */
  available: boolean;
  /** The adapter is a real GPU: not a fallback adapter, not SwiftShader, llvmpipe or lavapipe. */
  real: boolean;
  /** vendor / architecture / device / description of the adapter, or why there is none. */
  adapter: string;
}

/** The adapter fields gpuProbeOf reads (GPUAdapterInfo, or engine/gpu/device.ts AdapterInfo). */
export interface AdapterFields {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** The probe of an adapter that exists: real unless it is a fallback or a software rasterizer. */
export function gpuProbeOf(info: AdapterFields): GpuProbe {
  const adapter = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
  return { available: true, real: !info.isFallbackAdapter && !/swiftshader|llvmpipe|lavapipe|software/i.test(adapter), adapter };
}

/** The probe where no adapter could be had, with the reason. */
export function noGpu(why: string): GpuProbe {
  return { available: false, real: false, adapter: why };
}

/** Where a network runs and why. */
export interface BackendDecision {
  kind: 'webgpu' | 'wasm';
  /** Why, as a clause for a note or the CLI's first line, e.g. `no WebGPU in this browser (no navigator.gpu)`. */
  why: string;
  /** Whether the note is a warning (the CPU for lack of a GPU, a software adapter, or a forced choice that could not be had). */
  warn: boolean;
}

/**
 * Resolves a BackendKind against what WebGPU offers: `auto` takes WebGPU only on a real GPU (a software adapter is
 * slower than the CPU kernels); `webgpu` takes any adapter and falls back to the CPU only when there is none;
 * `wasm` is the CPU. `where` names the host in the no-adapter reason.
 */
export function chooseBackend(want: BackendKind, gpu: GpuProbe, where = 'this browser'): BackendDecision {
  if (!BACKEND_KINDS.includes(want)) throw new Error(`backend must be one of ${BACKEND_KINDS.join(', ')}, got '${want}'`);
  if (want === 'wasm') return { kind: 'wasm', why: 'as backend=wasm asks', warn: false };
  if (want === 'webgpu') {
    if (gpu.available) return { kind: 'webgpu', why: `as backend=webgpu asks${gpu.real ? '' : ` (${gpu.adapter} is a software adapter, slower than the CPU backend)`}`, warn: !gpu.real };
    return { kind: 'wasm', why: `backend=webgpu asks for WebGPU, but ${where} has none (${gpu.adapter})`, warn: true };
  }
  if (gpu.real) return { kind: 'webgpu', why: `a real GPU adapter (${gpu.adapter})`, warn: false };
  if (gpu.available) return { kind: 'wasm', why: `no real GPU: WebGPU here is a software adapter (${gpu.adapter}), slower than the CPU backend`, warn: true };
  return { kind: 'wasm', why: `no WebGPU in ${where} (${gpu.adapter})`, warn: true };
}
