import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { analyzeEpisodes, formatAnalysis } from '../../engine/lab/analyze.ts';
import { traceEpisodes, type EpisodeTrace } from '../../engine/lab/trace.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { createBackend } from '../../engine/nn/select-backend.ts';
import { loadCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { evalSeed } from '../../engine/train/evaluate.ts';
import { tempDirs } from '../helpers/tmp.ts';

const tmp = tempDirs('cairn-analyze-');
const STAGES = ['behind-object', 'object-at-goal'];
const TERMS = ['sparse', 'pbrs'];

/** An episode of T = stage.length − 1 steps; holds and terms given per state / per step as [K] and [M] rows. */
function episode(stage: number[], holds: number[][], terms: number[][], success: number[]): EpisodeTrace {
  return { length: stage.length - 1, stage, holds: holds.flat(), terms: terms.flat(), success };
}

// Four episodes of T = 4 steps over K = 2 stages (states s0 … s4) and M = 2 terms (sparse, pbrs).
const A = episode([0, 0, 1, 1, 2], [[0, 0], [0, 0], [1, 0], [0, 0], [1, 1]], [[-1, 0.5], [-1, 0.5], [-1, 1], [0, 2]], [0, 0, 0, 1]);
const B = episode([1, 1, 1, 1, 1], [[1, 0], [1, 0], [1, 0], [1, 0], [0, 0]], [[-1, 0], [-1, 0], [-1, 0], [-1, 0]], [0, 0, 0, 0]);
const C = episode([0, 0, 0, 0, 0], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], [[-1, -0.5], [-1, -0.5], [-1, -0.5], [-1, -0.5]], [0, 0, 0, 0]);
const D = episode([0, 2, 2, 2, 2], [[0, 0], [1, 1], [0, 1], [0, 0], [0, 1]], [[-1, 3], [0, 0], [-1, -1], [0, 0.5]], [0, 1, 0, 1]);

describe('analyzeEpisodes on hand-made traces', () => {
  it('gives the hand-worked reach shares, median steps, losses, stalls, term sums and success', () => {
    const a = analyzeEpisodes([A, B, C, D], STAGES, TERMS);
    // Stage 0 (behind-object) is reached by A at t = 2, B at t = 0 (on the reset state), D at t = 1 (with stage 1,
    // both at once); C never: 3/4, median of {2, 0, 1} = 1. Lost: A (held at 2, not at 3, before stage 1 at t = 4)
    // and B (held 0..3, not at 4, stage 1 never reached); not D, whose window [1, 1) is empty (its failing at s2
    // comes after stage 1 completed): 2/3.
    // Stage 1 (object-at-goal) is reached by A at t = 4 and D at t = 1: 2/4, median (1 + 4) / 2 = 2.5. Lost: D (held
    // at 1 and 2, not at 3, to the end); not A (held at 4, the last state): 1/2.
    assert.deepEqual(a.stages, [
      { name: 'behind-object', reachedEpisodes: 3, reached: 0.75, medianStep: 1, lostEpisodes: 2, lost: 2 / 3 },
      { name: 'object-at-goal', reachedEpisodes: 2, reached: 0.5, medianStep: 2.5, lostEpisodes: 1, lost: 0.5 },
    ]);
    // Final stages A 2, B 1, C 0, D 2. Success of s4: A and D. Sums: sparse −3, −4, −4, −2 → −13/4; pbrs 4, 0, −2,
    // 2.5 → 4.5/4.
    assert.deepEqual(a.stalls, [1, 1, 2]);
    assert.equal(a.episodes, 4);
    assert.equal(a.successRate, 0.5);
    assert.equal(a.meanLength, 4);
    assert.deepEqual(a.meanTermSums, { sparse: -3.25, pbrs: 1.125 });
    assert.equal(formatAnalysis(a), [
      'success 50.0% of 4 episodes (mean action), 4.0 steps per episode',
      '75.0% reach behind-object by step 1 (median); 66.7% of those lose it before object-at-goal',
      '50.0% reach object-at-goal by step 2.5 (median); 50.0% of those lose it before the episode ends',
      'episodes stall at: behind-object 25.0% (1), object-at-goal 25.0% (1); 50.0% (2) complete every stage',
      'mean reward term sums per episode: sparse -3.25, pbrs 1.13',
    ].join('\n'));
  });

  it('has no median step or loss share for a stage no episode reaches', () => {
    const a = analyzeEpisodes([C], STAGES, TERMS);
    assert.deepEqual(a.stages.map((s) => [s.reached, s.medianStep, s.lost]), [[0, null, null], [0, null, null]]);
    assert.deepEqual(a.stalls, [1, 0, 0]);
    assert.match(formatAnalysis(a), /^0\.0% reach behind-object\n0\.0% reach object-at-goal\n/m);
  });

  it('refuses no episodes, arrays that do not fit the length, and a final stage outside [0, K]', () => {
    assert.throws(() => analyzeEpisodes([], STAGES, TERMS), /no episodes to analyze/);
    assert.throws(() => analyzeEpisodes([A, { ...B, success: [0, 0, 0] }], STAGES, TERMS), /episode 1 of 4 steps has 3 success values, expected 4/);
    assert.throws(() => analyzeEpisodes([A], STAGES, ['sparse']), /episode 0 of 4 steps has 8 terms values, expected 4/);
    assert.throws(() => analyzeEpisodes([{ ...C, stage: [0, 0, 0, 0, 3] }], STAGES, TERMS), /episode 0 ends at stage 3, outside \[0, 2\]/);
  });
});

describe('cairn analyze on a trained run', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['bin/cairn.mjs', ...args], { encoding: 'utf8' });

  it('traces whole episodes, agrees with the latch and with cairn eval, and writes its JSON', async () => {
    // Push with loose stages that a barely trained policy completes and loses now and then (Push's own it never does),
    // and the stage one-hot in its input, which analyze must rebuild as eval does.
    const dir = tmp(), spec = path.join(dir, 'loose.json');
    await fs.writeFile(spec, JSON.stringify({ stages: [
      { name: 'near-object', predicate: { kind: 'distance', a: 'grip', b: 'object', below: 0.15 }, progress: { a: 'grip', b: 'object', sigma: 0.1 } },
      { name: 'object-near-goal', predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.12 }, progress: { a: 'object', b: 'goal', sigma: 0.1 } },
    ] }));
    const t = run('train', '--task', 'push', '--subgoals', spec, '--stage-in-obs', '--envs', '8', '--steps', '800', '--num-steps', '10', '--hidden', '8', '--eval-episodes', '20', '--out', dir, '--backend', 'wasm', '--threads', '1', '--json');
    assert.equal(t.status, 0, t.stderr);

    const a = run('analyze', dir, '--episodes', '120', '--backend', 'wasm', '--json');
    assert.equal(a.status, 0, a.stderr);
    const out = JSON.parse(a.stdout.trim().split('\n').pop()!);
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(dir, 'analysis.json'), 'utf8')), out);
    assert.equal(out.task, 'Push');
    assert.equal(out.episodes, 120);
    assert.equal(out.meanLength, 50);
    assert.deepEqual(out.stages.map((s: { name: string }) => s.name), ['near-object', 'object-near-goal']);
    // Stage k + 1 is only ever latched after stage k, and an episode stalls where the next stage was not reached.
    const r = [120, ...out.stages.map((s: { reachedEpisodes: number }) => s.reachedEpisodes), 0];
    for (const [k, s] of out.stages.entries()) {
      assert.ok(s.reachedEpisodes <= r[k], `stage ${k} reached by ${s.reachedEpisodes} of ${r[k]}`);
      assert.equal(s.reached, s.reachedEpisodes / 120);
      assert.ok(s.lostEpisodes >= 0 && s.lostEpisodes <= s.reachedEpisodes);
      if (s.reachedEpisodes) assert.ok(s.medianStep >= 0 && s.medianStep <= 50);
    }
    assert.deepEqual(out.stalls, r.slice(0, -1).map((n, k) => n - r[k + 1]));
    assert.equal(out.stalls.reduce((x: number, y: number) => x + y, 0), 120);
    const e = run('eval', dir, '--episodes', '120', '--backend', 'wasm', '--json');
    assert.equal(e.status, 0, e.stderr);
    assert.equal(out.successRate, JSON.parse(e.stdout.trim().split('\n').pop()!).successRate);
    assert.equal(out.seed, evalSeed(1));

    // In process: the first 30 episodes of 8 envs are those of a longer trace (whole episodes in the order they end),
    // and the predicates agree with the engine's latch: at stage k < K stage k's predicate fails (the latch would
    // have advanced), and where the latch advances past k, stage k's predicate holds.
    const { manifest, arrays } = await loadCheckpoint(dir);
    const { backend } = await createBackend('wasm', { obsDim: manifest.obsDim, actDim: manifest.actDim, hidden: manifest.hidden, seed: manifest.seed, maxBatch: 8, params: arrays.params });
    const normalizer = new RunningNormalizer(manifest.obsDim);
    normalizer.load(manifest.normalizer);
    assert.equal(manifest.stageInObs, true);
    const settings = { numEnvs: 8, subgoals: manifest.config.subgoals, stageInObs: true };
    const short = await traceEpisodes('Push', backend, normalizer, 30, 5, settings);
    const long = await traceEpisodes('Push', backend, normalizer, 32, 5, settings);
    backend.destroy();
    assert.equal(short.traces.length, 30);
    assert.deepEqual(short.traces, long.traces.slice(0, 30));
    let advanced = 0;
    for (const ep of long.traces) {
      assert.equal(ep.length, 50);
      for (let s = 0; s <= ep.length; s++) {
        const k = ep.stage[s], from = s ? ep.stage[s - 1] : 0;
        if (k < 2) assert.equal(ep.holds[s * 2 + k], 0, `state ${s} at stage ${k}`);
        for (let j = from; j < k; j++, advanced++) assert.equal(ep.holds[s * 2 + j], 1, `state ${s} latched stage ${j}`);
      }
    }
    assert.ok(advanced > 0, 'no episode completed a stage: the latch check compared nothing');

    const bad = run('analyze', dir, '--episodes', '0');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--episodes must be an integer in \[1, 100000\], got 0/);
    const missing = run('analyze', path.join(dir, 'none'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no manifest at .*none\/checkpoint\.json/);
    await fs.writeFile(path.join(dir, 'checkpoint.json'), '{"format":');
    const corrupt = run('analyze', dir, '--backend', 'wasm');
    assert.equal(corrupt.status, 2);
    assert.match(corrupt.stderr, /^cairn analyze: .*checkpoint/);
  });
});
