/** Small numeric helpers shared by the engine and the bench scripts. */

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** How a range check shows the value it got: numbers as JavaScript prints them, anything else as JSON. */
function shown(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

/** Throws "<label> must be an integer in [lo, hi], got v" unless v is one; returns v. */
export function checkIntIn(label: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new Error(`${label} must be an integer in [${lo}, ${hi}], got ${shown(v)}`);
  return v;
}

/** Throws "<label> must be a number in [lo, hi], got v" unless v is one; returns v. */
export function checkNumberIn(label: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new Error(`${label} must be a number in [${lo}, ${hi}], got ${shown(v)}`);
  return v;
}
