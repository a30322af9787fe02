/**
 * The Policy (policy.ts) on WebGPU: BackendPolicy over WebGpuBackend, whose buffers are made once at creation for
 * maxBatch rows (act() takes any N in chunks of that many), so acting creates nothing per call. Build it with
 * createPolicy (create-policy.ts) or WebGpuPolicy.create.
 */
import type { AdapterInfo } from '../gpu/device.ts';
import { BackendPolicy, type PolicyOptions } from './policy.ts';
import { WebGpuBackend } from './webgpu-backend.ts';

/** The WebGPU policy. */
export class WebGpuPolicy extends BackendPolicy<WebGpuBackend> {
  readonly adapterInfo: AdapterInfo;
  /** The device the policy runs on (destroyed with the policy when the policy made it). */
  readonly device: GPUDevice;

  /** Makes a policy with cleanrl's initialization from `seed` on opts.device (a new one, owned by the policy, when absent; owned too with ownsDevice). */
  static async create(opts: Omit<PolicyOptions, 'backend'>, ownsDevice = false): Promise<WebGpuPolicy> {
    return new WebGpuPolicy(await WebGpuBackend.create({ obsDim: opts.obsDim, actDim: opts.actDim, hidden: opts.hidden, seed: opts.seed ?? 0, maxBatch: opts.maxBatch, device: opts.device, ownsDevice }));
  }

  private constructor(b: WebGpuBackend) {
    super(b);
    this.adapterInfo = b.adapterInfo;
    this.device = b.device;
  }
}
