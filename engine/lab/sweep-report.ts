/**
 * A sweep's results ranked by configuration (seeds grouped), as a Markdown table and as a self-contained HTML page
 * with the table and every configuration's learning curves.
 */
import { median } from '../numeric.ts';
import { formatTick, lineChartSvg } from '../train/plot.ts';

/** One run's line of results.json. */
export interface RunResult {
  name: string;
  /** Its configuration's name (the run name without the seed). */
  config: string;
  /** Its fields as the sweep file gives them. */
  settings: Record<string, unknown>;
  seed: number;
  /** finished (this time or before), failed (train exited with an error) or interrupted (stopped or never started). */
  status: 'finished' | 'failed' | 'interrupted';
  /** The final evaluation's success rate (mean action, the task's sparse success); null unless finished. */
  evalSuccess: number | null;
  /** That evaluation's mean goal progress (1 at the goal, 0 unmoved); null unless finished, or not measured. */
  goalProgress: number | null;
  /** First env steps where the training success rate reached 50% / 90%; null if never or unless finished. */
  stepsTo50: number | null;
  stepsTo90: number | null;
  /** Seconds of the run's iterations and evaluation; null unless finished. */
  wallSeconds: number | null;
  /** WASM backend threads the run trained with; null unless finished. */
  threads: number | null;
  /** The end of train's error output, for failed runs. */
  error?: string;
}

/** One configuration's row of the ranked table, over its finished seeds. */
export interface ConfigRow {
  config: string;
  settings: Record<string, unknown>;
  /** Finished seeds and all seeds. */
  finished: number;
  seeds: number;
  /** Eval success over finished seeds: mean, min, max; null when none finished. */
  meanSuccess: number | null;
  minSuccess: number | null;
  maxSuccess: number | null;
  /** Mean eval goal progress over the finished seeds that measured it; null when none did. */
  meanGoalProgress: number | null;
  /** Median over finished seeds of steps to 50% / 90% training success; null when the median seed never got there. */
  stepsTo50: number | null;
  stepsTo90: number | null;
  /** Mean wall seconds per finished run. */
  wallSeconds: number | null;
  /** The finished run with the highest eval success (lowest seed on ties), or null. */
  bestRun: string | null;
}

/** Mean of xs, or null when empty. */
function mean(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Median where null means never (+∞); null when the median is never. */
function medianSteps(xs: (number | null)[]): number | null {
  const m = median(xs.map((x) => x ?? Infinity));
  return Number.isFinite(m) ? m : null;
}

/** Groups runs by configuration (first-seen order) and ranks them: mean eval success down, then steps to 90%, 50% up. */
export function rankConfigurations(results: readonly RunResult[]): ConfigRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) groups.set(r.config, [...(groups.get(r.config) ?? []), r]);
  const rows = [...groups.values()].map((rs): ConfigRow => {
    const done = rs.filter((r) => r.status === 'finished');
    const s = done.map((r) => r.evalSuccess!);
    const best = [...done].sort((a, b) => b.evalSuccess! - a.evalSuccess! || a.seed - b.seed)[0];
    return {
      config: rs[0].config, settings: rs[0].settings, finished: done.length, seeds: rs.length,
      meanSuccess: mean(s),
      minSuccess: done.length ? Math.min(...s) : null,
      maxSuccess: done.length ? Math.max(...s) : null,
      meanGoalProgress: mean(done.map((r) => r.goalProgress).filter((x): x is number => x !== null)),
      stepsTo50: done.length ? medianSteps(done.map((r) => r.stepsTo50)) : null,
      stepsTo90: done.length ? medianSteps(done.map((r) => r.stepsTo90)) : null,
      wallSeconds: mean(done.map((r) => r.wallSeconds!)),
      bestRun: best?.name ?? null,
    };
  });
  // Sort keys, smaller first; null (nothing finished, never reached) last. ∞ − ∞ is NaN, which falls through to the next key.
  const down = (x: number | null) => (x === null ? Infinity : -x);
  const up = (x: number | null) => x ?? Infinity;
  return rows.sort((a, b) => down(a.meanSuccess) - down(b.meanSuccess) || up(a.stepsTo90) - up(b.stepsTo90) || up(a.stepsTo50) - up(b.stepsTo50) || (a.config < b.config ? -1 : 1));
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const steps = (x: number | null) => (x === null ? '—' : formatTick(x));
const seconds = (x: number | null) => (x === null ? '—' : x >= 120 ? `${(x / 60).toFixed(1)} min` : `${x.toFixed(1)} s`);

/** The ranked table's header and cells (Markdown and HTML render the same ones). */
function tableCells(rows: readonly ConfigRow[]): { header: string[]; cells: string[][] } {
  return {
    header: ['rank', 'configuration', 'seeds', 'eval success (mean)', 'min–max', 'goal progress', 'steps to 50% (median)', 'steps to 90% (median)', 'wall time per run'],
    cells: rows.map((r, i) => [String(i + 1), r.config, `${r.finished}/${r.seeds}`, pct(r.meanSuccess), r.meanSuccess === null ? '—' : `${pct(r.minSuccess)}–${pct(r.maxSuccess)}`, r.meanGoalProgress === null ? '—' : r.meanGoalProgress.toFixed(2), steps(r.stepsTo50), steps(r.stepsTo90), seconds(r.wallSeconds)]),
  };
}

/** The ranked table as Markdown ('—': no finished seed, or the median seed never reached that success). */
export function markdownRanking(rows: readonly ConfigRow[]): string {
  const { header, cells } = tableCells(rows);
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...cells.map((c) => `| ${c.join(' | ')} |`)].join('\n') + '\n';
}

/** What report.html shows. */
export interface SweepReport {
  /** Heading, e.g. the sweep file's name. */
  title: string;
  /** One line under the heading: when, where, how many runs at a time. */
  subtitle: string;
  rows: ConfigRow[];
  /** Per configuration, each finished seed's training success rate against env steps. */
  curves: Record<string, { seed: number; x: number[]; y: number[] }[]>;
  /**
   * Per configuration, a plain-text failure analysis of its best seed (`bestRun`), from a run-directory analyzer;
   * absent when none is available, and then the page has no such section.
   */
  failureAnalysis?: Record<string, string>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** report.html: a static page with no external resources (inline CSS and SVG). */
export function reportHtml(r: SweepReport): string {
  const { header, cells } = tableCells(r.rows);
  const table = `<table>\n<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>\n${cells.map((c) => `<tr>${c.map((x, i) => `<td${i === 1 ? '' : ' class="n"'}>${i === 1 ? `<a href="#${esc(x)}">${esc(x)}</a>` : esc(x)}</td>`).join('')}</tr>`).join('\n')}\n</table>`;
  const sections = r.rows.map((row) => {
    const series = (r.curves[row.config] ?? []).map((c) => ({ name: `seed ${c.seed}`, x: c.x, y: c.y }));
    const chart = series.length ? lineChartSvg(series, { title: row.config, xLabel: 'env steps', yLabel: 'training success rate', yRange: [0, 1], width: 720, height: 320 }) : '<p>No finished seed.</p>';
    const analysis = r.failureAnalysis?.[row.config];
    return `<section id="${esc(row.config)}">\n<h2>${esc(row.config)}</h2>\n<p>${esc(JSON.stringify(row.settings))}</p>\n${chart}${analysis === undefined ? '' : `<h3>Failure analysis of ${esc(row.bestRun ?? '')}</h3>\n<pre>${esc(analysis)}</pre>\n`}</section>`;
  });
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${esc(r.title)}</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}</style>\n</head>\n<body>\n<h1>${esc(r.title)}</h1>\n<p>${esc(r.subtitle)}</p>\n${table}\n${sections.join('\n')}\n</body>\n</html>\n`;
}
