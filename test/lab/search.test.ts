// cairn search: the mutation operator (valid, deterministic, changing, within bounds, the goal stage kept), the
// proposer protocol (its output read or refused line by line, the command run with a timeout), and tiny searches on
// Reach: one that completes, then resumes without training; one whose proposer prints garbage, an invalid spec, then
// a valid one.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDirs } from '../helpers/tmp.ts';
import { startCairn } from '../../engine/lab/pool.ts';
import { candidateKey, MAX_DRAWS, mutate, type Candidate } from '../../engine/lab/mutate.ts';
import { GOAL_PROGRESS_TIEBREAK, parseProposal, runProposer, runSearch, type SearchGeneration } from '../../engine/lab/search.ts';
import { MAX_SHAPING_SCALE, MAX_SHIFT, MAX_SPEC_LENGTH, MIN_SPEC_LENGTH, validateSubgoalSpec, type SubgoalSpec } from '../../engine/shaping/spec.ts';
import { getTask } from '../../tasks/registry.ts';

const tmp = tempDirs('cairn-search-');

/** Every number of a spec with its path. */
function numbers(x: unknown, at = ''): [string, number][] {
  if (typeof x === 'number') return [[at, x]];
  if (x === null || typeof x !== 'object') return [];
  return Object.entries(x).flatMap(([k, v]) => numbers(v, `${at}.${k}`));
}

/** A spec with numbers at the edges of what validates: σ at its least, thresholds at their most, shifts and offsets at their bounds. */
const EDGE_SPEC: SubgoalSpec = {
  points: { high: { from: 'object', shift: [MAX_SHIFT, -MAX_SHIFT, 0] }, far: { from: 'object', awayFrom: 'goal', offset: -MAX_SPEC_LENGTH, xy: true } },
  stages: [
    { name: 'lift', predicate: { kind: 'all', of: [{ kind: 'height', point: 'object', above: MAX_SPEC_LENGTH }, { kind: 'gripper', state: 'closed', threshold: MIN_SPEC_LENGTH }] }, progress: { a: 'grip', b: 'high', sigma: MIN_SPEC_LENGTH } },
    { name: 'away', predicate: { kind: 'distance', a: 'grip', b: 'far', below: MAX_SPEC_LENGTH, xy: true }, progress: { a: 'grip', b: 'far', sigma: MAX_SPEC_LENGTH, xy: true } },
    { name: 'goal', predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.05 }, progress: { a: 'object', b: 'goal', sigma: 0.2 } },
  ],
};

describe('mutate', () => {
  const parents: [string, Candidate][] = [
    ...['reach', 'push', 'pickandplace', 'slide', 'stack'].map((t): [string, Candidate] => [t, { spec: getTask(t).subgoals!, weight: 20 }]),
    ['pickandplace', { spec: EDGE_SPEC, weight: MAX_SHAPING_SCALE }],
    ['push', { spec: getTask('push').subgoals!, weight: 0 }],
  ];

  it('keeps every candidate valid, within bounds, different from its parent, and the last stage last', () => {
    const moves = new Set<string>();
    for (const [task, parent] of parents) {
      const points = getTask(task).pointNames;
      const clean = validateSubgoalSpec(parent.spec, points), parentKey = candidateKey({ spec: clean, weight: parent.weight });
      for (let key = 0; key < 300; key++) {
        const m = mutate(parent, points, 7, key);
        const c = m.candidate;
        assert.deepEqual(validateSubgoalSpec(c.spec, points), c.spec, `${task} #${key}: ${m.moves}`);
        assert.notEqual(candidateKey(c), parentKey, `${task} #${key} changed nothing`);
        assert.ok(c.weight >= 0 && c.weight <= MAX_SHAPING_SCALE, `weight ${c.weight}`);
        for (const [at, v] of numbers(c.spec)) assert.ok(Number.isFinite(v) && Math.abs(v) <= MAX_SPEC_LENGTH, `${task} #${key} ${at} = ${v}`);
        // The last stage, the task's goal, stays last with its predicate.
        assert.deepEqual([c.spec.stages.at(-1)!.name, c.spec.stages.at(-1)!.predicate], [clean.stages.at(-1)!.name, clean.stages.at(-1)!.predicate], `${task} #${key}: ${m.moves}`);
        assert.ok(m.moves.length >= 1 && m.moves.length <= 2);
        for (const line of m.moves) moves.add(line.replace(/\[\d+\]/g, '[]').split(' ')[0]);
      }
    }
    // Every kind of move happens somewhere.
    for (const kind of ['weight', 'swap', 'drop', 'stages[].progress.sigma', 'stages[].progress.xy', 'stages[].predicate.below', 'stages[].predicate.xy',
      'stages[].predicate.of[].below', 'stages[].predicate.of[].threshold', 'stages[].predicate.of[].above', 'points.behindObject.offset', 'points.aboveObject.shift[]']) {
      assert.ok(moves.has(kind), `no move ${kind} in ${[...moves].join(', ')}`);
    }
  });

  it('is a pure function of (seed, key), and different keys and seeds draw different candidates', () => {
    const push = getTask('push');
    const parent = { spec: push.subgoals!, weight: 20 };
    const draws = (seed: number) => Array.from({ length: 40 }, (_, key) => mutate(parent, push.pointNames, seed, key));
    assert.deepEqual(draws(3), draws(3));
    const keys = new Set(draws(3).map((m) => candidateKey(m.candidate)));
    assert.ok(keys.size >= 35, `${keys.size} distinct candidates of 40`);
    assert.notDeepEqual(draws(3).map((m) => m.candidate), draws(4).map((m) => m.candidate));
  });

  it('draws moves on the stages where the parent\'s episodes stall more often (focus)', () => {
    const push = getTask('push');
    const parent = { spec: push.subgoals!, weight: 20 };
    // Push: stage 0 behind-object (its predicate, its σ, the behindObject offset), stage 1 object-at-goal (its σ).
    const onStage0 = (line: string) => line.startsWith('stages[0]') || line.startsWith('points.behindObject');
    const share = (focus?: number[]) => {
      let on = 0, all = 0;
      for (let key = 0; key < 400; key++) {
        for (const line of mutate(parent, push.pointNames, 5, key, () => true, focus).moves) {
          all++;
          if (onStage0(line)) on++;
        }
      }
      return on / all;
    };
    const plain = share(), stall0 = share([0.9, 0.1]), stall1 = share([0, 1]);
    // Weights 1 + 3·2·focus: with 90% stalling at stage 0 its moves weigh 6.4 against 1.6 and 1 for the rest.
    assert.ok(stall0 > plain + 0.15, `stage-0 share ${stall0} with focus, ${plain} without`);
    assert.ok(stall1 < plain - 0.1, `stage-0 share ${stall1} with the episodes stalling at stage 1, ${plain} without`);
  });

  it('draws again for a refused candidate, gives up after MAX_DRAWS, and refuses an invalid parent', () => {
    const reach = getTask('reach');
    const parent = { spec: reach.subgoals!, weight: 20 };
    const first = mutate(parent, reach.pointNames, 1, 0);
    const second = mutate(parent, reach.pointNames, 1, 0, (c) => candidateKey(c) !== candidateKey(first.candidate));
    assert.notEqual(candidateKey(second.candidate), candidateKey(first.candidate));
    assert.throws(() => mutate(parent, reach.pointNames, 1, 0, () => false), { message: `mutate: no valid new candidate in ${MAX_DRAWS} draws of mutation 0 (seed 1)` });
    assert.throws(() => mutate({ spec: getTask('push').subgoals!, weight: 20 }, reach.pointNames, 1, 0), /unknown point 'object'/);
  });
});

describe('proposer protocol', () => {
  const points = getTask('reach').pointNames;
  const spec = getTask('reach').subgoals!;
  const bad = structuredClone(spec);
  bad.stages[0].progress.sigma = -1;

  it('reads a candidates object or a bare list, and refuses bad output with a line naming what was wrong', () => {
    assert.deepEqual(parseProposal(JSON.stringify({ candidates: [spec] }), points), { specs: [validateSubgoalSpec(spec, points)], errors: [] });
    assert.deepEqual(parseProposal(JSON.stringify([spec, bad]), points), {
      specs: [validateSubgoalSpec(spec, points)],
      errors: ['proposer output: candidates[1]: subgoals.stages[0].progress.sigma: must be a positive finite number, got number -1'],
    });
    assert.throws(() => parseProposal('not json\n', points), { message: /^proposer output: not JSON \(Unexpected token/ });
    assert.throws(() => parseProposal('', points), { message: /^proposer output: empty/ });
    assert.throws(() => parseProposal('{"specs": []}', points), { message: 'proposer output: expected { "candidates": [spec, ...] } or a list of specs, got an object without a "candidates" list' });
    assert.throws(() => parseProposal('42', points), { message: 'proposer output: expected { "candidates": [spec, ...] } or a list of specs, got number 42' });
    assert.throws(() => parseProposal('[]', points), { message: 'proposer output: no candidates' });
  });

  it('bench/proposers/widen-stalled.mjs widens the σ of the stage where the fittest candidate\'s episodes stall and moves the points that hand over to it', async () => {
    const push = getTask('push');
    const poor = structuredClone(push.subgoals!);
    poor.stages[0].progress.sigma = 0.02;
    poor.stages[1].progress.sigma = 0.02;
    const analysis = (stalls: number[]) => ({ episodes: 100, successRate: 0.04, meanLength: 50, stages: [], stalls, meanTermSums: {} });
    const input = (stalls: number[]) => ({
      task: 'Push', pointNames: push.pointNames, generation: 1,
      candidates: [
        { id: 'g0c0', spec: push.subgoals, weight: 20, meanSuccess: 0.03, meanGoalProgress: 0, fitness: 0.03, analysis: analysis([100, 0, 0]) },
        { id: 'g0c1', spec: poor, weight: 20, meanSuccess: 0.04, meanGoalProgress: 0.1, fitness: 0.05, analysis: analysis(stalls) },
      ],
    });
    /** σ of both stages, stage `k`'s distance threshold and the behind-object offset, per proposed spec. */
    const sigmas = async (stalls: number[], k = 0) => {
      const { specs, errors } = parseProposal(await runProposer('node bench/proposers/widen-stalled.mjs', input(stalls), 30_000), push.pointNames);
      assert.deepEqual(errors, []);
      return specs.map((sp) => [sp.stages[0].progress!.sigma, sp.stages[1].progress!.sigma, (sp.stages[k].predicate as { below: number }).below, (sp.points!.behindObject as { offset: number }).offset]);
    };
    // 99 of 100 stall at stage 0: stage 0's σ ×10, σ ×10 from there on, σ ×3 with its threshold doubled, the
    // behind-object point 3 cm further, … (the offset moves are stage 0's own points: it hands over to nothing before it).
    assert.deepEqual(await sigmas([99, 1, 0]), [
      [0.2, 0.02, 0.03, 0.06], [0.2, 0.2, 0.03, 0.06], [0.06, 0.02, 0.06, 0.06], [0.02, 0.02, 0.03, 0.09], [0.06, 0.06, 0.03, 0.06],
      [0.02, 0.02, 0.03, 0.12], [0.06, 0.02, 0.03, 0.06], [0.01, 0.02, 0.03, 0.06], [0.2, 0.02, 0.06, 0.06], [0.02, 0.02, 0.03, 0.03],
    ]);
    // Most stall at stage 1, the last: stage 1's σ and threshold change, stage 0's point moves (it hands over to stage
    // 1), and variants that coincide there (σ ×10 of stage 1 alone and from stage 1 on) are proposed once.
    assert.deepEqual(await sigmas([10, 90, 0], 1), [
      [0.02, 0.2, 0.05, 0.06], [0.02, 0.06, 0.1, 0.06], [0.02, 0.02, 0.05, 0.09], [0.02, 0.06, 0.05, 0.06], [0.02, 0.02, 0.05, 0.12],
      [0.02, 0.01, 0.05, 0.06], [0.02, 0.2, 0.1, 0.06], [0.02, 0.02, 0.05, 0.03],
    ]);
    // No analysis: nothing proposed, and the search fills the places with mutations.
    assert.deepEqual(JSON.parse(await runProposer('node bench/proposers/widen-stalled.mjs', { candidates: [{ id: 'g0c0', spec: poor, meanSuccess: null }] }, 30_000)), { candidates: [] });
  });

  it('runs the command with the input on stdin, and refuses a failed or slow one', async () => {
    assert.deepEqual(JSON.parse(await runProposer('cat', { generation: 1 }, 10_000)), { generation: 1 });
    assert.equal(await runProposer('echo not json', {}, 10_000), 'not json\n');
    await assert.rejects(runProposer('echo oops >&2; exit 3', {}, 10_000), { message: 'proposer: exited with 3 (oops)' });
    const t0 = Date.now();
    await assert.rejects(runProposer('sleep 30', {}, 300), { message: 'proposer: no answer within 0.3 s; killed it' });
    assert.ok(Date.now() - t0 < 5000);
  });
});

/** Tiny Reach runs: 8 envs × 50 steps per iteration, 10 iterations, 20 evaluation episodes. */
const BASE = { envs: 8, 'num-steps': 50, hidden: '16,16', 'eval-episodes': 20 };
const STEPS = 4000;

type SearchFile = { generations: SearchGeneration[]; best: { id: string; meanSuccess: number; weight: number; spec: SubgoalSpec } };
const readJson = async <T>(file: string): Promise<T> => JSON.parse(await fs.readFile(file, 'utf8')) as T;

describe('cairn search', { timeout: 240_000 }, () => {
  it('runs 2 generations of 3, keeps the best so far, writes search.json and best-spec.json, and resumes without training', async () => {
    const out = path.join(tmp(), 'search');
    const lines: string[] = [];
    const s = await runSearch({ task: 'reach', generations: 2, population: 3, outDir: out, budget: STEPS, parallel: 2, base: BASE, log: (l) => lines.push(l) });
    assert.equal(s.generations, 2);
    assert.equal(s.signal, null);
    const file = await readJson<SearchFile>(path.join(out, 'search.json'));
    const [g0, g1] = file.generations;
    assert.deepEqual(g0.candidates.map((c) => [c.id, c.origin.replace(/ of .*/, ''), c.trained]), [['g0c0', 'start', 0], ['g0c1', 'mutation', 0], ['g0c2', 'mutation', 0]]);
    // Generation 1 carries the best of generation 0 (one elite of 3) and trains 2 mutations of it.
    assert.deepEqual(g1.candidates[0], g0.candidates.find((c) => c.id === g0.bestSoFar!.id));
    assert.deepEqual(g1.candidates.slice(1).map((c) => [c.id, c.origin, c.trained]), [['g1c1', `mutation of ${g0.bestSoFar!.id}`, 1], ['g1c2', `mutation of ${g0.bestSoFar!.id}`, 1]]);
    const all = [...g0.candidates, ...g1.candidates.slice(1)];
    assert.equal(new Set(all.map((c) => candidateKey(c))).size, 5, 'no candidate trained twice');
    for (const c of all) {
      assert.ok(c.meanSuccess! >= 0 && c.meanSuccess! <= 1, JSON.stringify(c));
      const cfg = await readJson<{ run: { subgoals: unknown; shapingWeight: number; shaping: string; totalSteps: number } }>(path.join(out, c.bestRun!, 'config.json'));
      assert.deepEqual([cfg.run.subgoals, cfg.run.shapingWeight, cfg.run.shaping, cfg.run.totalSteps], [c.spec, c.weight, 'pbrs', STEPS]);
      const evaluation = await readJson<{ successRate: number; goalProgress: number }>(path.join(out, c.bestRun!, 'eval.json'));
      assert.equal(evaluation.successRate, c.meanSuccess);
      assert.equal(evaluation.goalProgress, c.meanGoalProgress);
      assert.equal(c.fitness, evaluation.successRate + GOAL_PROGRESS_TIEBREAK * evaluation.goalProgress);
    }
    // Best so far: the fittest of everything trained, never falling.
    const fittest = [...all].sort((a, b) => b.fitness! - a.fitness!)[0];
    const top = fittest.meanSuccess!;
    assert.ok(g1.bestSoFar!.fitness >= g0.bestSoFar!.fitness);
    assert.equal(g1.bestSoFar!.id, fittest.id);
    assert.equal(g0.best!.fitness, Math.max(...g0.candidates.map((c) => c.fitness!)));
    assert.deepEqual([file.best.meanSuccess, s.best!.meanSuccess], [top, top]);
    const best = await readJson<unknown>(path.join(out, 'best-spec.json'));
    assert.deepEqual(validateSubgoalSpec(best, getTask('reach').pointNames), best);
    assert.deepEqual(best, s.best!.spec);
    assert.equal(lines.filter((l) => /^cairn search: generation \d\/2: best so far \d+\.\d%, goal progress -?\d\.\d\d \(g\dc\d\), this generation's best \d+\.\d%, goal progress -?\d\.\d\d \(g\dc\d\), [\d.]+ s; mutation$/.test(l)).length, 2, lines.join('\n'));

    // The same command resumes: nothing trains again, and the answer is the same.
    const dir = await fs.readdir(path.join(out, 'gen-1', 'runs'));
    const stamp = (await fs.stat(path.join(out, 'gen-1', 'runs', dir[0], 'eval.json'))).mtimeMs;
    const baseFile = path.join(tmp(), 'base.json');
    await fs.writeFile(baseFile, JSON.stringify(BASE));
    const args = ['search', '--task', 'reach', '--generations', '2', '--population', '3', '--out', out, '--steps', String(STEPS), '--parallel', '2', '--base', baseFile, '--json'];
    const r = await startCairn(args).exited;
    assert.equal(r.code, 0, r.stderrTail);
    assert.doesNotMatch(r.stderrTail, /\] start /);
    assert.match(r.stderrTail, /3 finished before/);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(summary.best, { meanSuccess: top, weight: s.best!.weight, spec: s.best!.spec });
    assert.equal(summary.generations, 2);
    assert.equal((await fs.stat(path.join(out, 'gen-1', 'runs', dir[0], 'eval.json'))).mtimeMs, stamp);
    const resumed = await readJson<SearchFile>(path.join(out, 'search.json'));
    assert.deepEqual(resumed.generations.map((g) => g.candidates), file.generations.map((g) => g.candidates));
    assert.deepEqual(resumed.generations.map((g) => g.wallSeconds), file.generations.map((g) => g.wallSeconds), 'a resumed generation keeps its wall time');
    // Other settings into the same directory are refused before anything runs.
    const other = await startCairn(args.map((a) => (a === '3' ? '4' : a))).exited;
    assert.equal(other.code, 2);
    assert.match(other.stderrTail, /holds a search with other settings \(population: 3 there, 4 here\)/);
  });

  it('refuses a proposer\'s garbage and invalid specs with a line saying why, mutates instead, and trains a valid proposal', async () => {
    const dir = tmp(), out = path.join(dir, 'search'), inputs = path.join(dir, 'inputs.jsonl');
    const script = path.join(dir, 'proposer.mjs');
    // Generation 1: not JSON; 2: a spec with σ = −1; 3: the best spec with σ = 0.0777.
    await fs.writeFile(script, `import { appendFileSync } from 'node:fs';
let text = '';
for await (const d of process.stdin) text += d;
const input = JSON.parse(text);
appendFileSync(${JSON.stringify(inputs)}, JSON.stringify(input) + '\\n');
const spec = structuredClone(input.candidates[0].spec);
if (input.generation === 1) console.log('not json');
spec.stages[0].progress.sigma = input.generation === 2 ? -1 : 0.0777;
if (input.generation > 1) console.log(JSON.stringify(input.generation === 2 ? { candidates: [spec] } : [spec]));
`);
    const lines: string[] = [];
    const s = await runSearch({ task: 'reach', generations: 4, population: 2, outDir: out, budget: STEPS, parallel: 2, base: BASE, proposer: `node ${script}`, analysisEpisodes: 20, log: (l) => lines.push(l) });
    assert.equal(s.generations, 4);
    const text = lines.join('\n');
    assert.match(text, /generation 1: proposer output: not JSON \(Unexpected token/);
    assert.match(text, /generation 2: proposer output: candidates\[0\]: subgoals\.stages\[0\]\.progress\.sigma: must be a positive finite number, got number -1/);
    assert.deepEqual(lines.filter((l) => / s; /.test(l)).map((l) => l.split(' s; ')[1]), ['mutation', 'proposer refused, mutation instead', 'proposer refused, mutation instead', 'proposer']);

    const gens = (await readJson<SearchFile>(path.join(out, 'search.json'))).generations;
    assert.deepEqual(gens.map((g) => g.source), ['mutation', 'mutation', 'mutation', 'proposer']);
    assert.equal(gens[1].proposerErrors.length, 1);
    const proposed = gens[3].candidates[1];
    // It trains with the weight of the best so far, the elite carried first.
    assert.deepEqual([proposed.id, proposed.origin, proposed.spec.stages[0].progress.sigma, proposed.weight], ['g3c1', 'proposer', 0.0777, gens[3].candidates[0].weight]);
    assert.ok(proposed.meanSuccess !== null);
    const cfg = await readJson<{ run: { subgoals: SubgoalSpec } }>(path.join(out, proposed.bestRun!, 'config.json'));
    assert.equal(cfg.run.subgoals.stages[0].progress.sigma, 0.0777);

    // What the proposer read: the previous generation, each candidate with its failure analysis.
    const seen = (await fs.readFile(inputs, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(seen.map((x) => x.generation), [1, 2, 3]);
    assert.deepEqual([seen[0].task, seen[0].pointNames], ['Reach', ['grip', 'goal']]);
    assert.deepEqual(seen[0].candidates.map((c: { id: string }) => c.id), gens[0].candidates.map((c) => c.id));
    for (const c of seen[0].candidates) {
      assert.equal(c.analysis.episodes, 20);
      assert.deepEqual(c.analysis.stages.map((x: { name: string }) => x.name), ['grip-at-goal']);
      assert.equal(c.analysis.successRate, c.meanSuccess);
    }
  });
});
