/**
 * `cairn search`: Eureka's outer loop over subgoal specs and shaping weights, with a seeded mutation operator
 * (mutate.ts) or a proposer command in place of a language model. Each generation is an ordinary sweep
 * (DIR/gen-<g>/sweep.json, one PBRS run per new candidate with its spec inline, run by runSweep locally or on a
 * queue), ranked by fitness: mean eval success (the task's own sparse success) over the candidate's seeds plus
 * GOAL_PROGRESS_TIEBREAK times its mean eval goal progress (engine/train/goal-progress.ts: how far the objects moved
 * toward their goals, 1 at the goal, 0 unmoved). Success decides between candidates more than a few points apart;
 * among candidates that all fail (a poor start spec) the one that moves the objects nearer ranks first.
 *
 * Generation 0 is the start spec and population − 1 mutations of it. Generation g > 0 carries the top E =
 * max(1, floor(population / 3)) candidates of everything trained so far (elitism: the best so far always
 * survives, with its results, not retrained) and adds population − E new ones: mutations of those parents in
 * turn, their moves drawn toward the stages where the parent's evaluation episodes stall (its failure analysis,
 * mutate.ts `focus`), or, with a proposer, the specs the proposer prints (the rest mutations). A candidate already
 * trained is never trained again.
 *
 * DIR holds gen-<g>/ (candidates.json, written before the sweep starts; sweep.json; the sweep's runs/, logs/,
 * inputs/, results.json, table.md, report.html), search.json (settings, every generation with its candidates,
 * their specs, weights and mean success, and the best so far; rewritten atomically after each generation) and
 * best-spec.json (the best spec, as `cairn train --subgoals` takes it). Re-running the same search resumes: a
 * generation whose candidates.json exists keeps its candidates, and its sweep skips finished runs.
 *
 * The proposer protocol: CMD runs in a shell with `{ task, pointNames, generation, candidates: [{ id, spec,
 * weight, meanSuccess, meanGoalProgress, fitness, analysis? }] }` on stdin (the previous generation, with the failure analysis of each
 * candidate's best run) and prints `{ "candidates": [spec, ...] }` or a bare list of specs on stdout; proposed
 * specs train with the best candidate's weight. Bad output is refused line by line, and mutation fills in.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { getTask } from '../../tasks/registry.ts';
import { checkOutputDir } from '../cli/paths.ts';
import { DEFAULT_TRAIN_WEIGHT } from '../train/session.ts';
import { writeAtomic } from '../fs-atomic.ts';
import { checkIntIn, checkNumberIn } from '../numeric.ts';
import { validateSubgoalSpec, type SubgoalSpec } from '../shaping/spec.ts';
import { cachedRunAnalysis, LAB_ANALYSIS_EPISODES, type RunDirAnalysis } from './analyze-run.ts';
import { candidateKey, mutate, type Candidate } from './mutate.ts';
import { runSweep } from './sweep.ts';
import { parseSweep } from './sweep-file.ts';
import type { ConfigRow } from './sweep-report.ts';

/** What runSearch is asked to do. */
export interface SearchOptions {
  /** Task name (any case). */
  task: string;
  /** Generations to run in all (a re-run with more continues). */
  generations: number;
  /** Candidates per generation, ≥ 2. */
  population: number;
  /** DIR: generations, search.json and best-spec.json go here. */
  outDir: string;
  /** Seed of the mutations (uint32); default 1. */
  seed?: number;
  /** Env steps per candidate run (train's --steps); default 1e6. */
  budget?: number;
  /** Training seeds per candidate (1 … n); default 1. */
  seeds?: number;
  /** Runs at a time (the sweep's --parallel). */
  parallel?: number;
  /** A redis://HOST:PORT URL: each generation's runs go on that queue (the sweep's --queue). */
  queue?: string;
  /** A shell command line proposing generation g > 0's candidates (the protocol above). */
  proposer?: string;
  /** Seconds the proposer may take before it is killed and refused; default 600. */
  proposerTimeoutSeconds?: number;
  /** The start spec (parsed JSON); default the task's own. */
  startSpec?: unknown;
  /** Sweep fields for every run (envs, hidden, lr, eval-episodes, …; weight: the start weight); not task, subgoals or steps. */
  base?: Record<string, unknown>;
  /** Evaluation episodes of each failure analysis handed to the proposer; default LAB_ANALYSIS_EPISODES (100). */
  analysisEpisodes?: number;
  /** Where progress lines go; default stderr. */
  log?: (line: string) => void;
}

/** One candidate of a generation, as search.json records it. */
export interface SearchCandidate extends Candidate {
  /** 'g<generation it was trained in>c<index there>', e.g. 'g1c2'. */
  id: string;
  /** 'start', 'mutation of g0c1' or 'proposer'. */
  origin: string;
  /** The mutation's moves ('stages[0].progress.sigma 0.1 → 0.1234'). */
  moves?: string[];
  /** Generation whose sweep trains it; less than the generation listing it when carried as an elite. */
  trained: number;
  /** Its configuration name in that sweep. */
  config: string;
  /** Mean eval success over its finished seeds, in [0, 1]; null before training or when no seed finished. */
  meanSuccess: number | null;
  /** Mean eval goal progress over those seeds; null before training or when not measured. */
  meanGoalProgress?: number | null;
  /** What the search ranks by: meanSuccess + GOAL_PROGRESS_TIEBREAK · meanGoalProgress (0 when not measured); null before training. */
  fitness?: number | null;
  /** Its best run directory, relative to DIR; null when none finished. */
  bestRun: string | null;
}

/** One generation of search.json. */
export interface SearchGeneration {
  generation: number;
  /** How its new candidates were made: 'mutation', 'proposer' or 'proposer and mutation'. */
  source: string;
  /** Why proposer output was refused, one line each. */
  proposerErrors: string[];
  /** Carried elites first, then the new candidates. */
  candidates: SearchCandidate[];
  /** The best new candidate of this generation, and the best of every candidate trained so far. */
  best: { id: string; meanSuccess: number; fitness: number } | null;
  bestSoFar: { id: string; meanSuccess: number; fitness: number } | null;
  /** Seconds this generation took in the invocation that finished it. */
  wallSeconds: number;
}

/** What a search did. */
export interface SearchSummary {
  /** Generations finished. */
  generations: number;
  /** The best candidate trained; null when no run finished. */
  best: { id: string; meanSuccess: number; weight: number; spec: SubgoalSpec } | null;
  wallSeconds: number;
  /** The signal that stopped a generation's sweep, or null. */
  signal: NodeJS.Signals | null;
}

/** A generation as candidates.json holds it before its sweep. */
type GenerationPlan = Pick<SearchGeneration, 'source' | 'proposerErrors' | 'candidates'>;

/** Sweep fields a search sets itself. */
const SEARCH_FIELDS = ['task', 'subgoals', 'steps'];
/** Most characters of proposer output read. */
const MAX_PROPOSER_OUTPUT = 16 << 20;

/** Elites carried into the next generation: max(1, floor(population / 3)). */
export function eliteCount(population: number): number {
  return Math.max(1, Math.floor(population / 3));
}

const pct = (x: number | null | undefined): string => (x == null ? '—' : `${(x * 100).toFixed(1)}%`);
const progress = (c: SearchCandidate | undefined): string => (c?.meanGoalProgress == null ? '—' : c.meanGoalProgress.toFixed(2));
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object without a "candidates" list' : `${typeof v} ${JSON.stringify(v)}`);

/**
 * Reads proposer output: `{ "candidates": [spec, ...] }` or a bare list, each spec validated against pointNames.
 * Throws on output that is not such a list ('proposer output: not JSON (...)'); returns the valid specs and a line
 * per refused one ('proposer output: candidates[1]: subgoals.stages[0].progress.sigma: ...').
 */
export function parseProposal(text: string, pointNames: readonly string[]): { specs: SubgoalSpec[]; errors: string[] } {
  if (text.trim() === '') throw new Error('proposer output: empty (expected { "candidates": [spec, ...] } or a list of specs)');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`proposer output: not JSON (${(e as Error).message})`);
  }
  const list = Array.isArray(json) ? json : json !== null && typeof json === 'object' && Array.isArray((json as { candidates?: unknown }).candidates) ? (json as { candidates: unknown[] }).candidates : null;
  if (!list) throw new Error(`proposer output: expected { "candidates": [spec, ...] } or a list of specs, got ${describe(json)}`);
  if (list.length === 0) throw new Error('proposer output: no candidates');
  const specs: SubgoalSpec[] = [], errors: string[] = [];
  list.forEach((s, i) => {
    try {
      specs.push(validateSubgoalSpec(s, pointNames));
    } catch (e) {
      errors.push(`proposer output: candidates[${i}]: ${(e as Error).message}`);
    }
  });
  return { specs, errors };
}

/**
 * Runs cmd in a shell (its own process group) with input as JSON on stdin; resolves with its stdout. Rejects
 * ('proposer: ...') when it cannot start, exits non-zero, prints over 16 MiB or runs past timeoutMs (its group is killed).
 */
export function runProposer(cmd: string, input: unknown, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, { shell: true, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '', stderr = '', failure: string | null = null;
    const stop = (why: string) => {
      failure ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => stop(`no answer within ${timeoutMs / 1000} s; killed it`), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.length > MAX_PROPOSER_OUTPUT) stop(`printed over ${MAX_PROPOSER_OUTPUT >> 20} MiB; killed it`);
    });
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-2000)));
    // A proposer that does not read its input closes the pipe: that is its business.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(input));
    child.on('error', (e) => stop(`cannot start: ${e.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = stderr.trim().split('\n').slice(-3).join(' / ');
      if (failure) reject(new Error(`proposer: ${failure}`));
      else if (code !== 0) reject(new Error(`proposer: exited with ${code ?? signal}${tail ? ` (${tail})` : ''}`));
      else resolve(stdout);
    });
  });
}

/** Weight of goal progress in a candidate's fitness: a whole unit of progress is worth ten points of success. */
export const GOAL_PROGRESS_TIEBREAK = 0.1;

/** A trained candidate's fitness, or null when no seed finished. */
export function candidateFitness(meanSuccess: number | null, meanGoalProgress: number | null | undefined): number | null {
  return meanSuccess === null ? null : meanSuccess + GOAL_PROGRESS_TIEBREAK * (meanGoalProgress ?? 0);
}

/** Candidates ranked by fitness, best first (null last; ties keep their order, so the earlier trained first). */
function ranked(cands: Iterable<SearchCandidate>): SearchCandidate[] {
  const f = (c: SearchCandidate) => candidateFitness(c.meanSuccess, c.meanGoalProgress) ?? -Infinity;
  return [...cands].sort((a, b) => f(b) - f(a));
}

/** A plain-object check of the base settings: no field the search sets itself. */
function checkBase(base: unknown): Record<string, unknown> {
  if (base === null || typeof base !== 'object' || Array.isArray(base)) throw new Error(`base settings: must be an object of sweep fields, got ${JSON.stringify(base)}`);
  for (const k of SEARCH_FIELDS) if (k in base) throw new Error(`base settings: '${k}' is set by the search (--task, the candidates' specs, --steps)`);
  return base as Record<string, unknown>;
}

/** Reads a JSON file, or null when it does not exist. */
async function readJson<T>(file: string): Promise<T | null> {
  const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  return text === null ? null : (JSON.parse(text) as T);
}

/** Runs a search as the options say; bad options throw before anything is written. */
export async function runSearch(o: SearchOptions): Promise<SearchSummary> {
  const t0 = performance.now();
  const log = o.log ?? ((line: string) => console.error(line));
  const task = getTask(o.task);
  const generations = checkIntIn('--generations', o.generations, 1, 10_000);
  const population = checkIntIn('--population', o.population, 2, 10_000);
  const seed = checkIntIn('--seed', o.seed ?? 1, 0, 0xffffffff);
  const budget = checkNumberIn('--steps', o.budget ?? 1e6, 1, 1e13);
  const seeds = Array.from({ length: checkIntIn('--seeds', o.seeds ?? 1, 1, 1000) }, (_, i) => i + 1);
  const timeoutMs = 1000 * checkNumberIn('proposer timeout', o.proposerTimeoutSeconds ?? 600, 0.001, 1e6);
  const analysisEpisodes = checkIntIn('analysis episodes', o.analysisEpisodes ?? LAB_ANALYSIS_EPISODES, 1, 100_000);
  const base = checkBase(o.base ?? {});
  let startSpec: SubgoalSpec;
  try {
    startSpec = validateSubgoalSpec(o.startSpec ?? task.subgoals, task.pointNames);
  } catch (e) {
    throw new Error(`start spec: ${(e as Error).message}`);
  }
  const start: Candidate = { spec: startSpec, weight: (base.weight as number | undefined) ?? DEFAULT_TRAIN_WEIGHT };
  const E = eliteCount(population);
  const settings = { task: task.name, population, seed, steps: budget, seeds: seeds.length, base, start };
  const sweepOf = (cands: readonly Candidate[]) => ({ runs: cands.map((c) => ({ subgoals: c.spec, weight: c.weight })), base: { shaping: 'pbrs', ...base, task: task.name.toLowerCase(), steps: budget }, seeds });
  // The sweep's own checks of the base settings and start candidate, before anything is written.
  parseSweep(sweepOf([start]), o.outDir);
  await checkOutputDir(o.outDir, '--out');
  const searchFile = path.join(o.outDir, 'search.json');
  const before = await readJson<{ settings: typeof settings; generations?: { wallSeconds?: number }[] }>(searchFile);
  if (before) {
    const differ = (Object.keys(settings) as (keyof typeof settings)[]).filter((k) => JSON.stringify(before.settings?.[k]) !== JSON.stringify(settings[k]));
    if (differ.length) throw new Error(`${o.outDir} holds a search with other settings (${differ.map((k) => `${k}: ${JSON.stringify(before.settings?.[k])} there, ${JSON.stringify(settings[k])} here`).join('; ')}); search into another --out`);
  }
  await fs.mkdir(o.outDir, { recursive: true });

  const history: SearchGeneration[] = [];
  const trained = new Map<string, SearchCandidate>();
  const byKey = new Map<string, string>();
  const analyses = new Map<string, RunDirAnalysis | undefined>();

  /** The failure analysis of a candidate's best run (read from its analysis.json, else traced and written there); undefined when it fails. */
  const analysisOf = async (c: SearchCandidate): Promise<RunDirAnalysis | undefined> => {
    if (c.bestRun === null) return undefined;
    if (!analyses.has(c.id)) {
      const a = await cachedRunAnalysis(path.join(o.outDir, c.bestRun), analysisEpisodes).catch((e: Error) => void log(`cairn search: no failure analysis of ${c.id} (${c.bestRun}): ${e.message}`));
      analyses.set(c.id, a ?? undefined);
    }
    return analyses.get(c.id);
  };

  /** Generation g's new candidates from the proposer, with its refusals; none when it has no proposer or its output is refused whole. */
  const propose = async (g: number, slots: number, weight: number): Promise<{ cands: Candidate[]; errors: string[] }> => {
    if (!o.proposer || g === 0) return { cands: [], errors: [] };
    const prev = history[g - 1].candidates;
    const candidates = [];
    for (const c of prev) candidates.push({ id: c.id, spec: c.spec, weight: c.weight, meanSuccess: c.meanSuccess, meanGoalProgress: c.meanGoalProgress ?? null, fitness: candidateFitness(c.meanSuccess, c.meanGoalProgress), analysis: await analysisOf(c) });
    try {
      const { specs, errors } = parseProposal(await runProposer(o.proposer, { task: task.name, pointNames: task.pointNames, generation: g, candidates }, timeoutMs), task.pointNames);
      const cands: Candidate[] = [], keys = new Set<string>();
      specs.forEach((spec, i) => {
        const c = { spec, weight }, key = candidateKey(c), known = byKey.get(key) ?? (keys.has(key) ? 'an earlier one of this output' : undefined);
        if (known) errors.push(`proposer output: candidates[${i}]: the same spec and weight as ${known}; a candidate trains once`);
        else if (cands.length < slots) {
          cands.push(c);
          keys.add(key);
        }
      });
      if (specs.length > slots) log(`cairn search: the proposer gave ${specs.length} valid specs for ${slots} places; the first new ones train`);
      return { cands, errors };
    } catch (e) {
      return { cands: [], errors: [(e as Error).message] };
    }
  };

  /** Plans generation g: carried elites (g > 0) and new candidates, with their ids and configuration names. */
  const plan = async (g: number, genDir: string): Promise<GenerationPlan> => {
    const parents = g === 0 ? [] : ranked(trained.values()).slice(0, E);
    const fresh: SearchCandidate[] = [];
    const add = (c: Candidate, origin: string, moves?: string[]) => {
      const id = `g${g}c${parents.length + fresh.length}`;
      fresh.push({ id, origin, ...(moves ? { moves } : {}), weight: c.weight, meanSuccess: null, meanGoalProgress: null, fitness: null, bestRun: null, trained: g, config: '', spec: c.spec });
      byKey.set(candidateKey(c), id);
    };
    if (g === 0) add(start, 'start');
    const slots = population - parents.length - fresh.length;
    const proposal = await propose(g, slots, parents[0]?.weight ?? start.weight);
    for (const c of proposal.cands) add(c, 'proposer');
    const proposed = proposal.cands.length;
    for (let j = 0; fresh.length < population - parents.length; j++) {
      const parent = g === 0 ? { ...start, id: 'g0c0' } : parents[j % parents.length];
      // The parent's failure analysis steers the moves to the stages where its episodes stall.
      const a = g === 0 ? undefined : await analysisOf(parent as SearchCandidate);
      const focus = a ? a.stalls.slice(0, a.stages.length).map((n) => n / a.episodes) : undefined;
      const m = mutate(parent, task.pointNames, seed, g * 65536 + j, (c) => !byKey.has(candidateKey(c)), focus);
      add(m.candidate, `mutation of ${parent.id}`, m.moves);
    }
    const runs = parseSweep(sweepOf(fresh), genDir);
    fresh.forEach((c, i) => (c.config = runs[i * seeds.length].config));
    const source = proposed === 0 ? 'mutation' : proposed === slots ? 'proposer' : 'proposer and mutation';
    return { source, proposerErrors: proposal.errors, candidates: [...parents, ...fresh] };
  };

  const summary = (signal: NodeJS.Signals | null): SearchSummary => {
    const top = ranked(trained.values())[0];
    const best = top?.meanSuccess == null ? null : { id: top.id, meanSuccess: top.meanSuccess, weight: top.weight, spec: top.spec };
    return { generations: history.length, best, wallSeconds: +((performance.now() - t0) / 1000).toFixed(1), signal };
  };
  const save = async (): Promise<void> => {
    const s = summary(null);
    await writeAtomic(searchFile, JSON.stringify({ settings, updatedAt: new Date().toISOString(), generations: history, best: s.best }, null, 2) + '\n');
    if (s.best) await writeAtomic(path.join(o.outDir, 'best-spec.json'), JSON.stringify(s.best.spec, null, 2) + '\n');
  };

  log(`cairn search: ${task.name}, ${generations} generation(s) of ${population} (${E} elite${E > 1 ? 's' : ''} carried), ${budget} steps × ${seeds.length} seed(s) per candidate, ${o.proposer ? `proposer '${o.proposer}'` : 'mutation'}, in ${o.outDir}`);
  for (let g = 0; g < generations; g++) {
    const tg = performance.now();
    const genDir = path.join(o.outDir, `gen-${g}`);
    const candidatesFile = path.join(genDir, 'candidates.json');
    let gen = await readJson<GenerationPlan>(candidatesFile);
    if (gen) {
      for (const c of gen.candidates) byKey.set(candidateKey(c), c.id);
    } else {
      gen = await plan(g, genDir);
      await fs.mkdir(genDir, { recursive: true });
      await writeAtomic(candidatesFile, JSON.stringify(gen, null, 2) + '\n');
    }
    for (const e of gen.proposerErrors) log(`cairn search: generation ${g}: ${e}`);
    const fresh = gen.candidates.filter((c) => c.trained === g);
    const sweepFile = path.join(genDir, 'sweep.json');
    await writeAtomic(sweepFile, JSON.stringify(sweepOf(fresh), null, 2) + '\n');
    const s = await runSweep({ file: sweepFile, outDir: genDir, parallel: o.parallel, queue: o.queue, log });
    if (s.signal) {
      await save();
      return summary(s.signal);
    }
    const rows = new Map(((await readJson<{ configurations: ConfigRow[] }>(path.join(genDir, 'results.json')))?.configurations ?? []).map((r) => [r.config, r]));
    for (const c of fresh) {
      const row = rows.get(c.config);
      c.meanSuccess = row?.meanSuccess ?? null;
      c.meanGoalProgress = row?.meanGoalProgress ?? null;
      c.fitness = candidateFitness(c.meanSuccess, c.meanGoalProgress);
      c.bestRun = row?.bestRun ? path.join(`gen-${g}`, 'runs', row.bestRun) : null;
      trained.set(c.id, c);
    }
    const genBest = ranked(fresh)[0];
    const bestSoFar = ranked(trained.values())[0];
    const point = (c: SearchCandidate | undefined) => (c?.meanSuccess == null ? null : { id: c.id, meanSuccess: c.meanSuccess, fitness: candidateFitness(c.meanSuccess, c.meanGoalProgress)! });
    // A generation whose runs had all finished before keeps the wall time it took then.
    const earlier = s.finished === 0 ? before?.generations?.[g]?.wallSeconds : undefined;
    history.push({ generation: g, ...gen, best: point(genBest), bestSoFar: point(bestSoFar), wallSeconds: earlier ?? +((performance.now() - tg) / 1000).toFixed(1) });
    await save();
    const how = o.proposer && g > 0 ? (gen.source === 'mutation' ? 'proposer refused, mutation instead' : gen.source) : 'mutation';
    log(`cairn search: generation ${g + 1}/${generations}: best so far ${pct(bestSoFar?.meanSuccess)}, goal progress ${progress(bestSoFar)} (${bestSoFar?.id}), this generation's best ${pct(genBest?.meanSuccess)}, goal progress ${progress(genBest)} (${genBest?.id}), ${history[g].wallSeconds} s; ${how}`);
  }
  return summary(null);
}
