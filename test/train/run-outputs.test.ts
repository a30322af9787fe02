// What a training run leaves for its user: a curve that draws, a flat metrics.csv, config.json.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { episodeCurve, trainRun, type TrainRunOptions } from '../../engine/train/run.ts';
import type { IterationMetrics } from '../../engine/train/ppo.ts';
import { tempDirs } from '../helpers/tmp.ts';

const tmp = tempDirs('cairn-outputs-');
const quiet = () => {};

/** The charts of a stacked curve.svg: each one's axes rectangle and the points of each of its paths. */
function chartsOf(svg: string) {
  return svg.split('<svg x="0"').slice(1).map((chunk) => {
    const axes = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none" stroke="#888"\/>/.exec(chunk);
    assert.ok(axes, 'each chart has its axes');
    const [x, y, w, h] = axes.slice(1).map(Number);
    const paths = [...chunk.matchAll(/<path d="([^"]+)"/g)].map((m) => [...m[1].matchAll(/([ML])([\d.-]+),([\d.-]+)/g)].map((p) => ({ cmd: p[1], x: Number(p[2]), y: Number(p[3]) })));
    const legend = [...chunk.matchAll(/<text x="[\d.]+" y="[\d.]+">([^<]+)<\/text>/g)].map((m) => m[1]);
    return { box: { x, y, w, h }, paths, legend };
  });
}

describe('run outputs', () => {
  it('curve.svg draws success, stages and returns from finished episodes under the default 16-step iterations (no gaps everywhere)', async () => {
    const dir = tmp();
    const o: TrainRunOptions = {
      task: 'Push', shaping: 'pbrs', shapingWeight: 20, numEnvs: 8, numWorkers: 1, totalSteps: 8 * 16 * 40, seed: 1, outDir: dir, backend: 'wasm', threads: 1, hidden: [16],
      ppo: {}, evalEpisodes: 8, resume: false, checkpointSeconds: 0,
    };
    await trainRun(o, quiet, quiet);
    const svg = await fs.readFile(path.join(dir, 'curve.svg'), 'utf8');
    const charts = chartsOf(svg);
    assert.equal(charts.length, 2, 'fractions on top, returns below');
    assert.ok(charts[0].legend.includes('success (train)') && charts[0].legend.some((t) => t.startsWith('reached ')), charts[0].legend.join(', '));
    assert.deepEqual(charts[1].legend, ['sparse return', 'shaped return']);
    for (const c of charts) {
      const lines = c.paths.filter((p) => p.length > 1);
      assert.ok(lines.length >= 2, `at least two series draw lines (${lines.length})`);
      for (const p of lines) {
        assert.equal(p[0].cmd, 'M');
        assert.ok(p.slice(1).every((q) => q.cmd === 'L'), 'one unbroken line per series');
        assert.ok(p.length >= 5, `a line of ${p.length} points from 40 iterations`);
        for (const q of p) {
          assert.ok(q.x >= c.box.x - 0.05 && q.x <= c.box.x + c.box.w + 0.05 && q.y >= c.box.y - 0.05 && q.y <= c.box.y + c.box.h + 0.05, `point ${q.x},${q.y} inside the axes`);
        }
      }
    }
    // metrics.csv: a header, one row per iteration, one column per scalar.
    const csv = (await fs.readFile(path.join(dir, 'metrics.csv'), 'utf8')).trim().split('\n');
    const head = csv[0].split(',');
    for (const k of ['time', 'iteration', 'envSteps', 'sps', 'successRate', 'sparseReturn', 'stageReached.0', 'terms.pbrs', 'loss.vLoss']) assert.ok(head.includes(k), `column ${k}`);
    assert.equal(csv.length, 41);
    const it = head.indexOf('iteration'), t = head.indexOf('time'), v = head.indexOf('loss.vLoss');
    csv.slice(1).forEach((line, i) => {
      const f = line.split(',');
      assert.equal(f.length, head.length);
      assert.equal(Number(f[it]), i + 1);
      assert.ok(!Number.isNaN(Date.parse(f[t])));
      assert.ok(Number.isFinite(Number(f[v])));
    });
    const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    assert.equal(config.run.task, 'Push');
    assert.equal(config.run.ppo.numSteps, 16, 'defaults are filled in');
    assert.equal(config.backend, 'wasm');
  });

  it('episodeCurve pools iterations by episodes finished and leaves out bins without any', () => {
    const row = (envSteps: number, episodes: number, successRate: number) => ({ envSteps, episodes, successRate } as IterationMetrics);
    const rows = [row(10, 0, Number.NaN), row(20, 2, 1), row(30, 0, Number.NaN), row(40, 0, Number.NaN), row(50, 6, 0), row(60, 0, Number.NaN)];
    assert.deepEqual(episodeCurve(rows, (r) => r.successRate, 3), { x: [20, 60], y: [1, 0] });
    assert.deepEqual(episodeCurve(rows, (r) => r.successRate, 1), { x: [60], y: [0.25] });
    assert.deepEqual(episodeCurve([], (r) => r.successRate), { x: [], y: [] });
  });
});
