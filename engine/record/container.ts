/**
 * The binary container of cairn's data files (recordings, Go-Explore archives): an 8-byte magic, u32 LE version,
 * u32 LE manifest byte length, the manifest as UTF-8 JSON, zero padding to a multiple of 4, then a little-endian
 * f32 payload whose float count and SHA-256 the manifest carries (payloadFloats, sha256). Browser-safe.
 */

const HEADER_BYTES = 16;

/** What the container adds to every manifest. */
export interface ContainerFields {
  payloadFloats: number;
  sha256: string;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Encodes manifest (payloadFloats and sha256 are filled in) and payload [F] f32 into a file's bytes. */
export async function encodeContainer<M extends object>(magic: string, version: number, manifest: M, payload: Float32Array): Promise<Uint8Array> {
  if (magic.length !== 8) throw new Error(`container: magic must be 8 characters, got '${magic}'`);
  const body = new Uint8Array(payload.length * 4);
  const bv = new DataView(body.buffer);
  for (let k = 0; k < payload.length; k++) bv.setFloat32(4 * k, payload[k], true);
  const full = { ...manifest, payloadFloats: payload.length, sha256: await sha256Hex(body) };
  const json = new TextEncoder().encode(JSON.stringify(full));
  const pad = (4 - ((HEADER_BYTES + json.length) % 4)) % 4;
  const out = new Uint8Array(HEADER_BYTES + json.length + pad + body.length);
  out.set(new TextEncoder().encode(magic), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, version, true);
  dv.setUint32(12, json.length, true);
  out.set(json, HEADER_BYTES);
  out.set(body, HEADER_BYTES + json.length + pad);
  return out;
}

/**
 * Decodes a file's bytes: checks magic, version, lengths and checksum, and returns the parsed manifest (unchecked
 * beyond the container fields) and the payload. Throws `${what}: …` naming what is wrong.
 */
export async function decodeContainer(bytes: Uint8Array, magic: string, version: number, what: string): Promise<{ manifest: Record<string, unknown> & ContainerFields; payload: Float32Array }> {
  if (bytes.length < HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== magic) {
    throw new Error(`${what}: not a cairn ${what} (the file does not start with "${magic}")`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v = dv.getUint32(8, true);
  if (v !== version) throw new Error(`${what}: container version ${v}, this cairn reads version ${version}`);
  const mLen = dv.getUint32(12, true);
  if (HEADER_BYTES + mLen > bytes.length) throw new Error(`${what}: truncated (the manifest needs ${mLen} bytes, the file has ${bytes.length - HEADER_BYTES} after the header)`);
  let m: Record<string, unknown> & ContainerFields;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + mLen)));
  } catch (e) {
    throw new Error(`${what}: the manifest is not valid JSON (${(e as Error).message})`);
  }
  if (!m || typeof m !== 'object') throw new Error(`${what}: the manifest is not an object`);
  const start = HEADER_BYTES + mLen + ((4 - ((HEADER_BYTES + mLen) % 4)) % 4);
  if (!Number.isInteger(m.payloadFloats) || m.payloadFloats < 0) throw new Error(`${what}: payloadFloats ${m.payloadFloats} is not a count`);
  const have = bytes.length - start;
  if (have !== m.payloadFloats * 4) {
    throw new Error(have < m.payloadFloats * 4 ? `${what}: truncated (payload has ${have} of ${m.payloadFloats * 4} bytes)` : `${what}: ${have - m.payloadFloats * 4} bytes after the payload`);
  }
  const body = bytes.subarray(start);
  const sum = await sha256Hex(body);
  if (sum !== m.sha256) throw new Error(`${what}: corrupt payload (SHA-256 ${sum} differs from the manifest's ${m.sha256})`);
  const payload = new Float32Array(m.payloadFloats);
  const pv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let k = 0; k < payload.length; k++) payload[k] = pv.getFloat32(4 * k, true);
  return { manifest: m, payload };
}
