/**
 * The policy parity check, shared by the Node test (policy-parity.test.ts) and the browser page
 * (test/browser/pages/policy-parity.ts): WebGPU act() against the float64 reference, with every output
 * buffer poisoned with NaN before each run so an element the GPU skipped cannot pass.
 */
import { createPolicy, referenceForward, HALF_LOG_2PI, type ParamLayout, type WebGpuPolicy } from '../../engine/nn/index.ts';
import { mulberry32 } from '../../engine/rng.ts';

/** One network shape and the batch sizes to run it at. */
export interface ParityCase {
  obsDim: number;
  actDim: number;
  hidden: number[];
  batches: number[];
}

/** Result of one act() against the reference. */
export interface ParityRow {
  /** Shape, e.g. `25-64-64-4`. */
  arch: string;
  /** Batch size N. */
  n: number;
  deterministic: boolean;
  /** Normwise relative error max_i |gpu_i - ref_i| / max_i |ref_i| of each output. */
  relErr: { action: number; logProb: number; value: number };
  /** Output elements still NaN after the run (poisoned and never written). */
  unwritten: number;
}

/** The issue's shapes and batch sizes: 25-64-64-4 and 25-256-256-4 at N = 1, 63, 1024, 4097. */
export const ISSUE_CASES: ParityCase[] = [
  { obsDim: 25, actDim: 4, hidden: [64, 64], batches: [1, 63, 1024, 4097] },
  { obsDim: 25, actDim: 4, hidden: [256, 256], batches: [1, 63, 1024, 4097] },
];

/** Deterministic uniform numbers in [0, 1) (mulberry32, engine/rng.ts). */
export const uniformStream = mulberry32;

/**
 * Parameters that make every output O(1) and drive some pre-activations past the ±20 clamp: weights
 * U(±2/√in), with hidden unit 0 of every hidden layer ×40 (|pre-activation| up to ~80, where
 * SwiftShader's unclamped tanh gives NaN); biases U(±0.5); logStd U(-1.5, 0.5).
 */
export function stressParams(layout: ParamLayout, seed: number): Float32Array {
  const rnd = uniformStream(seed);
  const p = new Float32Array(layout.size);
  for (const l of [...layout.policyLayers, ...layout.valueLayers]) {
    const a = 2 / Math.sqrt(l.inDim);
    for (let o = 0; o < l.outDim; o++) {
      const scale = l.tanh && o === 0 ? 40 : 1;
      for (let i = 0; i < l.inDim; i++) p[l.weightOffset + o * l.inDim + i] = scale * a * (2 * rnd() - 1);
      p[l.biasOffset + o] = 0.5 * (2 * rnd() - 1);
    }
  }
  for (let j = 0; j < layout.actDim; j++) p[layout.logStdOffset + j] = -1.5 + 2 * rnd();
  return p;
}

/** Normwise relative error max |x - r| / max |r| (NaN in x counts as infinite error). */
export function relErr(x: ArrayLike<number>, r: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < r.length; i++) {
    const d = Math.abs(x[i] - r[i]);
    num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(r[i]));
  }
  return num / den;
}

/** Fills every output and intermediate GPU buffer of the policy's forward pass with NaN. */
export function poisonBatch(policy: WebGpuPolicy): void {
  const b = policy.net().buffers.forward;
  for (const buf of [...b.hidden, b.mean, b.action, b.logProb, b.value, b.staging]) {
    policy.device.queue.writeBuffer(buf, 0, new Float32Array(buf.size / 4).fill(Number.NaN));
  }
}

/** Counts NaN elements. */
function countNaN(...arrays: Float32Array[]): number {
  let c = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) c++;
  return c;
}

/**
 * Runs every case at every batch size, sampled (step 3, envOffset 5) and deterministic, on `device`,
 * and returns one row per run; the caller checks the errors and that nothing stayed unwritten.
 */
export async function runParity(device: GPUDevice, cases: ParityCase[] = ISSUE_CASES, seed = 12345): Promise<ParityRow[]> {
  const rows: ParityRow[] = [];
  const rnd = uniformStream(seed ^ 0x9e3779b9);
  for (const c of cases) {
    const policy = await createPolicy({ obsDim: c.obsDim, actDim: c.actDim, hidden: c.hidden, seed, device });
    try {
      const layout = policy.paramLayout;
      const params = stressParams(layout, seed);
      policy.setParams(params);
      const arch = [c.obsDim, ...c.hidden, c.actDim].join('-');
      for (const n of c.batches) {
        const obs = new Float32Array(n * c.obsDim);
        for (let i = 0; i < obs.length; i++) obs[i] = 4 * rnd() - 2;
        const ref = referenceForward(params, layout, obs, n, { seed, step: 3, envOffset: 5 });
        // Deterministic: action = mean, logProb = Σ_j (-logStd_j - 0.5 ln 2π) for every row.
        let detLogProb = 0;
        for (let j = 0; j < c.actDim; j++) detLogProb += -params[layout.logStdOffset + j] - HALF_LOG_2PI;
        for (const deterministic of [false, true]) {
          poisonBatch(policy);
          const out = { action: new Float32Array(n * c.actDim).fill(NaN), logProb: new Float32Array(n).fill(NaN), value: new Float32Array(n).fill(NaN) };
          const got = await policy.act(obs, { deterministic, step: 3, envOffset: 5, out });
          rows.push({
            arch,
            n,
            deterministic,
            relErr: {
              action: relErr(got.action, deterministic ? ref.mean : ref.action),
              logProb: relErr(got.logProb, deterministic ? new Float64Array(n).fill(detLogProb) : ref.logProb),
              value: relErr(got.value, ref.value),
            },
            unwritten: countNaN(got.action, got.logProb, got.value),
          });
        }
      }
    } finally {
      policy.destroy();
    }
  }
  return rows;
}
