/** Command-line flag parsing for the cairn CLI and the bench scripts. */

/** Kinds of flag values. */
export type FlagKind = 'boolean' | 'string' | 'number';

/** Parses `--name value` and `--flag` arguments against a schema; unknown flags and missing values throw. */
export function parseFlags(argv: string[], schema: Record<string, FlagKind>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const [name, inline] = arg.slice(2).split('=', 2);
    const kind = schema[name];
    if (!kind) throw new Error(`unknown flag --${name} (known: ${Object.keys(schema).map((k) => '--' + k).join(', ')})`);
    if (kind === 'boolean') { out[name] = true; continue; }
    const v = inline ?? argv[++i];
    if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new Error(`flag --${name} needs a value`);
    if (kind === 'number') {
      const x = Number(v);
      if (!Number.isFinite(x)) throw new Error(`flag --${name} must be a number, got '${v}'`);
      out[name] = x;
    } else out[name] = v;
  }
  return out;
}
