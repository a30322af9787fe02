/** The side panel's read-outs: the selectors' values, the counters, the plots, the stage legend and the focused env's details. */
import { listTasks } from '../../tasks/registry.ts';
import { SHAPING_MODES } from '../shaping/spec.ts';
import type { ViewApp } from './app.ts';
import { BarChart, LineChart } from './chart.ts';
import { $, fillSelect, fmt } from './dom.ts';
import { ENV_COUNTS, STEPS_PER_FRAME } from './params.ts';
import { stageColor } from './scene-style.ts';
import type { ViewSim } from './sim.ts';

export class Panel {
  /** What the panel last drew, to skip unchanged DOM and plots. */
  private statLabels = '';
  private chartKey = '';
  private stageKey = '';
  private readonly successChart = new LineChart($('chart-success') as HTMLCanvasElement, { title: 'success rate', yMin: 0, yMax: 1 });
  private readonly returnChart = new LineChart($('chart-return') as HTMLCanvasElement, { title: 'return', digits: 1 });
  private readonly stageChart = new BarChart($('chart-stage') as HTMLCanvasElement, 'envs by stage now');
  private readonly maxStageChart = new BarChart($('chart-max-stage') as HTMLCanvasElement, 'episodes by stage reached');

  constructor(private readonly app: ViewApp) {}

  /** Makes the next update redraw the plots (after a rebuild). */
  redrawPlots(): void {
    this.chartKey = '';
    this.stageKey = '';
  }

  /** Puts the params' values into the selectors, and the stage legend of the sim's spec. */
  syncControls(): void {
    const app = this.app, p = app.params, sim = app.sim, loaded = app.checkpoints.loaded;
    fillSelect($('task') as HTMLSelectElement, listTasks(), p.task);
    fillSelect($('shaping') as HTMLSelectElement, SHAPING_MODES, p.shaping);
    fillSelect($('envs') as HTMLSelectElement, ENV_COUNTS, p.numEnvs);
    fillSelect($('spf') as HTMLSelectElement, STEPS_PER_FRAME, p.stepsPerFrame);
    const policySel = $('policy') as HTMLSelectElement;
    const opts: [string, string][] = [['scripted', 'scripted'], ['random', 'random']];
    if (loaded) opts.push(['policy', `policy (${loaded.checkpoint.manifest.task} checkpoint)`]);
    policySel.replaceChildren(...opts.map(([v, label]) => new Option(label, v)));
    policySel.value = sim?.policy ?? 'scripted';
    ($('focus-index') as HTMLInputElement).max = String(p.numEnvs - 1);
    ($('focus-index') as HTMLInputElement).value = p.focus === null ? '' : String(p.focus);
    $('focus-info').hidden = p.focus === null;
    $('pause').textContent = app.loop.paused ? 'run' : 'pause';
    const K = sim?.numStages ?? 0;
    const names = sim?.stageNames ?? [];
    $('legend').replaceChildren(document.createTextNode('stages: '), ...Array.from({ length: K + 1 }, (_, k) => {
      const s = document.createElement('span');
      s.style.color = stageColor(k, K);
      s.textContent = `◆ ${k < K ? `${k} ${names[k]}` : `${K} done`}  `;
      return s;
    }), document.createElement('br'), document.createTextNode('◆ markers: each env\'s current subgoal target, coloured by stage; spheres: goals, one per object in its colour (green while reached).'));
  }

  /** Counters, plots and the focused env's details. */
  update(): void {
    const app = this.app, sim = app.sim, scene = app.scene, loop = app.loop;
    if (!sim || !scene) return;
    const t = sim.tracker;
    const shaped = `shaped (${sim.shaping})`;
    const rows: [string, string, boolean?][] = [
      ['frames/s', String(loop.fps)],
      ['steps/s', String(loop.stepsPerSec)],
      ['env-steps/s', (loop.stepsPerSec * app.params.numEnvs).toLocaleString('en-US'), true],
      ['steps', String(sim.steps)],
      ['episodes', String(t.episodes)],
      ['successes', String(t.successes)],
      ['success', fmt(t.recentSuccessRate)],
      ['return', fmt(t.recentSparseReturn, 1)],
      [shaped, fmt(t.recentShapedReturn, 1)],
      ['draw calls', String(scene.drawCalls)],
    ];
    // Rebuild the rows only when their labels change; otherwise update the values in place.
    const labels = rows.map((r) => r[0]).join('|');
    if (labels !== this.statLabels) {
      this.statLabels = labels;
      $('stats').replaceChildren(...rows.flatMap(([k, , wide]) => {
        const dt = document.createElement('dt'), dd = document.createElement('dd');
        dt.textContent = k;
        if (wide) dd.className = 'wide';
        return [dt, dd];
      }));
    }
    const dds = $('stats').querySelectorAll('dd');
    rows.forEach(([, v], k) => { if (dds[k].textContent !== v) dds[k].textContent = v; });
    // Plots: only when something new is there to draw.
    const K = sim.numStages, width = app.canvas.clientWidth;
    const chartKey = `${t.episodes}|${t.successRate.values.length}|${sim.shaping}|${width}`;
    if (chartKey !== this.chartKey) {
      this.chartKey = chartKey;
      const x = `moving avg. of ${t.window} episodes; ${t.episodes} finished`;
      this.successChart.draw([{ label: 'success', color: '#47d16c', values: t.successRate.values }], x);
      this.returnChart.draw([
        { label: 'sparse', color: '#5aa0ff', values: t.sparseReturn.values },
        { label: shaped, color: '#ffb347', values: t.shapedReturn.values },
      ], x);
    }
    sim.collectStageStats();
    const stageKey = `${Array.from(sim.stageCounts).join(',')}|${Array.from(sim.maxStageCounts).join(',')}|${width}`;
    if (stageKey !== this.stageKey) {
      this.stageKey = stageKey;
      const labels = Array.from({ length: K + 1 }, (_, k) => String(k));
      const colors = Array.from({ length: K + 1 }, (_, k) => stageColor(k, K));
      this.stageChart.draw(sim.stageCounts, labels, colors, { annotate: 'count' });
      this.maxStageChart.draw(sim.maxStageCounts, labels, colors, { annotate: 'percent', empty: 'no finished episode yet' });
    }
    this.updateFocusInfo(sim);
  }

  /** The focused env's episode, step, stage, distance to its goal (metres) and reward. */
  private updateFocusInfo(sim: ViewSim): void {
    const f = this.app.params.focus, K = sim.numStages;
    if (f === null || f >= sim.env.numEnvs) return;
    const b = sim.env.batch, G = sim.env.goalDim;
    let d2 = 0;
    for (let k = 0; k < G; k++) d2 += (b.achievedGoal[f * G + k] - b.desiredGoal[f * G + k]) ** 2;
    const k = b.stage[f];
    $('focus-info').textContent =
      `env ${f}   episode ${b.episodeIndex[f]}   step ${b.episodeStep[f]}/${sim.env.task.maxEpisodeSteps}\n` +
      `stage ${k}${k < K ? ` (${sim.stageNames[k]})` : K ? ' (done)' : ''}   ‖achieved − goal‖ ${fmt(Math.sqrt(d2), 3)} m   reward ${b.reward[f]}`;
  }
}
