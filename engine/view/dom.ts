/** The page's small DOM helpers: element lookup, select filling and number formatting for the panel. */

/** The element of index.html with this id; throws when it is missing. */
export function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`view: #${id} is missing from index.html`);
  return e;
}

/** Fills a selector with `values`, `current` selected (added as one more option when it is not among them). */
export function fillSelect(sel: HTMLSelectElement, values: readonly (string | number)[], current: string | number): void {
  sel.replaceChildren(...values.map((v) => new Option(String(v), String(v), false, String(v) === String(current))));
  if (!values.map(String).includes(String(current))) sel.add(new Option(String(current), String(current), true, true));
}

/** `v` with `digits` decimals, or '–' when not finite. */
export function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}
