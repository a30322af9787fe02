/** Flag helpers: parseFlags for the bench scripts (the cairn CLI parses with commander, engine/cli/command.ts), flag, parseHidden and readJsonFlag for both. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Kinds of flag values. */
export type FlagKind = 'boolean' | 'string' | 'number';

/**
 * Parses `--name value` and `--flag` arguments against a schema; unknown flags and missing values throw.
 * Up to maxPositional plain arguments are allowed and returned in `positional`.
 */
export function parseFlags(argv: string[], schema: Record<string, FlagKind>, maxPositional = 0): Record<string, string | number | boolean> & { positional?: string[] } {
  const out: Record<string, string | number | boolean> & { positional?: string[] } = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (positional.length >= maxPositional) throw new Error(`unexpected argument '${arg}'`);
      positional.push(arg);
      continue;
    }
    // Only the first '=' separates the name from an inline value (`--out=DIR/r=1` is the directory DIR/r=1).
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const kind = schema[name];
    if (!kind) throw new Error(`unknown flag --${name} (known: ${Object.keys(schema).map((k) => '--' + k).join(', ')})`);
    if (name in out) throw new Error(`flag --${name} is given twice`);
    if (kind === 'boolean') {
      out[name] = booleanValue(name, inline);
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new Error(`flag --${name} needs a value`);
    out[name] = kind === 'number' ? numberValue(name, v) : v;
  }
  if (maxPositional > 0) out.positional = positional;
  return out;
}

/** When argv asks for --help or -h, prints the script's header comment (its first doc comment, with the usage line) and exits 0. */
export function exitWithHelpIfAsked(argv: string[], scriptUrl: string): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  const header = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(fileURLToPath(scriptUrl), 'utf8'));
  console.log((header?.[1] ?? '').split('\n').map((line) => line.replace(/^\s*\* ?/, '')).join('\n').trim());
  process.exit(0);
}

/** A boolean flag's value from its inline text (`--name` alone, `--name=true`, `--name=false`); anything else throws. */
export function booleanValue(name: string, inline: string | undefined): boolean {
  if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new Error(`flag --${name} takes no value or =true / =false, got '${inline}'`);
  return inline !== 'false';
}

/** A number flag's value: finite, not empty; anything else throws naming the flag. */
export function numberValue(name: string, v: string): number {
  const x = v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(x)) throw new Error(`flag --${name} must be a number, got '${v}'`);
  return x;
}

/** Reads an optional flag of a kind, with a default; throws when the parsed value has another type. */
export function flag<T extends string | number | boolean>(f: Record<string, unknown>, name: string, fallback: T): T {
  const v = f[name];
  if (v === undefined) return fallback;
  if (typeof v !== typeof fallback) throw new Error(`flag --${name} has the wrong type`);
  return v as T;
}

export { parseHidden } from '../train/session.ts';

/** Reads the JSON file given to --flagName (a subgoal spec, DR ranges, search settings; validated later, where its meaning is known). */
export async function readJsonFlag(flagName: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`--${flagName}: cannot read ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`--${flagName}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}
