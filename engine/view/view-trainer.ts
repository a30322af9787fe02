/**
 * Training in the page: the Train box of the panel drives one run in a Web Worker (engine/view/train-worker.ts),
 * shows its progress line and learning curves per iteration, puts each snapshot checkpoint into the scene (an
 * evaluation batch of the view's envs acting with the current policy, refreshed every few seconds), and downloads
 * the run as checkpoint.json + weights-<hash>.bin, the files `cairn eval` reads.
 */
import type { ViewApp } from './app.ts';
import { LineChart } from './chart.ts';
import { PANEL_MS } from './frame-loop.ts';
import { $, fmt } from './dom.ts';
import type { LoadedCheckpoint } from './policy.ts';
import type { CheckpointFiles, TrainEvent, TrainRequest } from './train-protocol.ts';
import type { TrainParams } from './train-params.ts';
import { decodeCheckpoint, encodeCheckpoint, MANIFEST_FILE, type CheckpointManifest } from '../train/checkpoint.ts';
import { clearRun, loadRun, saveRun, type SavedRun } from './run-store.ts';
import type { EvalResult } from '../train/evaluate.ts';
import type { IterationMetrics } from '../train/ppo.ts';
import { DEFAULT_TRAIN_WEIGHT, type TrainSessionOptions } from '../train/session.ts';

/** Where a run is: idle (none yet), starting, running, paused, stopping, finished (ran out or stopped), failed. */
export type TrainStatus = 'idle' | 'starting' | 'running' | 'paused' | 'stopping' | 'finished' | 'failed';

/** What the page reports about training (window.cairnView.train()). */
export interface TrainState {
  status: TrainStatus;
  error: string | null;
  backend: string | null;
  iteration: number;
  iterations: number;
  envSteps: number;
  /** Env-steps/s of the last iteration. */
  sps: number;
  /** Success rate of the last iteration that finished episodes (NaN before one). */
  successRate: number;
  /** The final evaluation (mean action) once the run ran to its end. */
  eval: EvalResult | null;
  /** Iteration of the newest checkpoint the page holds, or null. */
  checkpointIteration: number | null;
  /** Iterations whose metrics arrived. */
  history: number;
}

/** Seconds between the snapshots that refresh the policy acting in the scene. */
export const SNAPSHOT_SECONDS = 8;

export class ViewTrainer {
  private worker: Worker | null = null;
  private state: TrainState = ViewTrainer.idleState();
  private readonly metrics: IterationMetrics[] = [];
  private stageNames: string[] = [];
  private lastFiles: CheckpointFiles | null = null;
  /** Downloads waiting for the worker's next checkpoint: resolved by any checkpoint, rejected by an error or a new run. */
  private waiting: { resolve: (f: CheckpointFiles) => void; reject: (e: Error) => void }[] = [];
  private startedAt = 0;
  private renderTimer: ReturnType<typeof setTimeout> | null = null;
  /** The options of the run in progress (what a saved run continues with). */
  private runOptions: TrainSessionOptions | null = null;
  /** The run saved in this browser (IndexedDB), or null. */
  private saved: SavedRun | null = null;
  private readonly successChart = new LineChart($('chart-train-success') as HTMLCanvasElement, { title: 'training: success, stages reached', yMin: 0, yMax: 1 });
  private readonly returnChart = new LineChart($('chart-train-return') as HTMLCanvasElement, { title: 'training: return', digits: 1 });
  /** A snapshot waiting to be shown (only the newest is kept while the scene rebuilds). */
  private showing: Promise<void> | null = null;
  private nextShow: CheckpointFiles | null = null;

  constructor(private readonly app: ViewApp, readonly params: TrainParams) {}

  private static idleState(): TrainState {
    return { status: 'idle', error: null, backend: null, iteration: 0, iterations: 0, envSteps: 0, sps: 0, successRate: Number.NaN, eval: null, checkpointIteration: null, history: 0 };
  }

  /** A copy of the training state. */
  get(): TrainState {
    return { ...this.state };
  }

  /** The metrics of the run's iterations that arrived so far, in order. */
  iterationMetrics(): readonly IterationMetrics[] {
    return this.metrics;
  }

  /** The newest checkpoint the page holds (snapshot, requested or final), or null. */
  get checkpoint(): CheckpointFiles | null {
    return this.lastFiles;
  }

  /** The session options of a run with the view's task, shaping, seed and backend and the panel's steps, envs, widths and thread counts. */
  options(): TrainSessionOptions {
    const p = this.app.params, t = this.params;
    return {
      task: p.task, shaping: p.shaping, shapingWeight: DEFAULT_TRAIN_WEIGHT, numEnvs: t.envs, numWorkers: t.workers, totalSteps: t.steps, seed: p.seed,
      backend: p.backend, threads: t.threads, hidden: [...t.hidden], ppo: {}, evalEpisodes: 500,
    };
  }

  /** Starts a run with `options` (default: the view's and the Train box's), continuing `from` when given; a run already in progress is refused. */
  start(from?: CheckpointFiles, options: TrainSessionOptions = this.options()): void {
    if (this.state.status === 'starting' || this.state.status === 'running' || this.state.status === 'paused' || this.state.status === 'stopping') {
      throw new Error('train: a run is already in progress; stop it first');
    }
    this.worker?.terminate();
    this.rejectWaiting('a new run started');
    const worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
    this.worker = worker;
    worker.onmessage = (e: MessageEvent<TrainEvent>) => this.onEvent(e.data);
    worker.onerror = (e) => this.fail(e.message || 'the training worker failed to load');
    this.metrics.length = 0;
    this.lastFiles = null;
    this.state = { ...ViewTrainer.idleState(), status: 'starting' };
    this.startedAt = performance.now();
    this.runOptions = options;
    this.send({ type: 'start', options, from, snapshotSeconds: SNAPSHOT_SECONDS });
    this.render();
  }

  pause(): void {
    if (this.state.status === 'running') this.send({ type: 'pause' });
  }

  resume(): void {
    if (this.state.status === 'paused' || this.state.status === 'running') this.send({ type: 'resume' });
  }

  stop(): void {
    if (this.state.status !== 'running' && this.state.status !== 'paused') return;
    this.state.status = 'stopping';
    this.send({ type: 'stop' });
    this.render();
  }

  /** Looks for a run saved in this browser and offers to continue it (a note and the Train box's continue button). */
  async offerSaved(): Promise<void> {
    try {
      this.saved = await loadRun();
    } catch (e) {
      this.app.notes.set('train-store', 'warn', `no saved run could be read (${e instanceof Error ? e.message : String(e)})`);
      return;
    }
    const r = this.saved;
    if (r) this.app.notes.set('train-saved', 'info', `A training run is saved in this browser: ${r.options.task}, ${r.options.shaping}, ${r.envSteps.toLocaleString('en-US')} of ${r.options.totalSteps.toLocaleString('en-US')} env steps (${r.savedAt}). "continue" in the Train box goes on from there.`);
    this.render();
  }

  /** Forgets the run saved in this browser. */
  async forgetSaved(): Promise<void> {
    this.saved = null;
    await clearRun();
    this.app.notes.set('train-saved', 'info', null);
    this.render();
  }

  /**
   * Continues training: from the checkpoint loaded in the view when there is one (its recorded run settings), else
   * from the run saved in this browser. A run that already reached its steps trains on to the Train box's steps.
   */
  async continueRun(): Promise<void> {
    const loaded = this.app.checkpoints.loaded;
    let files: CheckpointFiles, options: TrainSessionOptions, m: CheckpointManifest;
    if (loaded) {
      m = loaded.checkpoint.manifest;
      const { manifest, bytes } = await encodeCheckpoint(m, loaded.checkpoint.arrays);
      files = { manifestText: JSON.stringify(manifest), weightsName: manifest.weights.file, weights: bytes };
      options = this.optionsOf(m);
    } else if (this.saved) {
      files = this.saved.files;
      // Thread counts are this page's (the Train box's), not those of the page that saved the run.
      options = { ...this.saved.options, threads: this.params.threads, numWorkers: this.params.workers };
      m = JSON.parse(files.manifestText) as CheckpointManifest;
    } else throw new Error('train: nothing to continue; load a checkpoint (or train a run in this browser) first');
    if (m.envSteps >= options.totalSteps) {
      if (this.params.steps <= m.envSteps) throw new Error(`train: that run already took its ${m.envSteps.toLocaleString('en-US')} env steps; set env steps above that to train on`);
      options = { ...options, totalSteps: this.params.steps };
    }
    this.start(files, options);
  }

  /** The session options a checkpoint records (cairn train's and the page's runs record them in config.run), with the view's backend. */
  private optionsOf(m: CheckpointManifest): TrainSessionOptions {
    const run = ((m.config as { run?: Partial<TrainSessionOptions> & { subgoals?: unknown; domainRandomization?: unknown } }).run ?? {});
    const base = this.options();
    return {
      ...base, task: m.task, seed: m.seed, hidden: [...m.hidden], shaping: run.shaping ?? base.shaping, shapingWeight: run.shapingWeight ?? base.shapingWeight,
      numEnvs: run.numEnvs ?? base.numEnvs, totalSteps: run.totalSteps ?? base.totalSteps, ppo: run.ppo ?? {}, subgoals: run.subgoals ?? undefined,
      domainRandomization: (run.domainRandomization ?? undefined) as TrainSessionOptions['domainRandomization'], terminateOnInfraction: run.terminateOnInfraction,
    };
  }

  /** The run's checkpoint: the final one once the run ended, otherwise the worker's newest episode-aligned one. */
  async currentCheckpoint(): Promise<CheckpointFiles> {
    const live = this.state.status === 'running' || this.state.status === 'paused';
    if (!live) {
      if (!this.lastFiles) throw new Error('train: no run to download yet; start one');
      return this.lastFiles;
    }
    return new Promise<CheckpointFiles>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.send({ type: 'checkpoint' });
    });
  }

  /** Saves the current checkpoint as checkpoint.json and its weights file (two downloads). */
  async download(): Promise<void> {
    const f = await this.currentCheckpoint();
    saveFile(MANIFEST_FILE, new Blob([f.manifestText], { type: 'application/json' }));
    saveFile(f.weightsName, new Blob([f.weights as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  }

  private send(req: TrainRequest): void {
    this.worker?.postMessage(req);
  }

  private rejectWaiting(why: string): void {
    for (const w of this.waiting.splice(0)) w.reject(new Error(`train: no checkpoint: ${why}`));
  }

  private fail(message: string): void {
    this.rejectWaiting(message);
    this.state = { ...this.state, status: 'failed', error: message };
    this.app.notes.set('train', 'error', `training: ${message}`);
    console.error(`train: ${message}`);
    this.render();
  }

  private onEvent(e: TrainEvent): void {
    const s = this.state;
    if (e.type === 'started') {
      Object.assign(s, { status: 'running', backend: e.backend, iterations: e.iterations, iteration: e.startIteration, envSteps: e.envSteps });
      this.stageNames = e.stageNames;
      this.app.notes.set('train-exact', 'info', e.exact ? null : `continued from iteration ${e.startIteration}, between episode boundaries: the episodes restart at the next one, so this run does not repeat bit for bit what an uninterrupted run would`);
      this.app.notes.set('train', 'info', `training ${this.app.params.task} (${this.app.params.shaping}) in a worker on ${e.backend === 'wasm' ? 'the CPU (WASM)' : 'WebGPU'}, physics on ${this.runOptions?.numWorkers ?? 1} thread(s): ${e.reason}`);
    } else if (e.type === 'iteration') {
      const m = e.metrics;
      this.metrics.push(m);
      Object.assign(s, { iteration: m.iteration, envSteps: m.envSteps, sps: m.sps, history: this.metrics.length });
      if (m.episodes > 0) s.successRate = m.successRate;
    } else if (e.type === 'checkpoint') {
      this.lastFiles = e.files;
      s.checkpointIteration = e.iteration;
      if (this.runOptions) {
        const run: SavedRun = { savedAt: new Date().toISOString(), options: this.runOptions, files: e.files, iteration: e.iteration, envSteps: e.envSteps };
        this.saved = run;
        saveRun(run).catch((err: unknown) => this.app.notes.set('train-store', 'warn', `the run could not be saved in this browser (${err instanceof Error ? err.message : String(err)}); a reload loses it`));
      }
      for (const w of this.waiting.splice(0)) w.resolve(e.files);
      this.show(e.files);
    } else if (e.type === 'paused' && s.status !== 'stopping') s.status = 'paused';
    else if (e.type === 'resumed' && s.status !== 'stopping') s.status = 'running';
    else if (e.type === 'finished') {
      s.status = 'finished';
      s.eval = e.eval;
      this.app.notes.set('train', 'info', e.eval ? `training finished: ${fmt(100 * e.eval.successRate, 1)}% success over ${e.eval.episodes} evaluation episodes (mean action)` : `training stopped at iteration ${s.iteration}; download keeps its checkpoint`);
    } else if (e.type === 'error') this.fail(e.message);
    this.renderSoon();
  }

  /** Renders within PANEL_MS, as the panel (its curves are software-rasterized canvases too; one render for any number of events in between: a fast run sends hundreds of iterations a second). */
  private renderSoon(): void {
    if (this.renderTimer !== null) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = null;
      this.render();
    }, PANEL_MS);
  }

  /** Puts a checkpoint's policy into the scene: the view's envs restart acting with it (the newest wins while one loads). */
  private show(files: CheckpointFiles): void {
    this.nextShow = files;
    if (this.showing) return;
    const next = async () => {
      while (this.nextShow) {
        const f = this.nextShow;
        this.nextShow = null;
        const { manifest, arrays } = await decodeCheckpoint(f.manifestText, async () => f.weights, 'training checkpoint');
        const origin = `training run, iteration ${manifest.iteration}`;
        const ck: LoadedCheckpoint = { manifest, arrays, origin };
        await this.app.loadCheckpoint(origin, { kind: 'file', name: 'training run' }, async () => ck);
      }
    };
    this.showing = next().catch((e: unknown) => this.fail(e instanceof Error ? e.message : String(e))).finally(() => { this.showing = null; });
  }

  /** The progress line, the buttons' states and the curves. */
  render(): void {
    const s = this.state;
    const busy = s.status === 'starting' || s.status === 'running' || s.status === 'paused' || s.status === 'stopping';
    ($('train-start') as HTMLButtonElement).disabled = busy;
    ($('train-pause') as HTMLButtonElement).disabled = !(s.status === 'running' || s.status === 'paused');
    $('train-pause').textContent = s.status === 'paused' ? 'resume' : 'pause';
    ($('train-stop') as HTMLButtonElement).disabled = !(s.status === 'running' || s.status === 'paused');
    ($('train-download') as HTMLButtonElement).disabled = !(s.status === 'running' || s.status === 'paused' || this.lastFiles);
    ($('train-continue') as HTMLButtonElement).disabled = busy || !(this.saved || this.app.checkpoints.loaded);
    $('train-progress').textContent = this.progressLine();
    const withEpisodes = this.metrics.filter((m) => m.episodes > 0);
    const K = this.stageNames.length;
    this.successChart.draw([
      { label: 'success', color: '#7dd87d', values: withEpisodes.map((m) => m.successRate) },
      ...this.stageNames.slice(0, K - 1).map((n, k) => ({ label: n, color: ['#5aa0ff', '#ffb347', '#c792ea', '#ff8fa3'][k % 4], values: withEpisodes.map((m) => m.stageReached[k]) })),
    ]);
    this.returnChart.draw([
      { label: 'sparse', color: '#5aa0ff', values: withEpisodes.map((m) => m.sparseReturn) },
      { label: 'shaped', color: '#ffb347', values: withEpisodes.map((m) => m.shapedReturn) },
    ]);
  }

  private progressLine(): string {
    const s = this.state;
    if (s.status === 'idle') return 'no run yet';
    if (s.status === 'starting') return 'starting the worker …';
    if (s.status === 'failed') return `failed: ${s.error}`;
    const pct = s.iterations ? (100 * s.iteration) / s.iterations : 0;
    const elapsed = (performance.now() - this.startedAt) / 1000;
    const perIter = s.history ? elapsed / s.history : Number.NaN;
    const left = Number.isFinite(perIter) ? Math.max(0, (s.iterations - s.iteration) * perIter) : Number.NaN;
    const head = `${s.status} · ${fmt(pct, 0)}% · ${s.envSteps.toLocaleString('en-US')} steps · ${Math.round(s.sps).toLocaleString('en-US')} env-steps/s · success ${fmt(100 * s.successRate, 1)}%`;
    if (s.status === 'finished') return `${head}${s.eval ? ` · eval ${fmt(100 * s.eval.successRate, 1)}%` : ''}`;
    return `${head} · ${Number.isFinite(left) ? `${Math.round(left)} s left` : '…'}`;
  }
}

/** Saves a blob as a download named `name`. */
function saveFile(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
