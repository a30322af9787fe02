/**
 * Picks and creates the policy backend: WebGPU on a real GPU, the WASM CPU backend where the only
 * adapter is a software fallback (SwiftShader, lavapipe) or none exists. `kind` forces either; `threads` > 1
 * runs the WASM backend on that many threads (ParallelWasmBackend: Node, or a cross-origin isolated page).
 */
import type { MlpBackendOptions, PolicyBackend } from './backend.ts';
import { WasmBackend } from './wasm-backend.ts';
import { BACKEND_KINDS, chooseBackend, gpuProbeOf, noGpu, type BackendKind, type GpuProbe } from './backend-kind.ts';

export { BACKEND_KINDS, type BackendKind };

/** Options of createBackend: every backend's, plus the WASM backend's thread count. */
export interface BackendOptions extends MlpBackendOptions {
  /** Threads of the WASM backend (1: WasmBackend, K > 1: ParallelWasmBackend); default 1. */
  threads?: number;
}

/** Why a backend was chosen, for the CLI's first line. */
export interface BackendChoice {
  backend: PolicyBackend;
  reason: string;
}

/** What Dawn (Node) or navigator.gpu (browser, through getDevice) offers: a device's adapter, or why there is none. */
export async function probeGpu(): Promise<GpuProbe> {
  try {
    const { getDevice, adapterInfoOf } = await import('../gpu/device.ts');
    const device = await getDevice();
    const info = adapterInfoOf(device);
    device.destroy();
    return gpuProbeOf(info);
  } catch (e) {
    return noGpu(`no WebGPU adapter: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Creates the backend of the given kind ('auto' probes the GPU first). */
export async function createBackend(kind: BackendKind, opts: BackendOptions): Promise<BackendChoice> {
  if (!BACKEND_KINDS.includes(kind)) throw new Error(`backend must be one of ${BACKEND_KINDS.join(', ')}, got '${kind}'`);
  let reason = `forced by --backend ${kind}`;
  const forced = kind !== 'auto';
  if (kind === 'auto') {
    const d = chooseBackend('auto', await probeGpu(), 'this process');
    kind = d.kind;
    reason = d.why;
  }
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  if (kind === 'wasm') {
    if (threads === 1) return { backend: await WasmBackend.create(opts), reason };
    const { ParallelWasmBackend } = await import('./parallel-wasm-backend.ts');
    return { backend: await ParallelWasmBackend.create({ ...opts, threads }), reason: `${reason}; ${threads} threads` };
  }
  if (threads > 1) {
    if (forced) throw new Error(`threads = ${threads} applies to the wasm backend only, not to webgpu`);
    reason += `; threads = ${threads} ignored (the WASM backend's setting)`;
  }
  const { WebGpuBackend } = await import('./webgpu-backend.ts');
  return { backend: await WebGpuBackend.create(opts), reason };
}
