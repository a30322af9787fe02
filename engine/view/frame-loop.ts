/**
 * The page's frame loop: each animation frame takes `stepsPerFrame` control steps (fractions skip frames) then
 * draws, keeps the frame and step counters, and pauses, single-steps, restarts or advances on request.
 */
import type { ViewApp } from './app.ts';
import { $ } from './dom.ts';

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

/**
 * Least time between panel updates (counters and plots), ms. Each redraw of a plot canvas is rasterized and
 * composited in software without a GPU; at 500 ms rather than 200 the view drew 35 rather than 32 frames/s while a
 * Push run trained in the page, and the run took 16% more env steps a second (2 cores).
 */
export const PANEL_MS = 500;

export class FrameLoop {
  /** Whether frames draw without stepping. */
  paused = false;
  /** The step in flight (awaited before the sim it steps is closed). */
  stepping: Promise<void> | null = null;
  /** Frames drawn, and the time spent stepping and drawing them, ms summed. */
  readonly timing = { frames: 0, simMs: 0, renderMs: 0 };
  /** Whether a frame, a single step or an advance runs (frames are skipped meanwhile). */
  private busy = false;
  /** Steps owed to the next frames (fractional steps per frame accumulate here). */
  private stepBudget = 0;
  /** Times (ms) of the frames and of the control steps of the last second. */
  private readonly frameTimes: number[] = [];
  private readonly stepTimes: number[] = [];
  private lastPanelUpdate = 0;

  constructor(private readonly app: ViewApp) {}

  /** Frames per second over the last second. */
  get fps(): number {
    return this.frameTimes.length;
  }

  /** Control steps per second over the last second. */
  get stepsPerSec(): number {
    return this.stepTimes.length;
  }

  /** Whether a frame, step, advance or rebuild is in flight. */
  private get occupied(): boolean {
    return this.busy || this.app.rebuilding !== null;
  }

  /** Runs a frame on every animation frame from now on. */
  start(): void {
    const loop = (now: number) => {
      void this.tick(now);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  /** Pauses or runs, with the pause button's text to match. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    $('pause').textContent = paused ? 'run' : 'pause';
  }

  /** Forgets the fraction of a step carried over (after a steps-per-frame change). */
  clearStepBudget(): void {
    this.stepBudget = 0;
  }

  /** One control step of the sim, timed for steps/s. */
  private async stepOnce(): Promise<void> {
    const sim = this.app.sim;
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

  /** One animation frame: steps, instance sync, draw, counters; `now` in ms. */
  private async tick(now: number): Promise<void> {
    const app = this.app, sim = app.sim, scene = app.scene;
    if (!sim || !scene || this.occupied) return;
    this.busy = true;
    try {
      const t0 = performance.now();
      if (!this.paused) {
        this.stepBudget += app.params.stepsPerFrame;
        while (this.stepBudget >= 1 && app.sim === sim) {
          this.stepBudget -= 1;
          await this.stepOnce();
        }
      }
      if (app.sim !== sim) return;
      const t1 = performance.now();
      scene.update(sim.frame());
      scene.render();
      const t2 = performance.now();
      this.timing.frames++;
      this.timing.simMs += t1 - t0;
      this.timing.renderMs += t2 - t1;
      this.frameTimes.push(now);
      while (this.frameTimes.length && this.frameTimes[0] < now - 1000) this.frameTimes.shift();
      while (this.stepTimes.length && this.stepTimes[0] < now - 1000) this.stepTimes.shift();
      if (now - this.lastPanelUpdate > PANEL_MS) {
        this.lastPanelUpdate = now;
        app.panel.update();
      }
    } catch (e) {
      app.fail(e);
    } finally {
      this.busy = false;
    }
  }

  /** Pauses and takes one control step (the step button and '.'), unless something else is in flight. */
  async singleStep(): Promise<void> {
    if (!this.paused) this.setPaused(true);
    if (this.occupied) return;
    this.busy = true;
    try {
      await this.stepOnce();
    } catch (e) {
      this.app.fail(e);
    } finally {
      this.busy = false;
    }
    this.app.panel.update();
  }

  /** Starts every env's episode again from the page's seed now (the reset button), unless something is in flight. */
  reset(): void {
    if (this.occupied) return;
    this.resetSim();
  }

  /** Pauses, waits until nothing is in flight, then starts every env's episode again from the page's seed. */
  async restart(): Promise<void> {
    await this.pauseIdle();
    this.resetSim();
  }

  private resetSim(): void {
    this.app.sim?.reset();
    this.stepTimes.length = 0;
    this.app.panel.update();
  }

  /** Waits until no frame or step is in flight, then pauses (frames keep drawing, without stepping). */
  private async pauseIdle(): Promise<void> {
    this.setPaused(true);
    while (this.occupied || this.stepping) await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * Pauses, takes `steps` control steps while holding frames off, draws, and returns `read()` called in the same
   * task as the draw (a WebGL drawing buffer is not kept after compositing).
   */
  async advance<T>(steps: number, read: () => T): Promise<T> {
    await this.pauseIdle();
    const sim = this.app.sim, scene = this.app.scene;
    if (!sim || !scene) throw new Error('advance: the view has no env yet');
    this.busy = true;
    try {
      for (let k = 0; k < steps; k++) await this.stepOnce();
      scene.update(sim.frame());
      scene.render();
      return read();
    } finally {
      this.busy = false;
      this.app.panel.update();
    }
  }

  /** Measures frames over `ms` milliseconds of running. */
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
}
