/**
 * Device for GPU tests: getDevice() (SwiftShader on machines without a GPU), or a skip reason when this
 * machine has no adapter at all, which is allowed locally and never in CI (CI=true rethrows).
 */
import { getDevice } from '../../engine/gpu/device.ts';

/** A fresh device, or a skip message outside CI when WebGPU cannot start here. */
export async function testDevice(): Promise<GPUDevice | string> {
  try {
    return await getDevice();
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    return `no WebGPU adapter on this machine: ${(err as Error).message}`;
  }
}

/** Records every buffer a device creates and which of them get destroyed. */
export interface BufferTrack {
  created: GPUBuffer[];
  destroyed: Set<GPUBuffer>;
  /** Buffers created and not yet destroyed. */
  live(): GPUBuffer[];
}

/** Wraps device.createBuffer (on this device object only) to track creation and destruction. */
export function trackBuffers(device: GPUDevice): BufferTrack {
  const created: GPUBuffer[] = [];
  const destroyed = new Set<GPUBuffer>();
  const create = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    const b = create(desc);
    const destroy = b.destroy.bind(b);
    b.destroy = () => {
      destroyed.add(b);
      destroy();
    };
    created.push(b);
    return b;
  };
  return { created, destroyed, live: () => created.filter((b) => !destroyed.has(b)) };
}
