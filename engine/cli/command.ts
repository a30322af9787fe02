/**
 * Subcommand parsing on commander: help (`--help`, `-h`) with a description and default per flag, "did you mean"
 * for typos, and cairn's strict rules on top (a flag given twice, `--flag=true|false` on booleans, an empty or
 * non-numeric number, a value that is another flag) as one-line errors naming the flag.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { booleanValue, numberValue, type FlagKind } from './args.ts';

/** One flag of a subcommand. */
export interface FlagSpec {
  kind: FlagKind;
  /** What it does, one line. */
  help: string;
  /** The default, as help shows it (the command applies it). */
  default?: string | number | boolean;
  /** Name of the value in help, e.g. DIR; default: the flag's kind. */
  value?: string;
}

/** A subcommand: name, one-line summary, its flags and its positional argument if any. */
export interface CommandSpec {
  name: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  positional?: { name: string; help: string };
}

/** Thrown after a command printed its help: the CLI exits 0. */
export class HelpShown extends Error {
  constructor() {
    super('help shown');
  }
}

/** The parsed flags of a command, keyed by flag name without dashes, and its positional argument. */
export type ParsedFlags = Record<string, string | number | boolean> & { positional?: string[] };

/** A number option-argument (args.ts numberValue), its error as commander's. */
function numberArg(name: string) {
  return (v: string): number => {
    try {
      return numberValue(name, v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/** The commander Command of a spec, quiet (its output goes to `out`) and throwing instead of exiting. */
export function buildCommand(spec: CommandSpec, out: string[] = []): Command {
  const cmd = new Command(`cairn ${spec.name}`)
    .description(spec.summary)
    .helpOption('-h, --help', 'show this help and exit')
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => void out.push(s), writeErr: () => {}, outputError: () => {} });
  if (spec.positional) cmd.argument(`[${spec.positional.name}]`, spec.positional.help);
  for (const [name, f] of Object.entries(spec.flags)) {
    const help = f.default === undefined ? f.help : `${f.help} (default: ${f.default})`;
    const opt = f.kind === 'boolean' ? new Option(`--${name}`, help) : new Option(`--${name} <${f.value ?? f.kind}>`, help);
    if (f.kind === 'number') opt.argParser(numberArg(name));
    cmd.addOption(opt);
  }
  return cmd;
}

/** Parses argv (after the command name) against a spec; throws HelpShown after printing help, Error on bad input. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedFlags {
  // cairn's strict rules first: commander takes the last of a repeated flag and rejects `--json=false`.
  const seen = new Set<string>();
  const booleans: Record<string, boolean> = {};
  const args: string[] = [];
  let positionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      if (!a.startsWith('-') && ++positionals > (spec.positional ? 1 : 0)) throw new Error(`unexpected argument '${a}'${spec.positional ? ` (cairn ${spec.name} takes one ${spec.positional.name})` : ''}`);
      args.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const f = spec.flags[name];
    if (!f) {
      // Left to commander, which names it and suggests the closest flag; its value is not a positional argument.
      args.push(a);
      if (eq < 0 && argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) args.push(argv[++i]);
      continue;
    }
    if (seen.has(name)) throw new Error(`flag --${name} is given twice`);
    seen.add(name);
    if (f.kind === 'boolean') {
      booleans[name] = booleanValue(name, eq < 0 ? undefined : a.slice(eq + 1));
      continue;
    }
    if (eq < 0) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`flag --${name} needs a value`);
      args.push(`--${name}=${v}`);
      i++;
    } else args.push(a);
  }
  const out: string[] = [];
  const cmd = buildCommand(spec, out);
  try {
    cmd.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') {
        console.log(out.join('').trimEnd());
        throw new HelpShown();
      }
      throw new Error(commanderMessage(e, spec));
    }
    throw e;
  }
  const opts = cmd.opts();
  const parsed: ParsedFlags = {};
  for (const o of cmd.options) {
    const key = o.long!.slice(2);
    const v = opts[o.attributeName()];
    if (v !== undefined && key in spec.flags && spec.flags[key].kind !== 'boolean') parsed[key] = v;
  }
  Object.assign(parsed, booleans);
  if (spec.positional) parsed.positional = cmd.args.slice(0, 1);
  return parsed;
}

/** One line from a commander error: what was wrong, a suggestion where commander has one, and where help is. */
function commanderMessage(e: CommanderError, spec: CommandSpec): string {
  const msg = e.message.replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)');
  const unknown = /^unknown option '([^']+)'(.*)$/.exec(msg);
  if (unknown) return `unknown flag ${unknown[1]}${unknown[2]}`;
  const invalid = /^option '[^']+' argument '[^']*' is invalid\. (.*)$/.exec(msg);
  if (invalid) return invalid[1];
  return msg;
}
