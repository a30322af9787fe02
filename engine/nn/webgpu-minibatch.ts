/**
 * Packs PPO minibatches for the WebGPU backend's upload, into CPU scratch made once for maxBatch rows: the
 * per-row (oldLogProb, normalized advantage, return, oldValue) and, where needed, copies of obs and actions.
 */
import { isShared } from '../gpu/transfer.ts';
import { ADV_NORM_EPS, type Minibatch, type PpoHyperparams } from './backend.ts';
import type { BackendBuffers } from './webgpu-buffers.ts';
import { advantageMoments } from './ppo-reference.ts';

/** A minibatch ready to upload: n rows, the first n of each array (obs [n, obsDim], actions [n, actDim], rows [n, 4]). */
export interface PackedMinibatch {
  n: number;
  obs: Float32Array<ArrayBuffer>;
  actions: Float32Array<ArrayBuffer>;
  rows: Float32Array<ArrayBuffer>;
}

/** Packs and uploads minibatches of one backend's shape, reusing its scratch for every call that runs at once. */
export class MinibatchUpload {
  /** Scratch for maxBatch rows, lent to the packed minibatch of a call that uploads at once. */
  private readonly scratch: Omit<PackedMinibatch, 'n'>;

  constructor(
    private readonly obsDim: number,
    private readonly actDim: number,
    maxBatch: number,
  ) {
    this.scratch = this.arrays(maxBatch);
  }

  /** Fresh arrays for `rows` rows. */
  private arrays(rows: number): Omit<PackedMinibatch, 'n'> {
    return { obs: new Float32Array(rows * this.obsDim), actions: new Float32Array(rows * this.actDim), rows: new Float32Array(rows * 4) };
  }

  /**
   * Packs the first mb.n rows of a validated minibatch: rows with advantages normalized in float64 as the
   * reference does, (A − mean) / (std + 1e-8) with std unbiased (0 when n = 1); obs and actions are the
   * caller's arrays unless Dawn cannot read them (shared memory). With `queued` (the upload runs later, after
   * the caller may have changed them) everything goes into fresh arrays, else into the scratch, which is then
   * valid until the next pack.
   */
  pack(mb: Minibatch, hp: PpoHyperparams, queued: boolean): PackedMinibatch {
    const n = mb.n;
    const s = queued ? this.arrays(n) : this.scratch;
    const { mean, std } = hp.normAdv ? advantageMoments(mb.advantages, n) : { mean: 0, std: 0 };
    const scale = hp.normAdv ? 1 / (std + ADV_NORM_EPS) : 1;
    const rows = s.rows;
    for (let b = 0; b < n; b++) {
      rows[4 * b] = mb.oldLogProb[b];
      rows[4 * b + 1] = hp.normAdv ? (mb.advantages[b] - mean) * scale : mb.advantages[b];
      rows[4 * b + 2] = mb.returns[b];
      rows[4 * b + 3] = mb.oldValues[b];
    }
    // The arrays may hold more than n rows (a trainer's fixed minibatch buffers); only the first n are uploaded.
    const own = (a: Float32Array, into: Float32Array<ArrayBuffer>, count: number): Float32Array<ArrayBuffer> => {
      if (!queued && !isShared(a)) return a as Float32Array<ArrayBuffer>;
      into.set(a.subarray(0, count));
      return into;
    };
    return { n, obs: own(mb.obs, s.obs, n * this.obsDim), actions: own(mb.actions, s.actions, n * this.actDim), rows };
  }

  /** Writes a packed minibatch's n rows into the obs, actions and rows buffers. */
  upload(queue: GPUQueue, b: BackendBuffers, mb: PackedMinibatch): void {
    queue.writeBuffer(b.obs, 0, mb.obs, 0, mb.n * this.obsDim);
    queue.writeBuffer(b.actions, 0, mb.actions, 0, mb.n * this.actDim);
    queue.writeBuffer(b.rows, 0, mb.rows, 0, mb.n * 4);
  }
}
