/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range (plus string metadata), then the raw little-endian data.
 * Browser-safe.
 */

/** A tensor to write: float32 or float64 values in row-major order. */
export interface Tensor {
  dtype: 'F32' | 'F64';
  shape: number[];
  data: Float32Array | Float64Array;
}

/** Encodes named tensors and string metadata; the header is padded with spaces to 8 bytes, as the format advises. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`safetensors: tensor ${name} has shape [${t.shape}] (${count} values) but ${t.data.length} values`);
    const bytes = t.data.length * (t.dtype === 'F32' ? 4 : 8);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    for (let i = 0; i < t.data.length; i++) {
      if (t.dtype === 'F32') dv.setFloat32(at + i * 4, t.data[i], true);
      else dv.setFloat64(at + i * 8, t.data[i], true);
    }
    at += t.data.length * (t.dtype === 'F32' ? 4 : 8);
  }
  return out;
}

/** Decodes a safetensors file of F32 and F64 tensors; a malformed file is a clear error. */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error('safetensors: the file is shorter than its 8-byte header length');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`safetensors: the header claims ${n} bytes, the file holds ${bytes.length - 8}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`safetensors: the header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const tensors: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const size = e.dtype === 'F32' ? 4 : e.dtype === 'F64' ? 8 : 0;
    if (!size) throw new Error(`safetensors: tensor ${name} has dtype ${e.dtype}; this reader takes F32 and F64`);
    const [lo, hi] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (hi - lo !== count * size || base + hi > bytes.length) throw new Error(`safetensors: tensor ${name}'s byte range does not fit its shape or the file`);
    const data = size === 4 ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) data[i] = size === 4 ? dv.getFloat32(base + lo + i * 4, true) : dv.getFloat64(base + lo + i * 8, true);
    tensors[name] = { dtype: e.dtype as Tensor['dtype'], shape: e.shape, data };
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}
