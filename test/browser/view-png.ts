/**
 * A tiny PNG decoder for the view tests (8-bit greyscale, RGB, grey+alpha or RGBA, not interlaced: what
 * Chromium's screenshots are), and pixel statistics over a rectangle.
 */
import { inflateSync } from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  /** Samples per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
  channels: number;
  /** [height, width, channels] samples, row-major. */
  data: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** Decodes a PNG file's bytes; throws on anything this decoder does not handle. */
export function decodePng(buf: Uint8Array): Image {
  for (let k = 0; k < 8; k++) if (buf[k] !== SIGNATURE[k]) throw new Error('png: bad signature');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 8, width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  while (at < buf.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...buf.subarray(at + 4, at + 8));
    const body = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const depth = body[8], colorType = body[9], interlace = body[12];
      if (depth !== 8 || !(colorType in CHANNELS) || interlace !== 0) throw new Error(`png: unsupported depth ${depth}, colour type ${colorType}, interlace ${interlace}`);
      channels = CHANNELS[colorType];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    at += 12 + len;
  }
  if (!width || !height) throw new Error('png: no IHDR');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`png: ${raw.length} bytes inflated, expected ${height * (stride + 1)}`);
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1, dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[dst + x - channels] : 0; // left
      const b = y > 0 ? out[dst - stride + x] : 0; // up
      const c = x >= channels && y > 0 ? out[dst - stride + x - channels] : 0; // up-left
      let p: number;
      switch (filter) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: {
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`png: bad filter ${filter} on row ${y}`);
      }
      out[dst + x] = (raw[src + x] + p) & 0xff;
    }
  }
  return { width, height, channels, data: out };
}

/** Luminance statistics of the pixels in [x0, x1) × [y0, y1): mean, variance and distinct RGB colours. */
export function pixelStats(img: Image, x0 = 0, y0 = 0, x1 = img.width, y1 = img.height): { mean: number; variance: number; colors: number } {
  let n = 0, sum = 0, sum2 = 0;
  const seen = new Set<number>();
  const c = img.channels;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * img.width + x) * c;
      const r = img.data[o], g = c >= 3 ? img.data[o + 1] : r, b = c >= 3 ? img.data[o + 2] : r;
      const l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      n++; sum += l; sum2 += l * l;
      seen.add((r << 16) | (g << 8) | b);
    }
  }
  const mean = sum / n;
  return { mean, variance: sum2 / n - mean * mean, colors: seen.size };
}
