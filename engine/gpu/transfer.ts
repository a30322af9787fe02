/**
 * Moves f32 data between the CPU and the GPU: arrays Dawn can upload, and GPU work submitted then read back
 * through one mappable staging buffer.
 */
import { GpuError, openErrorScopes } from './errors.ts';

const F32 = 4;

/** True when Dawn cannot upload from a's memory (a SharedArrayBuffer), so it has to be copied first. */
export function isShared(a: Float32Array): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

/** A Float32Array whose data Dawn can upload: the array itself, or a copy when it views a SharedArrayBuffer or copy is set. */
export function uploadable(a: Float32Array, copy: boolean): Float32Array<ArrayBuffer> {
  return copy || isShared(a) ? a.slice() : (a as Float32Array<ArrayBuffer>);
}

/** Submits GPU work and reads f32 results back through one MAP_READ staging buffer, one call at a time. */
export class Readback {
  /**
   * @param label prefix of the command encoders' labels.
   * @param whyFailed called (after a turn of the event loop) when a map fails: throws the better explanation, a lost device or a destroyed owner, if there is one.
   */
  constructor(
    private readonly device: GPUDevice,
    private readonly staging: GPUBuffer,
    private readonly label: string,
    private readonly whyFailed: (what: string) => void,
  ) {}

  /**
   * Encodes work with encode() and submits it before the first await, then resolves to a copy of the first
   * `floats` floats of the staging buffer it filled (rejects with a GpuError on a GPU error or device loss).
   */
  async submitAndRead(what: string, floats: number, encode: (enc: GPUCommandEncoder) => void): Promise<Float32Array> {
    const close = openErrorScopes(this.device, what);
    const staging = this.staging;
    let mapped: Promise<void>;
    try {
      const enc = this.device.createCommandEncoder({ label: `${this.label} ${what}` });
      encode(enc);
      this.device.queue.submit([enc.finish()]);
      mapped = this.mapRead(what, floats * F32);
      // Handled here too, so a map that fails while the scopes are popping is not an unhandled rejection.
      mapped.catch(() => undefined);
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }
    // Pop the scopes first: a validation error explains a failed map better than the map's own error.
    await close().catch(async (err) => {
      await mapped.catch(() => undefined);
      if (staging.mapState === 'mapped') staging.unmap();
      throw err;
    });
    await mapped;
    const out = new Float32Array(staging.getMappedRange(0, floats * F32).slice(0));
    staging.unmap();
    return out;
  }

  /** Maps the first `bytes` of the staging buffer, turning a rejection into a GpuError unless whyFailed explains it. */
  private async mapRead(what: string, bytes: number): Promise<void> {
    try {
      await this.staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, bytes));
    } catch (err) {
      // Device loss resolves `lost` around the same time; give it a turn before blaming the map.
      await new Promise((r) => setTimeout(r, 0));
      this.whyFailed(what);
      throw new GpuError(`${what}: reading results back failed: ${(err as Error).message}`, 'internal');
    }
  }
}
