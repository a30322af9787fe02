/** metrics.csv: the per-iteration metrics flattened to one column per scalar (nested keys joined by '.'). */

/** Flattens a metrics row: nested objects and arrays become dotted keys (`loss.vLoss`, `stageReached.0`). */
export function flattenMetrics(row: unknown, prefix = '', out: Record<string, number | string | boolean | null> = {}): Record<string, number | string | boolean | null> {
  if (row !== null && typeof row === 'object') {
    for (const [k, v] of Object.entries(row)) flattenMetrics(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = row as number | string | boolean | null;
  return out;
}

/** One CSV field: numbers as JavaScript prints them (NaN as empty), text quoted when it needs it. */
function field(v: number | string | boolean | null | undefined): string {
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV text of rows under the columns of the first row (later keys it lacks are left out); '' for no rows. */
export function metricsCsv(rows: readonly unknown[]): string {
  if (!rows.length) return '';
  const columns = Object.keys(flattenMetrics(rows[0]));
  return [columns.join(','), ...rows.map((r) => csvLine(columns, r))].join('\n') + '\n';
}

/** One CSV line of row under columns. */
export function csvLine(columns: readonly string[], row: unknown): string {
  const flat = flattenMetrics(row);
  return columns.map((c) => field(flat[c])).join(',');
}
