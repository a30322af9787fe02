// cairn sweep: the sweep file's validation and run names, the ranking and report, and whole sweeps of tiny Reach
// runs: a run, a re-run that skips everything, a directory holding another run, and a sweep stopped by SIGTERM,
// then killed by SIGKILL, then resumed to the same results as the uninterrupted one.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDirs } from '../helpers/tmp.ts';
import { evals, groupAlive, readResults, REACH_SPEC, runDirs, startSweep, sweepFile, until } from './sweep-helpers.ts';
import { TRAIN_SPEC } from '../../engine/cli/train-command.ts';
import { configMismatches, parseSweep, shortHash, SWEEP_FIELDS, trainFlags } from '../../engine/lab/sweep-file.ts';
import { markdownRanking, rankConfigurations, reportHtml, type RunResult } from '../../engine/lab/sweep-report.ts';

const tmp = tempDirs('cairn-sweep-');

describe('sweep file', () => {
  it('expands a grid (the cartesian product, seeds innermost) and a runs list over base into stable, readable run names', async () => {
    const dir = tmp();
    await fs.writeFile(path.join(dir, 'near.json'), JSON.stringify(REACH_SPEC));
    const grid = parseSweep({ grid: { shaping: ['sparse', 'pbrs'], lr: [0.001, 0.0003] }, base: { task: 'Push', weight: 20, steps: 2e6 }, seeds: [1, 2] }, dir);
    assert.deepEqual(grid.map((r) => r.name), [
      'push-sparse-w20-st2m-lr0.001-s1', 'push-sparse-w20-st2m-lr0.001-s2', 'push-sparse-w20-st2m-lr0.0003-s1', 'push-sparse-w20-st2m-lr0.0003-s2',
      'push-pbrs-w20-st2m-lr0.001-s1', 'push-pbrs-w20-st2m-lr0.001-s2', 'push-pbrs-w20-st2m-lr0.0003-s1', 'push-pbrs-w20-st2m-lr0.0003-s2',
    ]);
    assert.equal(grid[2].config, 'push-sparse-w20-st2m-lr0.0003');
    assert.equal(grid[2].where, 'grid[shaping=sparse,lr=0.0003]');
    const list = parseSweep({ runs: [{ shaping: 'dense', subgoals: 'near.json', 'norm-adv': false }, { 'init-log-std': -1, task: 'reach' }], base: { task: 'reach', 'num-steps': 50 } }, dir);
    assert.match(list[0].name, /^reach-dense-sg-near-[0-9a-f]{6}-ns50-na-false-s1$/);
    assert.equal(list[1].name, 'reach-pbrs-ns50-ls-1-s1');
    // The same run in another order of keys, from an inline spec: the same settings, the same hash.
    const again = parseSweep({ runs: [{ 'norm-adv': false, subgoals: REACH_SPEC, shaping: 'dense', task: 'reach', 'num-steps': 50 }] }, dir);
    assert.equal(again[0].name.replace('sg-', 'sg-near-'), list[0].name);
    assert.deepEqual(trainFlags(list[0], '/in'), ['--task=reach', '--shaping=dense', '--num-steps=50', `--subgoals=/in/subgoals-${shortHash(JSON.stringify(REACH_SPEC), 12)}.json`, '--norm-adv=false', '--seed=1']);
    // Long names are cut and end in a hash; names stay distinct.
    const long = parseSweep({ grid: { lr: [0.001, 0.002] }, base: { task: 'pickandplace', weight: 12.5, envs: 1024, steps: 12345678, hidden: '256,256,256', 'num-steps': 32, epochs: 10, minibatches: 32, gamma: 0.985, 'gae-lambda': 0.95, 'ent-coef': 0.001, 'bound-penalty': 0.5 } }, dir);
    assert.ok(long.every((r) => r.config.length <= 100 && /-[0-9a-f]{8}$/.test(r.config)), long.map((r) => r.config).join('\n'));
    assert.notEqual(long[0].config, long[1].config);
  });

  it('names the place and field of every bad entry, and the sweep refuses to start', () => {
    const dir = tmp();
    const bad: [unknown, RegExp][] = [
      [{ runs: [{}, {}, { shaping: 'pbsr' }] }, /^runs\[2\]\.shaping: must be one of sparse, dense, pbrs, bonus, gated, progress, got 'pbsr'$/],
      [{ grid: { lr: [0.001, -1] } }, /^grid\.lr\[1\]: must be a number in \[0, 1\], got -1$/],
      [{ runs: [{}], base: { envs: 0 } }, /^base\.envs: must be an integer in \[1, 65536\], got 0$/],
      [{ runs: [{ lrr: 0.1 }] }, /^runs\[0\]\.lrr: unknown field 'lrr' \(fields: task, shaping, weight/],
      [{ runs: [{ seed: 3 }] }, /^runs\[0\]\.seed: unknown field 'seed' \(seeds go in the top-level "seeds" list\)$/],
      [{ runs: [{}], seeds: [1, 1] }, /^seeds\[1\]: seed 1 is listed twice$/],
      [{ runs: [{}], seeds: [-1] }, /^seeds\[0\]: must be an integer in \[0, 4294967295\], got -1$/],
      [{ runs: [{}, { task: 'reach', subgoals: { stages: [{ name: 'x', predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.05 }, progress: { a: 'grip', b: 'goal', sigma: 0.1 } }] } }] }, /^runs\[1\]\.subgoals: subgoals\.stages\[0\]\.predicate\.a: unknown point 'object' \(known: grip, goal\)$/],
      [{ runs: [{ subgoals: 'missing.json' }] }, /^runs\[0\]\.subgoals: cannot read .*missing\.json$/],
      [{ runs: [{ dr: { objectMass: [3, 1] } }] }, /^runs\[0\]\.dr: domainRandomization\.objectMass: lo 3 is above hi 1$/],
      [{ grid: { task: ['reach', 'fly'] } }, /^grid\.task\[1\]: unknown task 'fly'/],
      [{ runs: [{ hidden: '16,x' }] }, /^runs\[0\]\.hidden: must be comma-separated positive widths, got '16,x'$/],
      [{ runs: [{ gamma: 0 }] }, /^runs\[0\]\.gamma: must be a number in \(0, 1\], got 0$/],
      [{ runs: [{ 'norm-adv': 'true' }] }, /^runs\[0\]\.norm-adv: must be true or false, got 'true'$/],
      [{ runs: [{ critic: 'value' }] }, /^runs\[0\]\.critic: must be one of auto, shaped, task, got 'value'$/],
      [{ runs: [{ envs: 2, 'num-steps': 2, minibatches: 8 }] }, /^runs\[0\]\.minibatches: 8 exceeds the 4 samples of an iteration/],
      [{ runs: [{}, { shaping: 'gated', 'terminate-on-infraction': true }] }, /^runs\[1\]\.terminate-on-infraction: terminateOnInfraction goes with the sparse, pbrs, bonus or progress shaping modes, not 'gated'/],
      [{ runs: [{ lr: 0.001 }, { lr: 0.001 }] }, /^runs\[1\]: the same configuration as runs\[0\] \(push-pbrs-lr0\.001\)$/],
      [{ runs: [{}], grid: { lr: [1] } }, /^sweep: give exactly one of "grid"/],
      [{ seeds: [1] }, /^sweep: give exactly one of "grid"/],
      [{ runs: [{}], sedes: [1] }, /^sweep: unknown key 'sedes'/],
      [{ grid: { lr: [] } }, /^grid\.lr: must be a non-empty list of values/],
      [{ runs: [] }, /^runs: must be a non-empty list of objects/],
    ];
    for (const [json, message] of bad) assert.throws(() => parseSweep(json, dir), { message }, JSON.stringify(json));
  });

  it('covers every cairn train flag, or leaves it out on purpose', () => {
    // The sweep sets seed, out, backend and threads itself; the rest are not per-run settings of a sweep.
    const notFields = ['seed', 'out', 'backend', 'threads', 'workers', 'checkpoint-seconds', 'stop-after', 'starts', 'demo-share', 'start-threshold', 'resume', 'overwrite', 'json'];
    const missing = Object.keys(TRAIN_SPEC.flags).filter((f) => !notFields.includes(f) && !(f in SWEEP_FIELDS));
    assert.deepEqual(missing, [], 'cairn train flags a sweep cannot set: add each to SWEEP_FIELDS (engine/lab/sweep-file.ts) or to notFields here');
    assert.deepEqual(Object.keys(SWEEP_FIELDS).filter((f) => !(f in TRAIN_SPEC.flags)), [], 'sweep fields that are no cairn train flag');
  });

  it('compares a run directory\'s config.json field by field', () => {
    const [run] = parseSweep({ runs: [{ task: 'reach', lr: 0.001, hidden: '16,16' }] }, tmp());
    const config = { run: { task: 'reach', shaping: 'pbrs', seed: 1, hidden: [16, 16], initLogStd: null, valueOutGain: null, subgoals: null, domainRandomization: null, ppo: { hp: { lr: 0.001 } } } };
    assert.deepEqual(configMismatches(run, config), []);
    config.run.ppo.hp.lr = 0.0003;
    config.run.initLogStd = -1 as unknown as null;
    assert.deepEqual(configMismatches(run, config), ['lr: 0.0003 there, 0.001 here', 'init-log-std: -1 there, null here']);
  });
});

describe('sweep ranking and report', () => {
  const run = (config: string, seed: number, evalSuccess: number | null, stepsTo50: number | null, status: RunResult['status'] = 'finished', goalProgress: number | null = null): RunResult =>
    ({ name: `${config}-s${seed}`, config, settings: { lr: config }, seed, status, evalSuccess, goalProgress, stepsTo50, stepsTo90: null, wallSeconds: status === 'finished' ? 10 : null, threads: 1 });

  it('groups seeds, ranks by mean eval success then steps, and puts configurations with nothing finished last', () => {
    const rows = rankConfigurations([
      run('a', 1, 0.5, 1000, 'finished', 0.25), run('a', 2, 0.75, null, 'finished', 0.5), run('a', 3, 1, 3000),
      run('b', 1, 0.75, 2000), run('b', 2, 0.75, 2000),
      run('c', 1, null, null, 'failed'),
      run('d', 1, 0.75, 500), run('d', 2, 0.75, null), run('d', 3, null, null, 'interrupted'),
    ]);
    assert.deepEqual(rows.map((r) => r.config), ['b', 'a', 'd', 'c']);
    const [b, a, d, c] = rows;
    // Equal means (0.75): steps to 90% (never for all) tie, then steps to 50% decide: b 2000, a 3000, d never (median of 500, ∞).
    assert.deepEqual([a.meanSuccess, a.minSuccess, a.maxSuccess, a.stepsTo50, a.bestRun], [0.75, 0.5, 1, 3000, 'a-s3']);
    assert.deepEqual([b.stepsTo50, d.stepsTo50, d.finished, d.seeds], [2000, null, 2, 3]);
    assert.deepEqual([c.meanSuccess, c.finished, c.bestRun], [null, 0, null]);
    // Goal progress: the mean over the seeds that measured it (a's third did not), null where none did.
    assert.deepEqual([a.meanGoalProgress, b.meanGoalProgress], [0.375, null]);
    const md = markdownRanking(rows);
    assert.match(md, /^\| rank \| configuration \| seeds \| eval success \(mean\) \| min–max \| goal progress \|/);
    assert.match(md, /\| 2 \| a \| 3\/3 \| 75\.0% \| 50\.0%–100\.0% \| 0\.38 \| 3k \| — \| 10\.0 s \|/);
    assert.match(md, /\| 4 \| c \| 0\/1 \| — \| — \| — \| — \| — \| — \|/);
  });

  it('renders a self-contained page, with a failure analysis section only where one is given', () => {
    const rows = rankConfigurations([run('a<b', 1, 0.5, 1000)]);
    const page = { title: 't', subtitle: 's', rows, curves: { 'a<b': [{ seed: 1, x: [0, 100], y: [0, 0.5] }] } };
    const html = reportHtml(page);
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script|<link|src=/);
    assert.equal((html.match(/<svg /g) ?? []).length, 1);
    assert.match(html, /a&lt;b/);
    assert.doesNotMatch(html, /Failure analysis/);
    assert.match(reportHtml({ ...page, failureAnalysis: { 'a<b': 'stalls at stage 0' } }), /<h3>Failure analysis of a&lt;b-s1<\/h3>\n<pre>stalls at stage 0<\/pre>/);
  });
});

describe('cairn sweep', { timeout: 240_000 }, () => {
  let file = '', reference = '';

  it('runs 4 tiny Reach runs 2 at a time and writes results.json, table.md and report.html, ranked', async () => {
    file = await sweepFile(tmp());
    reference = path.join(tmp(), 'sweep');
    const r = await startSweep(file, reference).exited;
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual([summary.runs, summary.finished, summary.skipped, summary.failed], [4, 4, 0, 0]);
    assert.match(r.stderr, /4 runs \(2 configurations × 2 seeds\).*2 at a time, \d+ threads? each/);
    assert.equal((r.stderr.match(/\] start /g) ?? []).length, 4);
    assert.match(r.stderr, /\[4\/4\] done /);

    const res = await readResults(reference);
    assert.equal(res.runs.length, 4);
    for (const run of res.runs) {
      assert.equal(run.status, 'finished', run.name);
      assert.ok(run.evalSuccess! >= 0 && run.evalSuccess! <= 1 && run.wallSeconds! > 0 && run.threads! >= 1, JSON.stringify(run));
      const cfg = JSON.parse(await fs.readFile(path.join(reference, 'runs', run.name, 'config.json'), 'utf8'));
      assert.deepEqual([cfg.run.task, cfg.run.numEnvs, cfg.run.seed, cfg.threads], ['reach', 8, run.seed, run.threads]);
    }
    assert.match(res.runs[2].name, /^reach-dense-sg-reach-spec-[0-9a-f]{6}-n8-st4k-h16x16-ns50-ev20-s1$/);
    const dense = JSON.parse(await fs.readFile(path.join(reference, 'runs', res.runs[2].name, 'config.json'), 'utf8'));
    assert.deepEqual(dense.run.subgoals, REACH_SPEC);
    // Ranked by mean eval success, each the mean of its seeds.
    const means = res.configurations.map((c) => c.meanSuccess);
    assert.deepEqual(means, [...means].sort((x, y) => y - x));
    for (const c of res.configurations) {
      const seeds = res.runs.filter((x) => x.config === c.config).map((x) => x.evalSuccess!);
      assert.equal(c.meanSuccess, (seeds[0] + seeds[1]) / 2);
    }
    assert.equal(summary.best.name, res.configurations[0].config);
    const table = await fs.readFile(path.join(reference, 'table.md'), 'utf8');
    assert.equal(table.trim().split('\n').length, 4);
    assert.equal(r.stdout.trim().split('\n').length, 1, 'with --json stdout holds only the summary');
    const html = await fs.readFile(path.join(reference, 'report.html'), 'utf8');
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    assert.equal((html.match(/>seed [12]</g) ?? []).length, 4);
    // Each configuration's best seed is analyzed (cached in its run directory) and the analysis shown.
    assert.equal((html.match(/<h3>Failure analysis of reach-/g) ?? []).length, 2);
    assert.match(html, /success \d+\.\d% of 100 episodes/);
    for (const c of res.configurations as unknown as { bestRun: string; analysis: string }[]) {
      const cached = JSON.parse(await fs.readFile(path.join(reference, 'runs', c.bestRun, 'analysis.json'), 'utf8'));
      assert.equal(cached.episodes, 100);
      assert.match(c.analysis, /^success /);
    }
  });

  it('re-running the same sweep skips every finished run without starting train', async () => {
    const logs = path.join(reference, 'logs');
    const sizes = async () => Promise.all((await fs.readdir(logs)).sort().map(async (n) => (await fs.stat(path.join(logs, n))).size));
    const before = await sizes();
    const r = await startSweep(file, reference).exited;
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual([summary.runs, summary.finished, summary.skipped, summary.failed], [4, 0, 4, 0]);
    assert.doesNotMatch(r.stderr, /\] (start|resume) /);
    assert.deepEqual(await sizes(), before);
    assert.equal((await readResults(reference)).runs.filter((x) => x.status === 'finished').length, 4);
  });

  it('refuses, before anything starts, a run directory that holds another run', async () => {
    const out = path.join(tmp(), 'sweep');
    const name = (await readResults(reference)).runs[1].name;
    await fs.mkdir(path.join(out, 'runs'), { recursive: true });
    await fs.cp(path.join(reference, 'runs', name), path.join(out, 'runs', name), { recursive: true });
    const cfgPath = path.join(out, 'runs', name, 'config.json');
    const cfg = JSON.parse(await fs.readFile(cfgPath, 'utf8'));
    cfg.run.numEnvs = 16;
    await fs.writeFile(cfgPath, JSON.stringify(cfg));
    const r = await startSweep(file, out).exited;
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`runs/${name} holds another run \\(envs: 16 there, 8 here\\)`));
    assert.match(r.stderr, /nothing was started or changed/);
    assert.deepEqual((await fs.readdir(out)).sort(), ['runs']);
    assert.deepEqual(await fs.readdir(path.join(out, 'runs')), [name]);
  });

  it('SIGTERM stops the sweep and its children; after a SIGKILL of the whole group mid-way, a re-run resumes to the same results', async () => {
    const out = path.join(tmp(), 'sweep');
    // SIGTERM to the sweep alone, once a run has started: it stops its children and exits 143, leaving no process behind.
    const first = startSweep(file, out, true);
    await until(() => /\] start /.test(first.stderr()), 60_000, 'a run to start');
    first.child.kill('SIGTERM');
    const stopped = await first.exited;
    assert.equal(stopped.code, 143, stopped.stderr);
    assert.match(stopped.stderr, /SIGTERM: stopping \d running run\(s\)/);
    await until(() => !groupAlive(first.child.pid!), 10_000, 'the stopped sweep\'s processes to exit');
    assert.ok((await readResults(out)).runs.some((x) => x.status === 'interrupted'));

    // SIGKILL to the sweep and its children once one run has finished while another is mid-training.
    const second = startSweep(file, out, true);
    await until(async () => {
      const dirs = await runDirs(out);
      return dirs.some((d) => d.finished) && dirs.some((d) => !d.finished && d.rows >= 1);
    }, 90_000, 'one run finished and another mid-training');
    process.kill(-second.child.pid!, 'SIGKILL');
    await second.exited;
    await until(() => !groupAlive(second.child.pid!), 10_000, 'the killed processes to exit');
    const dirs = await runDirs(out);
    assert.ok(dirs.filter((d) => d.finished).length < 4, 'the kill came before the sweep ended');

    const last = await startSweep(file, out).exited;
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stderr, /\] resume reach-/);
    const summary = JSON.parse(last.stdout.trim().split('\n').pop()!);
    assert.equal(summary.skipped + summary.finished, 4);
    assert.ok(summary.skipped >= 1);
    const [want, got] = [await readResults(reference), await readResults(out)];
    const names = want.runs.map((x) => x.name);
    assert.deepEqual(got.runs.map((x) => [x.name, x.status, x.evalSuccess, x.stepsTo50, x.stepsTo90]), want.runs.map((x) => [x.name, x.status, x.evalSuccess, x.stepsTo50, x.stepsTo90]));
    assert.deepEqual(await evals(out, names), await evals(reference, names));
  });
});
