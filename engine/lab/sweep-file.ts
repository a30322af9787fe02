/**
 * Sweep files: a set of `cairn train` runs as JSON, validated before anything starts, each run with a stable
 * directory name derived from its settings. Two forms:
 *
 * ```json
 * { "grid": { "shaping": ["sparse", "pbrs"], "lr": [0.001, 0.0003] }, "base": { "task": "push", "steps": 2e6 }, "seeds": [1, 2, 3] }
 * { "runs": [ { "task": "reach", "shaping": "sparse" }, { "task": "push", "weight": 10, "subgoals": "specs/push-near.json" } ], "seeds": [1, 2] }
 * ```
 *
 * `grid` runs every combination of its values (the cartesian product, the last field varying fastest), `runs` each
 * entry; both over `base` (optional), each configuration once per seed of `seeds` (default [1]). Fields carry the
 * names and values of `cairn train`'s flags: task, shaping, weight, subgoals and dr (an inline object, or the path of
 * a JSON file relative to the sweep file), envs, steps, hidden ("64,64"), lr, num-steps, epochs, minibatches, gamma,
 * gae-lambda, ent-coef, init-log-std, value-out-gain, action-penalty, bound-penalty, critic, stage-in-obs,
 * terminate-on-infraction and norm-adv (true/false), eval-episodes. A field left out takes `cairn train`'s default (task push, shaping pbrs). A bad value is an error
 * naming its place and field (`runs[2].shaping: must be one of sparse, dense, pbrs, bonus, gated, got 'pbsr'`); a
 * subgoal spec is checked against its run's task's point names.
 *
 * A run's name is its task and shaping, then every other field it sets as a short tag and value in the order
 * above, then its seed: `push-pbrs-w20-lr0.001-s1`; JSON inputs appear as a content hash (`sg-near-3f2a1c`), and a
 * name over 100 characters is cut and ends in a hash of the whole.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getTask } from '../../tasks/registry.ts';
import { MAX_ENVS } from '../env.ts';
import { checkIntIn, checkNumberIn } from '../numeric.ts';
import { SHAPING_MODES, validateSubgoalSpec, MAX_SHAPING_SCALE } from '../shaping/spec.ts';
import { checkInfractionMode } from '../penalties.ts';
import { validateDomainRandomization } from '../domain-randomization.ts';
import { CRITIC_REWARDS, taskPpoConfig } from '../train/ppo.ts';
import { INIT_LOG_STD_RANGE } from '../train/run.ts';
import { parseHidden } from '../cli/args.ts';

/** One field of a sweep run: how its value is checked, tagged in run names and recorded in a run's config.json. */
interface Field {
  /** Checks a value (`place` names it in errors, e.g. 'runs[2].lr'); returns the value kept (task: its lowercase name). */
  check: (v: unknown, place: string) => unknown;
  /** Prefix of the value in run names. */
  tag: string;
  /** Path of the value in config.json. */
  at: readonly string[];
  /** config.json records null when a run leaves the field out (train's own defaults are not checked). */
  nullWhenUnset?: true;
  /** The value as config.json records it, from the value kept (default: the same). */
  recorded?: (v: unknown) => unknown;
  /** A JSON input (an inline object or a file path relative to the sweep file), passed to train as a file. */
  json?: true;
}

const shown = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

/** A number in [lo, hi] (lo excluded with `openLo`). */
const num = (lo: number, hi: number, openLo = false) => (v: unknown, place: string) => {
  if (openLo && v === lo) throw new Error(`${place}: must be a number in (${lo}, ${hi}], got ${lo}`);
  return checkNumberIn(`${place}:`, v, lo, hi);
};
const int = (lo: number, hi: number) => (v: unknown, place: string) => checkIntIn(`${place}:`, v, lo, hi);
const bool = (v: unknown, place: string) => {
  if (typeof v !== 'boolean') throw new Error(`${place}: must be true or false, got ${shown(v)}`);
  return v;
};
const oneOf = (choices: readonly string[]) => (v: unknown, place: string) => {
  if (typeof v !== 'string' || !choices.includes(v)) throw new Error(`${place}: must be one of ${choices.join(', ')}, got ${shown(v)}`);
  return v;
};
/** A JSON input: an object, or a path; the file is read when the sweep is parsed. */
const jsonInput = (v: unknown, place: string) => {
  if (typeof v === 'string' ? v.length === 0 : v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${place}: must be an object or the path of a JSON file, got ${shown(v)}`);
  return v;
};
const ppo = (...keys: string[]) => ['run', 'ppo', ...keys];

/** Every field a sweep run may set, in the order of run names; each is the `cairn train` flag of the same name. */
export const SWEEP_FIELDS: Readonly<Record<string, Field>> = {
  task: { tag: '', at: ['run', 'task'], check: (v, place) => {
    try {
      return getTask(v as string).name.toLowerCase();
    } catch (e) {
      throw new Error(`${place}: ${(e as Error).message}`);
    }
  } },
  shaping: { tag: '', at: ['run', 'shaping'], check: oneOf(SHAPING_MODES) },
  weight: { tag: 'w', at: ['run', 'shapingWeight'], check: num(0, MAX_SHAPING_SCALE) },
  subgoals: { tag: 'sg-', at: ['run', 'subgoals'], check: jsonInput, json: true, nullWhenUnset: true },
  dr: { tag: 'dr-', at: ['run', 'domainRandomization'], check: jsonInput, json: true, nullWhenUnset: true },
  envs: { tag: 'n', at: ['run', 'numEnvs'], check: int(1, MAX_ENVS) },
  steps: { tag: 'st', at: ['run', 'totalSteps'], check: num(1, 1e13) },
  hidden: { tag: 'h', at: ['run', 'hidden'], recorded: (v) => parseHidden(v as string), check: (v, place) => {
    if (typeof v !== 'string') throw new Error(`${place}: must be comma-separated widths like "64,64", got ${shown(v)}`);
    try {
      parseHidden(v);
    } catch (e) {
      throw new Error(`${place}: ${(e as Error).message.replace(/^--hidden /, '')}`);
    }
    return v;
  } },
  lr: { tag: 'lr', at: ppo('hp', 'lr'), check: num(0, 1) },
  'num-steps': { tag: 'ns', at: ppo('numSteps'), check: int(1, Number.MAX_SAFE_INTEGER) },
  epochs: { tag: 'ep', at: ppo('updateEpochs'), check: int(1, Number.MAX_SAFE_INTEGER) },
  minibatches: { tag: 'mb', at: ppo('numMinibatches'), check: int(1, Number.MAX_SAFE_INTEGER) },
  gamma: { tag: 'g', at: ppo('gamma'), check: num(0, 1, true) },
  'gae-lambda': { tag: 'lam', at: ppo('gaeLambda'), check: num(0, 1) },
  'ent-coef': { tag: 'ent', at: ppo('hp', 'entCoef'), check: num(0, 100) },
  'init-log-std': { tag: 'ls', at: ['run', 'initLogStd'], check: num(...INIT_LOG_STD_RANGE), nullWhenUnset: true },
  'value-out-gain': { tag: 'vg', at: ['run', 'valueOutGain'], check: num(1e-6, 100), nullWhenUnset: true },
  'action-penalty': { tag: 'ap', at: ppo('actionPenalty'), check: num(0, Number.MAX_VALUE) },
  'bound-penalty': { tag: 'bp', at: ppo('boundPenalty'), check: num(0, Number.MAX_VALUE) },
  critic: { tag: 'c-', at: ppo('criticReward'), check: oneOf(['auto', ...CRITIC_REWARDS]) },
  // These two are recorded only when on (runs from before the flags keep their identity).
  'stage-in-obs': { tag: 'sio-', at: ppo('stageInObs'), check: bool, recorded: (v) => (v ? true : undefined) },
  'terminate-on-infraction': { tag: 'toi-', at: ['run', 'terminateOnInfraction'], check: bool, recorded: (v) => (v ? true : undefined) },
  'norm-adv': { tag: 'na-', at: ppo('hp', 'normAdv'), check: bool },
  'eval-episodes': { tag: 'ev', at: ['evalEpisodes'], check: int(1, 1e6) },
};

/** `cairn train`'s envs when a run leaves them out (for the minibatch check). */
const TRAIN_DEFAULT_ENVS = 256;
/** Longest run name before it is cut and hashed. */
const MAX_NAME = 100;

/** One run of a sweep: a configuration and a seed. */
export interface SweepRun {
  /** Directory name under DIR/runs, e.g. 'push-pbrs-w20-lr0.001-s1'. */
  name: string;
  /** Its configuration's name: `name` without the seed, shared by the configuration's seeds. */
  config: string;
  /** Where the sweep file defines it, for messages: 'runs[2]' or 'grid[lr=0.001,shaping=pbrs]'. */
  where: string;
  /** Its fields as the sweep gives them (base, then the grid combination or the entry); task and shaping always. */
  settings: Record<string, unknown>;
  seed: number;
  /** The JSON of each JSON-input field it sets (subgoals, dr), read from its file or inline. */
  inputs: Record<string, unknown>;
}

/** The first 'n' hex digits of the SHA-256 of a text. */
export function shortHash(text: string, n: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, n);
}

/** A step count in names: 4000 → '4k', 2e6 → '2m', anything else as JavaScript prints it. */
function compactSteps(x: number): string {
  if (x >= 1e6 && Number.isInteger(x / 1e3)) return `${x / 1e6}m`;
  if (x >= 1e3 && Number.isInteger(x)) return `${x / 1e3}k`;
  return String(x);
}

/** A field's part of a run name: its tag and value. */
function namePart(field: string, v: unknown, input: unknown): string {
  const f = SWEEP_FIELDS[field];
  let text: string;
  if (f.json) text = `${typeof v === 'string' ? path.basename(v).replace(/\.json$/i, '') + '-' : ''}${shortHash(JSON.stringify(input), 6)}`;
  else if (field === 'steps') text = compactSteps(v as number);
  else if (field === 'hidden') text = (v as string).replace(/,/g, 'x');
  else text = String(v);
  return (f.tag + text).replace(/[^A-Za-z0-9.+_-]/g, '_');
}

/** The configuration name of merged settings: task, shaping, then the other fields in SWEEP_FIELDS order. */
function configName(settings: Record<string, unknown>, inputs: Record<string, unknown>): string {
  const parts = Object.keys(SWEEP_FIELDS).filter((k) => k in settings).map((k) => namePart(k, settings[k], inputs[k]));
  const name = parts.join('-');
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME - 9).replace(/-+$/, '')}-${shortHash(name, 8)}`;
}

/** A plain object (not null, not an array), or an error naming its place. */
function plainObject(v: unknown, place: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${place}: must be an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  return v as Record<string, unknown>;
}

/** Reads and parses a JSON file named in a sweep (relative to its directory); errors name the place. */
function readJson(file: string, baseDir: string, place: string): unknown {
  const abs = path.resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    throw new Error(`${place}: cannot read ${abs}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${place}: ${abs} is not valid JSON (${(e as Error).message})`);
  }
}

/** The key of a JSON input in the parse's cache: a file by field and path, an inline object by identity. */
const inputKey = (field: string, kept: unknown): unknown => (typeof kept === 'string' ? `${field}:${kept}` : kept);

/** Checks one value of a field at its place; JSON inputs are read (dr checked) into `inputs` (by inputKey). */
function checkValue(field: string, v: unknown, place: string, baseDir: string, inputs: Map<unknown, unknown>): unknown {
  const f = SWEEP_FIELDS[field];
  if (!f) {
    const hint = field === 'seed' ? 'seeds go in the top-level "seeds" list' : `fields: ${Object.keys(SWEEP_FIELDS).join(', ')}`;
    throw new Error(`${place}: unknown field '${field}' (${hint})`);
  }
  const kept = f.check(v, place);
  if (f.json && !inputs.has(inputKey(field, kept))) {
    const json = typeof kept === 'string' ? readJson(kept, baseDir, place) : kept;
    try {
      inputs.set(inputKey(field, kept), field === 'dr' ? validateDomainRandomization(json) : json);
    } catch (e) {
      throw new Error(`${place}: ${(e as Error).message}`);
    }
  }
  return kept;
}

/** Checks every field of a settings object at its place (`base`, `runs[2]`); returns the values kept. */
function checkSettings(o: unknown, place: string, baseDir: string, inputs: Map<unknown, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plainObject(o, place))) out[k] = checkValue(k, v, `${place}.${k}`, baseDir, inputs);
  return out;
}

/** Checks what depends on a whole configuration: the subgoal spec against its task's points, infraction termination against the shaping mode, minibatches against samples. */
function checkConfiguration(s: Record<string, unknown>, inputs: Record<string, unknown>, where: string): void {
  const task = getTask(s.task as string);
  if (inputs.subgoals !== undefined) {
    try {
      validateSubgoalSpec(inputs.subgoals, task.pointNames);
    } catch (e) {
      throw new Error(`${where}.subgoals: ${(e as Error).message}`);
    }
  }
  const defaults = taskPpoConfig(task.ppoDefaults);
  const numSteps = (s['num-steps'] as number | undefined) ?? defaults.numSteps;
  const samples = ((s.envs as number | undefined) ?? TRAIN_DEFAULT_ENVS) * numSteps;
  if (s['terminate-on-infraction'] === true) checkInfractionMode(s.shaping as string, `${where}.terminate-on-infraction`);
  const minibatches = (s.minibatches as number | undefined) ?? defaults.numMinibatches;
  if (minibatches > samples) throw new Error(`${where}.minibatches: ${minibatches} exceeds the ${samples} samples of an iteration (envs × num-steps)`);
}

/** The seeds list: distinct uint32 integers, default [1]. */
function checkSeeds(v: unknown): number[] {
  if (v === undefined) return [1];
  if (!Array.isArray(v) || v.length === 0) throw new Error(`seeds: must be a non-empty list of integers, got ${shown(v)}`);
  v.forEach((s, i) => checkIntIn(`seeds[${i}]:`, s, 0, 2 ** 32 - 1));
  const dup = v.findIndex((s, i) => v.indexOf(s) !== i);
  if (dup >= 0) throw new Error(`seeds[${dup}]: seed ${v[dup]} is listed twice`);
  return v as number[];
}

/** The configurations of the file's grid or runs list, each with where it comes from, before base is merged. */
function configurations(root: Record<string, unknown>, baseDir: string, inputs: Map<unknown, unknown>): { where: string; settings: Record<string, unknown> }[] {
  if (root.runs !== undefined) {
    if (!Array.isArray(root.runs) || root.runs.length === 0) throw new Error(`runs: must be a non-empty list of objects, got ${shown(root.runs)}`);
    return root.runs.map((r, i) => ({ where: `runs[${i}]`, settings: checkSettings(r, `runs[${i}]`, baseDir, inputs) }));
  }
  const grid = plainObject(root.grid, 'grid');
  if (Object.keys(grid).length === 0) throw new Error('grid: must name at least one field');
  let combos: { where: string[]; settings: Record<string, unknown> }[] = [{ where: [], settings: {} }];
  for (const [field, values] of Object.entries(grid)) {
    if (!Array.isArray(values) || values.length === 0) throw new Error(`grid.${field}: must be a non-empty list of values, got ${shown(values)}`);
    const kept = values.map((v, i) => checkValue(field, v, `grid.${field}[${i}]`, baseDir, inputs));
    combos = combos.flatMap((c) => kept.map((v, i) => ({ where: [...c.where, `${field}=${typeof v === 'object' ? `#${i}` : v}`], settings: { ...c.settings, [field]: v } })));
  }
  return combos.map((c) => ({ where: `grid[${c.where.join(',')}]`, settings: c.settings }));
}

/** Parses and validates a sweep file's JSON (JSON inputs relative to baseDir) into its runs; throws naming the bad place. */
export function parseSweep(json: unknown, baseDir: string): SweepRun[] {
  const root = plainObject(json, 'sweep');
  for (const k of Object.keys(root)) if (!['grid', 'runs', 'base', 'seeds'].includes(k)) throw new Error(`sweep: unknown key '${k}' (keys: grid or runs, base, seeds)`);
  if ((root.grid === undefined) === (root.runs === undefined)) throw new Error('sweep: give exactly one of "grid" (every combination) or "runs" (a list)');
  const inputs = new Map<unknown, unknown>();
  const base = root.base === undefined ? {} : checkSettings(root.base, 'base', baseDir, inputs);
  const seeds = checkSeeds(root.seeds);
  const runs: SweepRun[] = [];
  const byName = new Map<string, string>();
  for (const c of configurations(root, baseDir, inputs)) {
    const settings: Record<string, unknown> = { task: 'push', shaping: 'pbrs', ...base, ...c.settings };
    const runInputs = Object.fromEntries(Object.keys(settings).filter((k) => SWEEP_FIELDS[k].json).map((k) => [k, inputs.get(inputKey(k, settings[k]))]));
    checkConfiguration(settings, runInputs, c.where);
    const config = configName(settings, runInputs);
    if (byName.has(config)) throw new Error(`${c.where}: the same configuration as ${byName.get(config)} (${config})`);
    byName.set(config, c.where);
    for (const seed of seeds) runs.push({ name: `${config}-s${seed}`, config, where: c.where, settings, seed, inputs: runInputs });
  }
  return runs;
}

/** Reads a sweep file and parses it (parseSweep); JSON inputs are relative to the file's directory. */
export function loadSweep(file: string): SweepRun[] {
  return parseSweep(readJson(file, '.', 'sweep file'), path.dirname(path.resolve(file)));
}

/** The file name under which a run's JSON input is handed to train: the field and a hash of its content. */
export function inputFileName(field: string, json: unknown): string {
  return `${field}-${shortHash(JSON.stringify(json), 12)}.json`;
}

/** The `cairn train` flags (`--name=value`) of a run's settings and seed; JSON inputs point into inputDir (inputFileName). */
export function trainFlags(run: SweepRun, inputDir: string): string[] {
  const flags = Object.entries(run.settings).map(([k, v]) => `--${k}=${SWEEP_FIELDS[k].json ? path.join(inputDir, inputFileName(k, run.inputs[k])) : String(v)}`);
  return [...flags, `--seed=${run.seed}`];
}

/** The value at a path of a parsed JSON object, or undefined. */
function valueAt(o: unknown, at: readonly string[]): unknown {
  return at.reduce<unknown>((x, k) => (x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), o);
}

/**
 * Where a run directory's config.json disagrees with a sweep run: every field the run sets, its seed, and the
 * fields config.json records as null when unset; [] when it agrees. Each entry reads 'lr: 0.0003 there, 0.001 here'.
 */
export function configMismatches(run: SweepRun, config: unknown): string[] {
  const out: string[] = [];
  const shownValue = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v));
  const compare = (label: string, at: readonly string[], want: unknown) => {
    const have = valueAt(config, at);
    if (JSON.stringify(have) !== JSON.stringify(want)) out.push(`${label}: ${shownValue(have)} there, ${shownValue(want)} here`);
  };
  for (const [k, f] of Object.entries(SWEEP_FIELDS)) {
    if (k in run.settings) compare(k, f.at, f.json ? run.inputs[k] : (f.recorded ?? ((v) => v))(run.settings[k]));
    else if (f.nullWhenUnset) compare(k, f.at, null);
  }
  compare('seed', ['run', 'seed'], run.seed);
  return out;
}
