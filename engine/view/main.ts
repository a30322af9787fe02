/**
 * The browser entry of `npm run view` (index.html): reads the URL parameters (engine/view/params.ts),
 * runs the real engine in the tab and draws it with three.js, with a plain-DOM panel of controls, counters
 * and plots. The frame loop does `stepsPerFrame` env steps (fractions skip frames) then one render.
 *
 * Actions come from the scripted controller, uniform noise, or a `cairn train` checkpoint (engine/view/policy.ts)
 * loaded from `?policy=URL` or the panel's file picker; its network runs on WebGPU when the browser has a real
 * GPU and on the WASM CPU backend otherwise, and the page says which.
 *
 * With `?replay=URL` the page plays a recording instead (engine/view/replay-page.ts): no env, no policy, no physics.
 *
 * For tests and scripts the page exposes `window.cairnView` (see ViewHandle).
 */
import type { WebGLRenderer } from 'three';
import { listTasks } from '../../tasks/registry.ts';
import { SHAPING_MODES, type ShapingMode } from '../shaping/spec.ts';
import { BarChart, LineChart } from './chart.ts';
import { ENV_COUNTS, formatViewParams, parseViewParams, STEPS_PER_FRAME, type PolicyChoice, type ViewParams } from './params.ts';
import { chooseBackend, type GpuProbe } from '../nn/backend-kind.ts';
import { fetchCheckpoint, preparePolicy, probeBrowserGpu, readCheckpointFiles, type LoadedCheckpoint, type LoadedPolicy } from './policy.ts';
import { runReplay } from './replay-page.ts';
import { createRenderer, EnvScene, stageColor, type SceneFrame, type SceneInstances } from './scene.ts';
import { ViewSim, type ActionKind } from './sim.ts';

/** What the page knows about the checkpoint policy. */
export interface CheckpointState {
  /** none: never asked for one; loading; ready: one is loaded; failed: the last load failed (error says why). */
  status: 'none' | 'loading' | 'ready' | 'failed';
  /** The last load's error message, or null. */
  error: string | null;
  /** Where the last load came from: the manifest's URL or the picked files' names. */
  origin: string | null;
  /** The loaded checkpoint's task, env steps, hidden widths and backend (null when none is loaded). */
  task: string | null;
  envSteps: number | null;
  hidden: number[] | null;
  backend: 'webgpu' | 'wasm' | null;
  /** What the panel shows as the backend, e.g. `CPU (WASM)`. */
  backendLabel: string | null;
}

/** What the page reports through window.cairnView.state(). */
export interface ViewState {
  /** True once the first env is built and a frame was drawn. */
  ready: boolean;
  /** A fatal error message, or null. */
  error: string | null;
  task: string;
  numEnvs: number;
  shaping: ShapingMode;
  shapingSupported: boolean;
  /** The mode the env itself reports (null without shaping in the env). */
  shapingInEffect: ShapingMode | null;
  /** Where the actions come from now. */
  policy: ActionKind;
  checkpoint: CheckpointState;
  paused: boolean;
  stepsPerFrame: number;
  focus: number | null;
  /** Control steps since the last reset. */
  steps: number;
  episodes: number;
  successes: number;
  /** Moving-average success rate (last max(100, N) episodes). */
  successRate: number;
  /** Moving-average sparse return over the same episodes. */
  meanReturn: number;
  /** Frames per second over the last second. */
  fps: number;
  /** Control steps per second and env-steps per second (N × control steps) over the last second. */
  stepsPerSec: number;
  envStepsPerSec: number;
  drawCalls: number;
  /** [K + 1] envs per current stage. */
  stageCounts: number[];
  stageNames: string[];
  /** Texts of the notes shown over the scene. */
  notes: string[];
  /** Whether the browser offered a WebGPU adapter (null while checking). */
  webgpu: boolean | null;
  /** Whether that adapter is a real GPU (not a fallback such as SwiftShader), and what it is (null while checking). */
  gpuReal: boolean | null;
  gpuAdapter: string | null;
}

/** Per-frame costs measured over a window, milliseconds of main-thread time. */
export interface FrameTiming {
  frames: number;
  seconds: number;
  fps: number;
  /** Mean wall time between frames. */
  frameMs: number;
  /** Mean time in env steps (act + physics + bookkeeping) per frame. */
  simMs: number;
  /** Mean time syncing instances and issuing the draw (the GPU work may finish later). */
  renderMs: number;
}

/** The test hook on window. */
export interface ViewHandle {
  state(): ViewState;
  /** Stage markers as drawn plus the batch's points and stages, env-local metres. */
  markers(): { positions: number[]; colors: number[]; stage: number[]; points: number[]; pointNames: string[]; targetNames: string[]; stageColors: string[] };
  /** Measures frames over `ms` milliseconds of running. */
  measure(ms: number): Promise<FrameTiming>;
  /** The scene's instances as drawn, with the batch's state block they are drawn from. */
  instances(): ViewInstances;
  /** Pauses and starts every env's episode again from the page's seed (for recording from a known start). */
  restart(): Promise<void>;
  /** Pauses, takes `steps` control steps, draws, and returns the frame scaled to width × height as base64 RGBA bytes. */
  advance(steps: number, width: number, height: number): Promise<string>;
}

/** What window.cairnView.instances() returns: the drawn instances (world frame) and the batch's views (env-local). */
export interface ViewInstances extends SceneInstances {
  numEnvs: number;
  /** [N, 3] world position of each env's (tableCenter, 0). */
  origins: number[];
  /** [x, y] env-local point drawn at each cell's centre. */
  tableCenter: number[];
  /** The task's scene: table and objects. */
  table: { center: number[]; half: number[]; topZ: number };
  sceneObjects: { name: string; shape: 'box' | 'cylinder'; halfExtents: number[] }[];
  distanceThreshold: number;
  /** Bodies B per env, and batch.bodyPose [N, B, 7]. */
  numBodies: number;
  bodyPose: number[];
  /** batch.fingerPos [N, 2]. */
  fingerPos: number[];
  /** goalDim G, batch.desiredGoal [N, G] and batch.achievedGoal [N, G]. */
  goalDim: number;
  desiredGoal: number[];
  achievedGoal: number[];
  /** Scene parameters S per env and batch.sceneParams [N, S]. */
  numSceneParams: number;
  sceneParams: number[];
  /** Control steps since the last reset, and batch.stage [N]. */
  steps: number;
  stage: number[];
}

declare global {
  interface Window {
    cairnView?: ViewHandle;
  }
}

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`view: #${id} is missing from index.html`);
  return e;
}

function fillSelect(sel: HTMLSelectElement, values: readonly (string | number)[], current: string | number): void {
  sel.replaceChildren(...values.map((v) => new Option(String(v), String(v), false, String(v) === String(current))));
  if (!values.map(String).includes(String(current))) sel.add(new Option(String(current), String(current), true, true));
}

function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

type NoteKind = 'info' | 'warn' | 'error';

class ViewApp {
  params: ViewParams;
  private sim: ViewSim | null = null;
  private scene: EnvScene | null = null;
  private readonly renderer: WebGLRenderer;
  private readonly canvas = $('scene') as HTMLCanvasElement;
  private readonly notesEl = $('notes');
  private readonly notes = new Map<string, { kind: NoteKind; text: string }>();
  private paused = false;
  private stepBudget = 0;
  private busy = false;
  private rebuilding: Promise<void> | null = null;
  private error: string | null = null;
  /** What the browser's WebGPU offers (null while checking). */
  private gpu: GpuProbe | null = null;
  private readonly gpuProbe: Promise<GpuProbe>;
  /** Where actions come from (the sim's source after the next build). */
  private actionKind: ActionKind;
  /** The loaded checkpoint policy; the page owns its network. */
  private loaded: LoadedPolicy | null = null;
  /** How the loaded checkpoint was asked for (its URL goes back into the page's URL). */
  private loadedChoice: PolicyChoice | null = null;
  private checkpoint: CheckpointState = { status: 'none', error: null, origin: null, task: null, envSteps: null, hidden: null, backend: null, backendLabel: null };
  /** The step in flight (awaited before the sim it steps is closed). */
  private stepping: Promise<void> | null = null;
  private frameTimes: number[] = [];
  private stepTimes: number[] = [];
  private lastPanelUpdate = 0;
  /** What the panel last drew, to skip unchanged DOM and plots. */
  private statLabels = '';
  private chartKey = '';
  private stageKey = '';
  private timing = { frames: 0, simMs: 0, renderMs: 0 };
  private readonly successChart = new LineChart($('chart-success') as HTMLCanvasElement, { title: 'success rate', yMin: 0, yMax: 1 });
  private readonly returnChart = new LineChart($('chart-return') as HTMLCanvasElement, { title: 'return', digits: 1 });
  private readonly stageChart = new BarChart($('chart-stage') as HTMLCanvasElement, 'envs by stage now');
  private readonly maxStageChart = new BarChart($('chart-max-stage') as HTMLCanvasElement, 'episodes by stage reached');

  constructor(params: ViewParams) {
    this.params = params;
    this.actionKind = params.policy.kind === 'random' ? 'random' : 'scripted';
    this.renderer = createRenderer(this.canvas);
    this.gpuProbe = probeBrowserGpu().then((g) => {
      this.gpu = g;
      this.updateBackendNote();
      this.updatePolicyInfo();
      return g;
    });
  }

  note(key: string, kind: NoteKind, text: string | null): void {
    if (text === null) this.notes.delete(key);
    else this.notes.set(key, { kind, text });
    this.notesEl.replaceChildren(...[...this.notes.entries()].map(([k, n]) => {
      const d = document.createElement('div');
      d.className = `note ${n.kind}`;
      d.textContent = n.text;
      const close = document.createElement('button');
      close.type = 'button';
      close.className = 'dismiss';
      close.title = 'dismiss';
      close.textContent = '×';
      close.addEventListener('click', () => this.note(k, n.kind, null));
      d.append(close);
      return d;
    }));
  }

  fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.error = msg;
    this.paused = true;
    this.note('error', 'error', `error: ${msg}`);
    console.error(e);
  }

  /**
   * Builds (or rebuilds) the env and the scene for the current params; `install` runs after the old sim is
   * closed and before the new one is made (to swap the checkpoint policy while nothing steps with it).
   */
  async build(install?: () => void): Promise<void> {
    const p = this.params;
    const old = this.sim;
    this.sim = null;
    if (this.stepping) await this.stepping.catch(() => undefined);
    this.scene?.dispose();
    this.scene = null;
    if (old) await old.close();
    install?.();
    const kind = this.actionKind === 'policy' && !(this.loaded && this.loaded.checkpoint.manifest.task === p.task) ? 'scripted' : this.actionKind;
    const sim = await ViewSim.create({ task: p.task, numEnvs: p.numEnvs, seed: p.seed, policy: kind, loaded: this.loaded, shaping: p.shaping });
    this.sim = sim;
    this.scene = new EnvScene(this.renderer, sim.env.task, sim.env.numEnvs, sim.numStages);
    if (p.focus !== null && p.focus >= p.numEnvs) p.focus = null;
    this.scene.setFocus(p.focus);
    this.note('shaping', 'info', sim.shapingSupported ? null : `shaping: not wired into the env yet (no env.setShaping), so every env stays in stage 0 and the shaped return equals the sparse one.`);
    this.syncControls();
    this.updateUrl();
    this.chartKey = '';
    this.stageKey = '';
    this.scene.update(this.frame(sim));
  }

  /** What the scene draws: views of the sim's batch (valid for the sim's life) and its stage targets. */
  private frame(sim: ViewSim): SceneFrame {
    const b = sim.env.batch;
    return {
      bodyPose: b.bodyPose, fingerPos: b.fingerPos, desiredGoal: b.desiredGoal, achievedGoal: b.achievedGoal, sceneParams: b.sceneParams,
      stageTargets: sim.stageTargets, stage: b.stage,
    };
  }

  /** Rebuilds after a task or N change (install: see build); a rebuild in flight is awaited first. */
  rebuild(change: Partial<ViewParams>, install?: () => void): Promise<void> {
    Object.assign(this.params, change);
    const prev = this.rebuilding;
    const run = async () => {
      if (prev) await prev;
      try {
        await this.build(install);
      } catch (e) {
        this.fail(e);
      }
    };
    const r: Promise<void> = run().finally(() => { if (this.rebuilding === r) this.rebuilding = null; });
    this.rebuilding = r;
    return r;
  }

  /**
   * Loads a checkpoint, prepares its network on the chosen backend, then switches the task to the checkpoint's
   * (N stays) and the actions to the policy. A failure is shown in the page (an error note and the panel) and
   * leaves the running sim as it was; returns whether the checkpoint was installed.
   */
  async loadCheckpoint(origin: string, choice: PolicyChoice, load: () => Promise<LoadedCheckpoint>): Promise<boolean> {
    this.checkpoint = { ...this.checkpoint, status: 'loading', error: null, origin };
    this.note('checkpoint', 'info', `loading checkpoint ${origin} …`);
    this.updatePolicyInfo();
    let policy: LoadedPolicy;
    try {
      const ck = await load();
      policy = await preparePolicy(ck, chooseBackend(this.params.backend, await this.gpuProbe));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.checkpoint = { ...this.checkpoint, status: 'failed', error: msg, origin };
      const what = this.loaded ? 'the previously loaded policy keeps running' : `actions come from the ${this.actionKind === 'random' ? 'random' : 'scripted'} source instead`;
      this.note('checkpoint', 'error', `${msg}. Nothing was loaded; ${what}.`);
      console.warn(`view: ${msg}`);
      this.updatePolicyInfo();
      return false;
    }
    const m = policy.checkpoint.manifest;
    this.note('checkpoint', 'info', null);
    const change: Partial<ViewParams> = { policy: choice };
    if (m.task !== this.params.task) Object.assign(change, { task: m.task, focus: null });
    await this.rebuild(change, () => {
      const old = this.loaded;
      this.loaded = policy;
      this.loadedChoice = choice;
      this.actionKind = 'policy';
      old?.net.destroy();
      this.checkpoint = {
        status: 'ready', error: null, origin, task: m.task, envSteps: m.envSteps, hidden: [...m.hidden], backend: policy.net.kind, backendLabel: policy.label,
      };
      this.updateBackendNote();
      this.updatePolicyInfo();
    });
    return true;
  }

  /** The note that says where a policy network runs (or would run) and why. */
  updateBackendNote(): void {
    const gpu = this.gpu;
    if (!gpu) return;
    const physics = 'Physics runs on the CPU (Rapier WASM) either way.';
    if (this.loaded) {
      const b = this.loaded.backend;
      this.note('webgpu', b.warn ? 'warn' : 'info', `Policy network on ${this.loaded.label} — ${b.why}. ${physics}`);
    } else {
      const d = chooseBackend(this.params.backend, gpu);
      this.note('webgpu', d.warn ? 'warn' : 'info', `A checkpoint's policy network would run on ${d.kind === 'webgpu' ? 'WebGPU' : 'the CPU (WASM backend)'} — ${d.why}. ${physics}`);
    }
  }

  /** The panel's checkpoint box: what is loaded, where it runs, or why loading failed. */
  updatePolicyInfo(): void {
    const c = this.checkpoint, m = this.loaded?.checkpoint.manifest;
    const rows: [string, string, string?][] = [];
    if (c.status === 'loading') rows.push(['status', `loading ${c.origin} …`]);
    if (c.status === 'failed') rows.push(['error', c.error ?? '', 'error']);
    if (m && this.loaded) {
      const run = (m.config as { run?: { shaping?: string; numEnvs?: number } }).run;
      rows.push(['checkpoint', shortOrigin(this.loaded.checkpoint.origin)]);
      rows.push(['trained', `${m.task}${run?.shaping ? `, ${run.shaping} reward` : ''}, ${m.envSteps.toLocaleString('en-US')} env steps`]);
      rows.push(['network', `${m.obsDim} → ${m.hidden.join(' → ')} → ${m.actDim} (mean action)`]);
      rows.push(['backend', this.loaded.label, 'backend']);
    } else {
      if (c.status === 'none') rows.push(['status', 'none loaded: pick checkpoint.json and its weights-….bin of a cairn train run, or open ?policy=URL']);
      const d = this.gpu ? chooseBackend(this.params.backend, this.gpu) : null;
      rows.push(['backend', d ? `${d.kind === 'webgpu' ? 'WebGPU' : 'CPU (WASM)'} when a checkpoint is loaded` : 'checking WebGPU …', 'backend']);
    }
    $('policy-info').replaceChildren(...rows.flatMap(([k, v, cls]) => {
      const dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = k;
      dd.textContent = v;
      if (cls === 'error') dd.className = 'error';
      if (cls === 'backend') dd.id = 'policy-backend';
      return [dt, dd];
    }));
  }

  updateUrl(): void {
    history.replaceState(null, '', formatViewParams(this.params));
  }

  setFocus(i: number | null): void {
    if (!this.scene) return;
    if (i !== null && !(i >= 0 && i < this.scene.numEnvs)) return;
    this.params.focus = i;
    this.scene.setFocus(i);
    ($('focus-index') as HTMLInputElement).value = i === null ? '' : String(i);
    $('focus-info').hidden = i === null;
    this.updateUrl();
  }

  /** Waits until no frame or step is in flight, then pauses (the frame loop keeps drawing, without stepping). */
  private async pauseIdle(): Promise<void> {
    this.paused = true;
    $('pause').textContent = 'run';
    while (this.busy || this.rebuilding || this.stepping) await new Promise((r) => setTimeout(r, 5));
  }

  /** ViewHandle.restart. */
  async restart(): Promise<void> {
    await this.pauseIdle();
    this.sim?.reset();
    this.stepTimes.length = 0;
    this.updatePanel();
  }

  /** ViewHandle.advance: steps while holding the frame loop off, then draws and reads the canvas in the same task. */
  async advance(steps: number, width: number, height: number): Promise<string> {
    await this.pauseIdle();
    const sim = this.sim, scene = this.scene;
    if (!sim || !scene) throw new Error('advance: the view has no env yet');
    this.busy = true;
    try {
      for (let k = 0; k < steps; k++) await this.stepOnce();
      scene.update(this.frame(sim));
      scene.render();
      // Read the WebGL drawing buffer before the task ends (it is not preserved after compositing).
      const c = document.createElement('canvas');
      c.width = width;
      c.height = height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(this.canvas, 0, 0, width, height);
      const px = ctx.getImageData(0, 0, width, height).data;
      let bin = '';
      for (let i = 0; i < px.length; i += 0x8000) bin += String.fromCharCode(...px.subarray(i, i + 0x8000));
      return btoa(bin);
    } finally {
      this.busy = false;
      this.updatePanel();
    }
  }

  async stepOnce(): Promise<void> {
    const sim = this.sim;
    if (!sim) return;
    const run = sim.step();
    this.stepping = run;
    try {
      await run;
    } finally {
      if (this.stepping === run) this.stepping = null;
    }
    this.stepTimes.push(performance.now());
  }

  /** One animation frame: steps, instance sync, draw, counters. */
  async tick(now: number): Promise<void> {
    const sim = this.sim, scene = this.scene;
    if (!sim || !scene || this.busy || this.rebuilding) return;
    this.busy = true;
    try {
      const t0 = performance.now();
      if (!this.paused) {
        this.stepBudget += this.params.stepsPerFrame;
        while (this.stepBudget >= 1 && this.sim === sim) {
          this.stepBudget -= 1;
          await this.stepOnce();
        }
      }
      if (this.sim !== sim) return;
      const t1 = performance.now();
      scene.update(this.frame(sim));
      scene.render();
      const t2 = performance.now();
      this.timing.frames++;
      this.timing.simMs += t1 - t0;
      this.timing.renderMs += t2 - t1;
      this.frameTimes.push(now);
      while (this.frameTimes.length && this.frameTimes[0] < now - 1000) this.frameTimes.shift();
      while (this.stepTimes.length && this.stepTimes[0] < now - 1000) this.stepTimes.shift();
      if (now - this.lastPanelUpdate > 200) {
        this.lastPanelUpdate = now;
        this.updatePanel();
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.busy = false;
    }
  }

  /** Frames per second over the last second. */
  get fps(): number {
    return this.frameTimes.length;
  }

  state(): ViewState {
    const sim = this.sim, p = this.params;
    return {
      ready: sim !== null && this.scene !== null && this.timing.frames > 0,
      error: this.error,
      task: p.task,
      numEnvs: p.numEnvs,
      shaping: p.shaping,
      shapingSupported: sim?.shapingSupported ?? false,
      shapingInEffect: sim?.shapingInEffect ?? null,
      policy: sim?.policy ?? 'scripted',
      checkpoint: { ...this.checkpoint, hidden: this.checkpoint.hidden && [...this.checkpoint.hidden] },
      paused: this.paused,
      stepsPerFrame: p.stepsPerFrame,
      focus: p.focus,
      steps: sim?.steps ?? 0,
      episodes: sim?.tracker.episodes ?? 0,
      successes: sim?.tracker.successes ?? 0,
      successRate: sim?.tracker.recentSuccessRate ?? Number.NaN,
      meanReturn: sim?.tracker.recentSparseReturn ?? Number.NaN,
      fps: this.fps,
      stepsPerSec: this.stepTimes.length,
      envStepsPerSec: this.stepTimes.length * p.numEnvs,
      drawCalls: this.scene?.drawCalls ?? 0,
      stageCounts: sim ? Array.from(sim.stageCounts) : [],
      stageNames: sim ? [...sim.stageNames] : [],
      notes: [...this.notes.values()].map((n) => n.text),
      webgpu: this.gpu?.available ?? null,
      gpuReal: this.gpu?.real ?? null,
      gpuAdapter: this.gpu?.adapter ?? null,
    };
  }

  markers() {
    const sim = this.sim, scene = this.scene;
    if (!sim || !scene) throw new Error('view: not ready');
    const m = scene.markerState();
    const b = sim.env.batch;
    return {
      ...m,
      stage: Array.from(b.stage),
      points: Array.from(b.points),
      pointNames: [...sim.env.task.pointNames],
      targetNames: sim.targets ? [...sim.targets.targetNames] : [],
      stageColors: Array.from({ length: sim.numStages + 1 }, (_, k) => stageColor(k, sim.numStages)),
    };
  }

  instances(): ViewInstances {
    const sim = this.sim, scene = this.scene;
    if (!sim || !scene) throw new Error('view: not ready');
    const b = sim.env.batch, t = sim.env.task, w = b.layout.widths;
    return {
      ...scene.instances(),
      numEnvs: sim.env.numEnvs,
      origins: Array.from(scene.origins),
      tableCenter: [...scene.center],
      table: { center: [...t.scene.table.center], half: [...t.scene.table.half], topZ: t.scene.table.topZ },
      sceneObjects: t.scene.objects.map((o) => ({ name: o.name, shape: o.shape, halfExtents: [...o.halfExtents] })),
      distanceThreshold: t.distanceThreshold,
      numBodies: w.bodyPose / 7,
      bodyPose: Array.from(b.bodyPose),
      fingerPos: Array.from(b.fingerPos),
      goalDim: w.desiredGoal,
      desiredGoal: Array.from(b.desiredGoal),
      achievedGoal: Array.from(b.achievedGoal),
      numSceneParams: w.sceneParams,
      sceneParams: Array.from(b.sceneParams),
      steps: sim.steps,
      stage: Array.from(b.stage),
    };
  }

  measure(ms: number): Promise<FrameTiming> {
    const start = { ...this.timing }, t0 = performance.now();
    return new Promise((resolve) => {
      setTimeout(() => {
        const frames = this.timing.frames - start.frames, seconds = (performance.now() - t0) / 1000;
        resolve({
          frames, seconds, fps: frames / seconds, frameMs: (1000 * seconds) / Math.max(1, frames),
          simMs: (this.timing.simMs - start.simMs) / Math.max(1, frames), renderMs: (this.timing.renderMs - start.renderMs) / Math.max(1, frames),
        });
      }, ms);
    });
  }

  /** Puts the params' values into the selectors. */
  syncControls(): void {
    const p = this.params, sim = this.sim;
    fillSelect($('task') as HTMLSelectElement, listTasks(), p.task);
    fillSelect($('shaping') as HTMLSelectElement, SHAPING_MODES, p.shaping);
    const shapingSel = $('shaping') as HTMLSelectElement;
    shapingSel.disabled = !(sim?.shapingSupported ?? false);
    shapingSel.title = shapingSel.disabled ? 'the env has no shaping yet (env.setShaping)' : '';
    fillSelect($('envs') as HTMLSelectElement, ENV_COUNTS, p.numEnvs);
    fillSelect($('spf') as HTMLSelectElement, STEPS_PER_FRAME, p.stepsPerFrame);
    const policySel = $('policy') as HTMLSelectElement;
    const opts: [string, string][] = [['scripted', 'scripted'], ['random', 'random']];
    if (this.loaded) opts.push(['policy', `policy (${this.loaded.checkpoint.manifest.task} checkpoint)`]);
    policySel.replaceChildren(...opts.map(([v, label]) => new Option(label, v)));
    policySel.value = sim?.policy ?? 'scripted';
    ($('focus-index') as HTMLInputElement).max = String(p.numEnvs - 1);
    ($('focus-index') as HTMLInputElement).value = p.focus === null ? '' : String(p.focus);
    $('focus-info').hidden = p.focus === null;
    $('pause').textContent = this.paused ? 'run' : 'pause';
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
  updatePanel(): void {
    const sim = this.sim, scene = this.scene;
    if (!sim || !scene) return;
    const s = this.state();
    const t = sim.tracker;
    const rows: [string, string, boolean?][] = [
      ['frames/s', String(s.fps)],
      ['steps/s', String(s.stepsPerSec)],
      ['env-steps/s', s.envStepsPerSec.toLocaleString('en-US'), true],
      ['steps', String(s.steps)],
      ['episodes', String(s.episodes)],
      ['successes', String(s.successes)],
      ['success', fmt(s.successRate)],
      ['return', fmt(t.recentSparseReturn, 1)],
      [sim.shapingSupported ? `shaped (${sim.shaping})` : 'shaped', fmt(t.recentShapedReturn, 1)],
      ['draw calls', String(s.drawCalls)],
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
    const K = sim.numStages;
    const chartKey = `${t.episodes}|${t.successRate.values.length}|${sim.shaping}|${this.canvas.clientWidth}`;
    if (chartKey !== this.chartKey) {
      this.chartKey = chartKey;
      const x = `moving avg. of ${t.window} episodes; ${t.episodes} finished`;
      this.successChart.draw([{ label: 'success', color: '#47d16c', values: t.successRate.values }], x);
      this.returnChart.draw([
        { label: 'sparse', color: '#5aa0ff', values: t.sparseReturn.values },
        { label: sim.shapingSupported ? `shaped (${sim.shaping})` : 'shaped', color: '#ffb347', values: t.shapedReturn.values },
      ], x);
    }
    sim.collectStageStats();
    const stageKey = `${Array.from(sim.stageCounts).join(',')}|${Array.from(sim.maxStageCounts).join(',')}|${this.canvas.clientWidth}`;
    if (stageKey !== this.stageKey) {
      this.stageKey = stageKey;
      const labels = Array.from({ length: K + 1 }, (_, k) => String(k));
      const colors = Array.from({ length: K + 1 }, (_, k) => stageColor(k, K));
      this.stageChart.draw(sim.stageCounts, labels, colors, { annotate: 'count' });
      this.maxStageChart.draw(sim.maxStageCounts, labels, colors, { annotate: 'percent', empty: sim.shapingSupported ? 'no finished episode yet' : 'needs shaping in the env' });
    }
    const f = this.params.focus;
    if (f !== null && f < sim.env.numEnvs) {
      const b = sim.env.batch, G = sim.env.goalDim;
      let d2 = 0;
      for (let k = 0; k < G; k++) d2 += (b.achievedGoal[f * G + k] - b.desiredGoal[f * G + k]) ** 2;
      const k = b.stage[f];
      $('focus-info').textContent =
        `env ${f}   episode ${b.episodeIndex[f]}   step ${b.episodeStep[f]}/${sim.env.task.maxEpisodeSteps}\n` +
        `stage ${k}${k < K ? ` (${sim.stageNames[k]})` : K ? ' (done)' : ''}   ‖achieved − goal‖ ${fmt(Math.sqrt(d2), 3)} m   reward ${b.reward[f]}`;
    }
  }

  /** Wires the panel's controls, the canvas picking and the keys. */
  bind(): void {
    const sel = (id: string) => $(id) as HTMLSelectElement;
    sel('task').addEventListener('change', () => {
      const task = sel('task').value;
      if (this.actionKind === 'policy' && this.loaded && this.loaded.checkpoint.manifest.task !== task) {
        // The network only fits the task it was trained on.
        this.actionKind = 'scripted';
        this.params.policy = { kind: 'scripted' };
        this.note('policy', 'info', `The checkpoint policy runs on ${this.loaded.checkpoint.manifest.task} only; ${task} runs the scripted controller (pick "policy" to go back).`);
      }
      void this.rebuild({ task, focus: null });
    });
    sel('envs').addEventListener('change', () => void this.rebuild({ numEnvs: Number(sel('envs').value) }));
    sel('shaping').addEventListener('change', () => {
      const mode = sel('shaping').value as ShapingMode;
      this.params.shaping = mode;
      this.sim?.setShaping(mode);
      this.updateUrl();
    });
    sel('policy').addEventListener('change', () => {
      const v = sel('policy').value;
      this.note('policy', 'info', null);
      if (v === 'policy' && this.loaded) {
        const loaded = this.loaded;
        this.actionKind = 'policy';
        this.params.policy = this.loadedChoice ?? { kind: 'file', name: loaded.checkpoint.origin };
        if (loaded.checkpoint.manifest.task !== this.params.task) void this.rebuild({ task: loaded.checkpoint.manifest.task, focus: null });
        else this.sim?.setPolicy('policy', loaded);
      } else {
        const kind = v === 'random' ? 'random' : 'scripted';
        this.actionKind = kind;
        this.params.policy = { kind };
        this.sim?.setPolicy(kind);
      }
      this.updateUrl();
    });
    const files = $('checkpoint-files') as HTMLInputElement;
    files.addEventListener('change', () => {
      const picked = [...(files.files ?? [])];
      files.value = '';
      if (!picked.length) return;
      const names = picked.map((f) => f.name).join(' + ');
      void this.loadCheckpoint(names, { kind: 'file', name: names }, () => readCheckpointFiles(picked));
    });
    sel('spf').addEventListener('change', () => {
      this.params.stepsPerFrame = Number(sel('spf').value);
      this.stepBudget = 0;
      this.updateUrl();
    });
    const togglePause = () => {
      this.paused = !this.paused;
      $('pause').textContent = this.paused ? 'run' : 'pause';
    };
    const singleStep = async () => {
      if (!this.paused) togglePause();
      if (this.busy || this.rebuilding) return;
      this.busy = true;
      try {
        await this.stepOnce();
      } catch (e) {
        this.fail(e);
      } finally {
        this.busy = false;
      }
      this.updatePanel();
    };
    $('pause').addEventListener('click', togglePause);
    $('step').addEventListener('click', () => void singleStep());
    $('reset').addEventListener('click', () => {
      if (this.busy || this.rebuilding) return;
      this.sim?.reset();
      this.stepTimes.length = 0;
      this.updatePanel();
    });
    const focusInput = $('focus-index') as HTMLInputElement;
    focusInput.addEventListener('change', () => this.setFocus(focusInput.value === '' ? null : Number(focusInput.value)));
    $('focus-all').addEventListener('click', () => this.setFocus(null));
    let down: { x: number; y: number } | null = null;
    this.canvas.addEventListener('pointerdown', (e) => { down = { x: e.clientX, y: e.clientY }; });
    this.canvas.addEventListener('pointerup', (e) => {
      if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4 || !this.scene) return;
      const r = this.canvas.getBoundingClientRect();
      const i = this.scene.pick(e.clientX - r.left, e.clientY - r.top);
      if (i !== null) this.setFocus(i);
      down = null;
    });
    window.addEventListener('keydown', (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
      if (e.key === 'Escape') this.setFocus(null);
      else if (e.key === ' ') { e.preventDefault(); togglePause(); }
      else if (e.key === '.') void singleStep();
    });
  }
}

/** The last two path segments of a checkpoint's URL (run directory and file), or the picked files' names. */
function shortOrigin(origin: string): string {
  try {
    const parts = new URL(origin).pathname.split('/').filter(Boolean);
    return parts.slice(-2).join('/');
  } catch {
    return origin;
  }
}

async function main(): Promise<void> {
  const { params, warnings } = parseViewParams(location.search);
  if (params.replay !== undefined) return runReplay(params.replay, warnings);
  const app = new ViewApp(params);
  warnings.forEach((w, k) => app.note(`param-${k}`, 'warn', w));
  window.cairnView = {
    state: () => app.state(), markers: () => app.markers(), measure: (ms) => app.measure(ms), instances: () => app.instances(),
    restart: () => app.restart(), advance: (n, w, h) => app.advance(n, w, h),
  };
  window.addEventListener('error', (e) => app.fail(e.error ?? e.message));
  window.addEventListener('unhandledrejection', (e) => app.fail(e.reason));
  app.bind();
  app.updatePolicyInfo();
  let built = false;
  const choice = params.policy;
  if (choice.kind === 'checkpoint') {
    const askedTask = new URLSearchParams(location.search).get('task') !== null ? params.task : null;
    built = await app.loadCheckpoint(choice.url, choice, () => fetchCheckpoint(choice.url, location.href));
    if (built && askedTask !== null && askedTask !== app.params.task) {
      app.note('param-task', 'info', `task=${askedTask.toLowerCase()}: the checkpoint was trained on ${app.params.task}, so the view shows ${app.params.task}.`);
    }
  }
  if (!built) {
    try {
      await app.build();
    } catch (e) {
      app.fail(e);
      return;
    }
  }
  const loop = (now: number) => {
    void app.tick(now);
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}

void main();
