/**
 * The live view's state and lifecycle: the URL parameters, the sim and scene it builds and rebuilds on a task, N
 * or checkpoint change, and the page's parts (notes, checkpoint loader, frame loop, panel) that share them.
 */
import type { WebGLRenderer } from 'three';
import { CheckpointLoader } from './checkpoint-loader.ts';
import { $ } from './dom.ts';
import { FrameLoop } from './frame-loop.ts';
import { Notes } from './notes.ts';
import { Panel } from './panel.ts';
import { formatViewParams, type PolicyChoice, type ViewParams } from './params.ts';
import type { LoadedCheckpoint } from './policy.ts';
import { checkpointSubgoals } from '../train/checkpoint.ts';
import { createRenderer, EnvScene } from './scene.ts';
import { ViewSim, type ActionKind } from './sim.ts';
import type { ViewTrainer } from './view-trainer.ts';

export class ViewApp {
  /** The page's parameters, kept in the URL (updateUrl). */
  readonly params: ViewParams;
  /** The env and its scene; null before the first build and while a rebuild swaps them. */
  sim: ViewSim | null = null;
  scene: EnvScene | null = null;
  readonly canvas = $('scene') as HTMLCanvasElement;
  readonly notes = new Notes($('notes'));
  readonly checkpoints: CheckpointLoader;
  readonly loop = new FrameLoop(this);
  readonly panel = new Panel(this);
  /** Envs and scenes built so far. */
  builds = 0;
  /** The rebuild in flight, or null. */
  rebuilding: Promise<void> | null = null;
  /** A fatal error message, or null. */
  error: string | null = null;
  /** Training in the page (the Train box); set by the entry once the page is up. */
  trainer: ViewTrainer | null = null;
  /** Where actions come from (the sim's source after the next build). */
  actionKind: ActionKind;
  private readonly renderer: WebGLRenderer;

  constructor(params: ViewParams) {
    this.params = params;
    this.actionKind = params.policy.kind === 'random' ? 'random' : 'scripted';
    this.renderer = createRenderer(this.canvas);
    this.checkpoints = new CheckpointLoader(this.notes, params.backend);
  }

  /** Shows a fatal error and pauses. */
  fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.error = msg;
    this.loop.paused = true;
    this.notes.set('error', 'error', `error: ${msg}`);
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
    if (this.loop.stepping) await this.loop.stepping.catch(() => undefined);
    this.scene?.dispose();
    this.scene = null;
    if (old) await old.close();
    install?.();
    const loaded = this.checkpoints.loaded;
    const kind = this.actionKind === 'policy' && !(loaded && loaded.checkpoint.manifest.task === p.task) ? 'scripted' : this.actionKind;
    // A checkpoint's policy acts on the env it was trained on: its own subgoal spec.
    const subgoals = kind === 'policy' && loaded ? checkpointSubgoals(loaded.checkpoint.manifest) : undefined;
    const sim = await ViewSim.create({ task: p.task, numEnvs: p.numEnvs, seed: p.seed, policy: kind, loaded, shaping: p.shaping, subgoals });
    this.sim = sim;
    this.builds++;
    this.scene = new EnvScene(this.renderer, sim.env.task, sim.env.numEnvs, sim.numStages);
    if (p.focus !== null && p.focus >= p.numEnvs) p.focus = null;
    this.scene.setFocus(p.focus);
    this.refresh(sim);
  }

  /** Brings the panel's controls and plots, the URL and the scene up to date with sim. */
  private refresh(sim: ViewSim): void {
    this.panel.syncControls();
    this.updateUrl();
    this.panel.redrawPlots();
    this.scene?.update(sim.frame());
  }

  /** Rebuilds after a task or N change (install: see build); a rebuild in flight is awaited first. */
  rebuild(change: Partial<ViewParams>, install?: () => void): Promise<void> {
    Object.assign(this.params, change);
    return this.exclusive(() => this.build(install));
  }

  /**
   * Runs `work` after the rebuild in flight, as the one in flight (`rebuilding`: frames hold off meanwhile); a
   * failure is shown in the page, not thrown.
   */
  private exclusive(work: () => Promise<void>): Promise<void> {
    const prev = this.rebuilding;
    const run = async () => {
      if (prev) await prev;
      try {
        await work();
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
    const policy = await this.checkpoints.prepare(origin, load, this.actionKind);
    if (!policy) return false;
    const m = policy.checkpoint.manifest;
    const change: Partial<ViewParams> = { policy: choice };
    if (m.task !== this.params.task) Object.assign(change, { task: m.task, focus: null });
    const install = () => {
      this.actionKind = 'policy';
      this.checkpoints.install(policy, choice, origin);
    };
    const sim = this.sim;
    if (sim && !this.rebuilding && m.task === sim.env.task.name && JSON.stringify(checkpointSubgoals(m) ?? null) === sim.subgoalsKey) {
      // Same task and spec (a training run's snapshots): swap the network in between steps and restart the episodes,
      // without building a new env and scene (a software rasterizer drops frames while a scene compiles its shaders).
      Object.assign(this.params, change);
      await this.exclusive(async () => {
        if (this.loop.stepping) await this.loop.stepping.catch(() => undefined);
        install();
        sim.setPolicy('policy', this.checkpoints.loaded);
        sim.reset();
        this.refresh(sim);
      });
    } else await this.rebuild(change, install);
    this.trainer?.render();
    return true;
  }

  /** Puts the params into the page's URL. */
  updateUrl(): void {
    history.replaceState(null, '', formatViewParams(this.params));
  }

  /** Follows env i with the camera, or every env (null); an index outside the envs is ignored. */
  setFocus(i: number | null): void {
    if (!this.scene) return;
    if (i !== null && !(i >= 0 && i < this.scene.numEnvs)) return;
    this.params.focus = i;
    this.scene.setFocus(i);
    ($('focus-index') as HTMLInputElement).value = i === null ? '' : String(i);
    $('focus-info').hidden = i === null;
    this.updateUrl();
  }
}
