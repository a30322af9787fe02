/**
 * GPU errors as exceptions: error scopes around a piece of GPU work, and device loss, so a failed
 * dispatch throws instead of leaving zeros in a buffer.
 */

/** A WebGPU validation, out-of-memory or internal error, or a lost device, raised as an exception. */
export class GpuError extends Error {
  constructor(
    message: string,
    /** Which kind of failure: an error scope's filter, or `device-lost`. */
    readonly kind: GPUErrorFilter | 'device-lost',
  ) {
    super(message);
    this.name = 'GpuError';
  }
}

const FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Pushes validation, out-of-memory and internal error scopes; the returned function pops them (at once,
 * when called) and rejects with a GpuError naming `what` if any caught an error. Call it exactly once,
 * with no await between push and pop, so other code on the device cannot push or pop in between.
 */
export function openErrorScopes(device: GPUDevice, what: string): () => Promise<void> {
  for (const f of FILTERS) device.pushErrorScope(f);
  return async () => {
    const popped = [...FILTERS].reverse().map((f) => device.popErrorScope().then((e) => (e ? { f, e } : null)));
    const errors = (await Promise.all(popped)).filter((x) => x !== null);
    if (errors.length) {
      const first = errors[0]!;
      throw new GpuError(`${what}: WebGPU ${first.f} error: ${errors.map((x) => x.e.message).join('\n---\n')}`, first.f);
    }
  };
}

/**
 * Runs fn inside error scopes on device and throws a GpuError if the GPU reported any error. fn is
 * synchronous, so the scopes cover exactly its calls and no other code using the device can interleave.
 */
export async function withErrorScopes<T>(device: GPUDevice, what: string, fn: () => T): Promise<T> {
  const close = openErrorScopes(device, what);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  await close();
  return result;
}

/** Follows a device's `lost` promise; `check()` throws a GpuError once the device is lost. */
export class LossWatch {
  /** Set when the device is lost. */
  info: GPUDeviceLostInfo | null = null;

  constructor(device: GPUDevice) {
    void device.lost.then((info) => {
      this.info = info;
    });
  }

  /** Throws a GpuError naming `what` when the device has been lost. */
  check(what: string): void {
    if (this.info) {
      throw new GpuError(`${what}: WebGPU device lost (${this.info.reason}): ${this.info.message}`, 'device-lost');
    }
  }
}
