/**
 * Flat parameter layout of the Gaussian MLP policy and its value MLP: one Float32Array, no padding.
 *
 * Order (offsets in float32 elements, L = hidden.length, sizes obsDim → hidden[0] → … → out):
 *
 * | entries                          | shape        | meaning                                       |
 * |----------------------------------|--------------|-----------------------------------------------|
 * | policy.{l}.weight, policy.{l}.bias | [out, in], [out] | policy layer l = 0..L, out = actDim at l = L |
 * | logStd                           | [actDim]     | state-independent log standard deviation      |
 * | value.{l}.weight, value.{l}.bias | [out, in], [out] | value layer l = 0..L, out = 1 at l = L     |
 *
 * Weights are row-major [out, in] (torch's nn.Linear), so y[o] = Σ_i W[o * in + i] x[i] + b[o].
 * Hidden layers apply tanh (the GPU clamps its argument to ±20 first); output layers are linear.
 * Pure TypeScript: the WebGPU policy, the float64 reference, a CPU backend and checkpoints share it.
 */

/** One named tensor of the flat parameter array. */
export interface ParamEntry {
  /** Name, torch style: `policy.0.weight`, `policy.0.bias`, `logStd`, `value.2.bias`. */
  name: string;
  /** First element, in float32 elements from the start of the array. */
  offset: number;
  /** Shape, row-major: [out, in] for weights, [out] for biases and logStd. */
  shape: number[];
}

/** One dense layer, with the offsets of its weight and bias. */
export interface LayerSpec {
  /** Which network the layer belongs to. */
  net: 'policy' | 'value';
  /** Layer index inside its network, 0 = the one reading the observation. */
  index: number;
  /** Input width. */
  inDim: number;
  /** Output width. */
  outDim: number;
  /** Offset of the [outDim, inDim] row-major weight, float32 elements. */
  weightOffset: number;
  /** Offset of the [outDim] bias, float32 elements. */
  biasOffset: number;
  /** True for hidden layers (tanh), false for the linear output layer. */
  tanh: boolean;
}

/** The whole layout: sizes, every entry in order, the layers of both nets and the total size. */
export interface ParamLayout {
  obsDim: number;
  actDim: number;
  hidden: readonly number[];
  /** Every tensor in array order; offsets are increasing and contiguous. */
  entries: ParamEntry[];
  /** Policy layers, observation → mean action [actDim]. */
  policyLayers: LayerSpec[];
  /** Value layers, observation → value [1]. */
  valueLayers: LayerSpec[];
  /** Offset of logStd [actDim], float32 elements. */
  logStdOffset: number;
  /** Total number of float32 parameters. */
  size: number;
}

/** Widest layer (and largest obsDim, actDim) a policy may have: WGSL workgroup grids and float32 offsets stay small. */
export const MAX_LAYER_WIDTH = 4096;
/** Most hidden layers a policy may have. */
export const MAX_HIDDEN_LAYERS = 16;
/** Most parameters a policy may have (2^26, 256 MiB of float32). */
export const MAX_PARAMS = 2 ** 26;

/** Checks that a size is an integer in [1, MAX_LAYER_WIDTH], with a message naming it. */
function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  if (v > MAX_LAYER_WIDTH) throw new Error(`${name} is ${v}, more than the ${MAX_LAYER_WIDTH} a layer may have`);
}

/** Lays out the parameters of a policy with these sizes (see the table in this file's header). */
export function paramLayout(obsDim: number, actDim: number, hidden: readonly number[]): ParamLayout {
  checkDim('obsDim', obsDim);
  checkDim('actDim', actDim);
  if (!Array.isArray(hidden) || hidden.length > MAX_HIDDEN_LAYERS) throw new Error(`hidden must be a list of at most ${MAX_HIDDEN_LAYERS} layer widths, got ${Array.isArray(hidden) ? `${hidden.length} layers` : typeof hidden}`);
  hidden.forEach((h, i) => checkDim(`hidden[${i}]`, h));
  const entries: ParamEntry[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]): number => {
    entries.push({ name, offset, shape });
    const start = offset;
    offset += shape.reduce((a, b) => a * b, 1);
    return start;
  };
  const net = (name: 'policy' | 'value', outDim: number): LayerSpec[] => {
    const sizes = [obsDim, ...hidden, outDim];
    const layers: LayerSpec[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const inDim = sizes[l];
      const out = sizes[l + 1];
      const weightOffset = add(`${name}.${l}.weight`, [out, inDim]);
      const biasOffset = add(`${name}.${l}.bias`, [out]);
      layers.push({ net: name, index: l, inDim, outDim: out, weightOffset, biasOffset, tanh: l + 2 < sizes.length });
    }
    return layers;
  };
  const policyLayers = net('policy', actDim);
  const logStdOffset = add('logStd', [actDim]);
  const valueLayers = net('value', 1);
  if (offset > MAX_PARAMS) throw new Error(`a ${obsDim}-${hidden.join('-')}-${actDim} policy has ${offset} parameters, more than the ${MAX_PARAMS} cairn allows`);
  return { obsDim, actDim, hidden: [...hidden], entries, policyLayers, valueLayers, logStdOffset, size: offset };
}

/** Checks a parameter array for a policy of this layout: a Float32Array of layout.size finite values (the bad one named). */
export function checkPolicyParams(p: unknown, layout: ParamLayout): asserts p is Float32Array {
  if (!(p instanceof Float32Array)) throw new Error('setParams: expected a Float32Array');
  if (p.length !== layout.size) {
    throw new Error(`setParams: got ${p.length} values, this policy (${layout.obsDim}-${layout.hidden.join('-')}-${layout.actDim}) has ${layout.size}`);
  }
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (v - v !== 0) {
      const e = layout.entries.findLast((x) => x.offset <= i)!;
      throw new Error(`setParams: non-finite value ${v} at index ${i} (${e.name}[${i - e.offset}])`);
    }
  }
}
