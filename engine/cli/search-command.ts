/** `cairn search --task T --generations G --population P --out DIR`: a search over subgoal specs and shaping weights (engine/lab/search.ts). */
import { flag, readJsonFlag } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';
import { runSearch } from '../lab/search.ts';

/** `cairn search`'s flags. */
export const SEARCH_SPEC: CommandSpec = {
  name: 'search',
  summary: 'Search subgoal specs and shaping weights: a sweep per generation, elitist, by mutation or a --proposer command.',
  flags: {
    task: { kind: 'string', help: 'task whose spec is searched (reach, push, pickandplace, slide, stack)', value: 'name' },
    generations: { kind: 'number', help: 'generations in all (a re-run with more continues the search)' },
    population: { kind: 'number', help: 'candidates per generation (≥ 2): the top max(1, floor(P / 3)) so far carried, the rest new' },
    out: { kind: 'string', help: 'search directory (gen-<g>/ sweeps, search.json, best-spec.json); the same command resumes it', value: 'dir' },
    steps: { kind: 'number', help: 'env steps per candidate run', default: '1e6' },
    seeds: { kind: 'number', help: 'training seeds per candidate (1 … n); a candidate scores its mean eval success', default: 1 },
    parallel: { kind: 'number', help: 'runs at a time; each gets max(1, floor(cores / K)) threads', default: 'os.availableParallelism()' },
    queue: { kind: 'string', help: 'put each generation\'s runs on this Redis queue for cairn worker processes (DIR shared with them)', value: 'redis://HOST:PORT' },
    proposer: { kind: 'string', help: 'shell command proposing each later generation: the last generation and its failure analyses as JSON on stdin, { "candidates": [spec, ...] } on stdout', value: 'CMD' },
    start: { kind: 'string', help: 'subgoal spec JSON to start from', default: 'the task\'s own', value: 'SPEC.json' },
    base: { kind: 'string', help: 'JSON object of sweep fields for every run (envs, hidden, lr, eval-episodes, …; weight: the start weight)', value: 'SETTINGS.json' },
    seed: { kind: 'number', help: 'seed of the mutations (uint32)', default: 1 },
    json: { kind: 'boolean', help: 'print { "generations", "best": { "meanSuccess", "weight", "spec" }, "wallSeconds" } as one JSON line at the end' },
  },
};

/** Runs `cairn search`; returns 0 with a best candidate, 1 when no run finished, 130 / 143 when stopped by SIGINT / SIGTERM. */
export async function searchCommand(argv: string[]): Promise<number> {
  const f = parseCommand(SEARCH_SPEC, argv);
  const need = (name: string, what: string) => {
    if (f[name] === undefined) throw new Error(`--${name} is required (${what})`);
    return f[name];
  };
  const task = need('task', 'the task whose subgoal spec is searched') as string;
  const generations = need('generations', 'how many generations') as number;
  const population = need('population', 'candidates per generation') as number;
  const out = need('out', 'where the generations and results go') as string;
  const s = await runSearch({
    task, generations, population, outDir: out,
    budget: flag(f, 'steps', 1e6), seeds: flag(f, 'seeds', 1), seed: flag(f, 'seed', 1),
    parallel: f.parallel as number | undefined, queue: f.queue as string | undefined, proposer: f.proposer as string | undefined,
    startSpec: f.start === undefined ? undefined : await readJsonFlag('start', f.start as string),
    base: f.base === undefined ? undefined : (await readJsonFlag('base', f.base as string)) as Record<string, unknown>,
  });
  if (flag(f, 'json', false)) console.log(JSON.stringify({ generations: s.generations, best: s.best && { meanSuccess: s.best.meanSuccess, weight: s.best.weight, spec: s.best.spec }, wallSeconds: s.wallSeconds }));
  else if (s.best) console.log(`best ${s.best.id}: mean eval success ${(s.best.meanSuccess * 100).toFixed(1)}% at weight ${s.best.weight}, after ${s.generations} generation(s) in ${s.wallSeconds} s; spec in ${out}/best-spec.json, every generation in ${out}/search.json`);
  else console.log(`no candidate finished a run in ${s.generations} generation(s); see ${out}/gen-*/logs/`);
  return s.signal === 'SIGINT' ? 130 : s.signal === 'SIGTERM' ? 143 : s.best ? 0 : 1;
}
