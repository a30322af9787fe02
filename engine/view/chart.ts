/**
 * Small canvas-2D charts for the panel: a line chart of a few series and a bar chart (the stage histogram).
 * Both draw at the canvas's CSS size times devicePixelRatio and redraw only when asked.
 */

/** One plotted line: values in x order (x = index), drawn scaled to the chart's width. */
export interface LineSeries {
  label: string;
  color: string;
  values: readonly number[];
}

/** Options of a line chart; a missing bound follows the data. */
export interface LineChartOptions {
  title: string;
  yMin?: number;
  yMax?: number;
  /** Digits shown on the axis labels and the latest values. */
  digits?: number;
}

const FONT = '11px system-ui, sans-serif';
const AXIS = '#8a93a6';
const GRID = 'rgba(138,147,166,0.18)';
const TEXT = '#d8dde8';

function fitCanvas(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
  const w = Math.max(1, canvas.clientWidth), h = Math.max(1, canvas.clientHeight);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('chart: no 2D context');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = FONT;
  return { ctx, w, h };
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/** A line chart of one or more series that share the y axis. */
export class LineChart {
  constructor(readonly canvas: HTMLCanvasElement, readonly opts: LineChartOptions) {}

  /** Redraws with the given series (the longest sets the x scale). */
  draw(series: readonly LineSeries[], xLabel = ''): void {
    const { ctx, w, h } = fitCanvas(this.canvas);
    const digits = this.opts.digits ?? 2;
    const left = 34, right = 6, top = 16, bottom = 14;
    const pw = w - left - right, ph = h - top - bottom;
    let lo = Number.POSITIVE_INFINITY, hi = Number.NEGATIVE_INFINITY, len = 0;
    for (const s of series) {
      len = Math.max(len, s.values.length);
      for (const v of s.values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
    if (!(lo <= hi)) { lo = 0; hi = 1; }
    lo = this.opts.yMin ?? lo;
    hi = this.opts.yMax ?? hi;
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const y = (v: number) => top + ph * (1 - (v - lo) / (hi - lo));
    // Title and latest values.
    ctx.fillStyle = TEXT;
    ctx.textBaseline = 'top';
    ctx.fillText(this.opts.title, left, 1);
    let tx = w - right;
    ctx.textAlign = 'right';
    for (let k = series.length - 1; k >= 0; k--) {
      const s = series[k];
      const last = s.values.length ? s.values[s.values.length - 1] : Number.NaN;
      const text = `${s.label} ${fmt(last, digits)}`;
      ctx.fillStyle = s.color;
      ctx.fillText(text, tx, 1);
      tx -= ctx.measureText(text).width + 8;
    }
    ctx.textAlign = 'left';
    // Axes and grid.
    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.fillStyle = AXIS;
    ctx.textBaseline = 'middle';
    for (let g = 0; g <= 2; g++) {
      const v = lo + ((hi - lo) * g) / 2, yy = Math.round(y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(left + pw, yy); ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText(fmt(v, digits), left - 4, yy);
    }
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    if (xLabel) ctx.fillText(xLabel, left, h);
    if (len === 0) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('no finished episode yet', left + pw / 2, top + ph / 2);
      ctx.textAlign = 'left';
      return;
    }
    // Lines: at most one vertex per pixel column.
    for (const s of series) {
      const n = s.values.length;
      if (n === 0) continue;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      const step = Math.max(1, Math.floor(n / pw));
      let started = false;
      for (let k = 0; k < n; k += step) {
        const v = s.values[k];
        if (!Number.isFinite(v)) continue;
        const xx = left + (len > 1 ? (pw * k) / (len - 1) : pw / 2);
        const yy = y(Math.min(hi, Math.max(lo, v)));
        if (started) ctx.lineTo(xx, yy);
        else { ctx.moveTo(xx, yy); started = true; }
      }
      const v = s.values[n - 1];
      if (Number.isFinite(v)) ctx.lineTo(left + (len > 1 ? (pw * (n - 1)) / (len - 1) : pw / 2), y(Math.min(hi, Math.max(lo, v))));
      ctx.stroke();
    }
  }
}

/** A bar chart with labelled bars (the stage histograms, coloured like the markers), scaled to the largest bar. */
export class BarChart {
  constructor(readonly canvas: HTMLCanvasElement, readonly title: string) {}

  /** Draws counts [k] as bars, each annotated with its count or its share of the total; `empty` is shown when all are 0. */
  draw(counts: ArrayLike<number>, labels: readonly string[], colors: readonly string[], opts: { annotate?: 'count' | 'percent'; empty?: string } = {}): void {
    const { ctx, w, h } = fitCanvas(this.canvas);
    const top = 16, bottom = 14, left = 6, right = 6;
    const n = counts.length;
    let total = 0, max = 0;
    for (let k = 0; k < n; k++) { total += counts[k]; max = Math.max(max, counts[k]); }
    ctx.fillStyle = TEXT;
    ctx.textBaseline = 'top';
    ctx.fillText(this.title, left, 1);
    const pw = w - left - right, ph = h - top - bottom, bw = pw / Math.max(1, n);
    if (total === 0 && opts.empty) {
      ctx.fillStyle = AXIS;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(opts.empty, left + pw / 2, top + ph / 2);
      ctx.textAlign = 'left';
      return;
    }
    for (let k = 0; k < n; k++) {
      const bh = max > 0 ? (ph * counts[k]) / max : 0;
      const x = left + k * bw;
      ctx.fillStyle = colors[k % colors.length];
      ctx.fillRect(x + 3, top + ph - bh, bw - 6, bh);
      ctx.fillStyle = TEXT;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      const text = opts.annotate === 'count' ? String(counts[k]) : total > 0 ? `${Math.round((100 * counts[k]) / total)}%` : '';
      ctx.fillText(text, x + bw / 2, Math.max(top + 11, top + ph - bh - 1));
      ctx.fillStyle = AXIS;
      ctx.fillText(labels[k] ?? String(k), x + bw / 2, h);
    }
    ctx.textAlign = 'left';
  }
}
