/** A dependency-free SVG line chart for learning curves (x: env steps, y: a metric). */

/** One line of a chart. */
export interface Series {
  name: string;
  /** [n] x values, increasing. */
  x: number[];
  /** [n] y values; NaN leaves a gap. */
  y: number[];
  color?: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Formats an axis number compactly (1.5M, 20k, 0.25). */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

/** Renders series as an SVG document string; yRange fixes the y axis (e.g. [0, 1] for success rates). */
export function lineChartSvg(series: Series[], opts: { title: string; xLabel: string; yLabel: string; yRange?: [number, number]; width?: number; height?: number }): string {
  const W = opts.width ?? 760, H = opts.height ?? 420, L = 64, R = 200, T = 36, B = 48;
  const xs = series.flatMap((s) => s.x).filter(Number.isFinite);
  const ys = series.flatMap((s) => s.y).filter(Number.isFinite);
  const x0 = xs.length ? Math.min(...xs) : 0, x1 = xs.length ? Math.max(...xs) : 1;
  let [y0, y1] = opts.yRange ?? [ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1];
  if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
  const px = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y: number) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`);
  for (let k = 0; k <= 5; k++) {
    const xv = x0 + ((x1 - x0) * k) / 5, yv = y0 + ((y1 - y0) * k) / 5;
    out.push(`<line x1="${px(xv)}" y1="${T}" x2="${px(xv)}" y2="${H - B}" stroke="#eee"/><text x="${px(xv)}" y="${H - B + 16}" text-anchor="middle">${formatTick(xv)}</text>`);
    out.push(`<line x1="${L}" y1="${py(yv)}" x2="${W - R}" y2="${py(yv)}" stroke="#eee"/><text x="${L - 6}" y="${py(yv) + 4}" text-anchor="end">${formatTick(yv)}</text>`);
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    let d = '', pen = false;
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.y[i]) || !Number.isFinite(s.x[i])) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${px(s.x[i]).toFixed(1)},${py(Math.min(y1, Math.max(y0, s.y[i]))).toFixed(1)}`;
      pen = true;
    }
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (s.x.length === 1 && Number.isFinite(s.y[0])) out.push(`<circle cx="${px(s.x[0]).toFixed(1)}" cy="${py(Math.min(y1, Math.max(y0, s.y[0]))).toFixed(1)}" r="5" fill="${color}"/>`);
    out.push(`<line x1="${W - R + 12}" y1="${T + 14 + 18 * k}" x2="${W - R + 32}" y2="${T + 14 + 18 * k}" stroke="${color}" stroke-width="3"/><text x="${W - R + 38}" y="${T + 18 + 18 * k}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Stacks whole chart documents (lineChartSvg's output) vertically into one SVG document. */
export function stackedChartsSvg(charts: readonly string[]): string {
  let y = 0, width = 0;
  const parts: string[] = [];
  for (const c of charts) {
    const w = Number(/width="(\d+)"/.exec(c)?.[1]), h = Number(/height="(\d+)"/.exec(c)?.[1]);
    parts.push(c.trim().replace(/^<svg /, `<svg x="0" y="${y}" `));
    y += h;
    width = Math.max(width, w);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">\n${parts.join('\n')}\n</svg>\n`;
}
