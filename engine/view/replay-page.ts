/**
 * The page side of `index.html?replay=URL`: hides the live view's controls, loads the recording (engine/view/replay.ts),
 * draws the current frame of one episode with engine/view/scene.ts (one env, camera on it), and wires the episode
 * select, the timeline, pause/play and step buttons and the keys (Space plays or pauses, ←/→ step one frame). Playing
 * advances one frame per recorded controlDt seconds and stops at the episode's last frame. No physics runs.
 *
 * A load or decode error is shown in the page. For tests the page exposes `window.__cairnReplay` (see ReplayHandle).
 */
import { PALM_OFFSET_Z } from '../physics/fetch-scene.ts';
import { ReplayPlayer, fetchRecording, type ReplayFrameInfo } from './replay.ts';
import { createRenderer, EnvScene } from './scene.ts';

/** What window.__cairnReplay.state() reports. */
export interface ReplayState extends Partial<ReplayFrameInfo> {
  /** True once the recording is loaded and its first frame drawn. */
  ready: boolean;
  /** The load or decode error, or null. */
  error: string | null;
  url: string;
  task: string | null;
  /** Frames of the current episode (steps + 1). */
  numFrames: number;
  playing: boolean;
  /** Frames drawn since the page opened. */
  renders: number;
  /** Texts of the notes over the scene. */
  notes: string[];
}

/** What window.__cairnReplay.drawn() returns: the current frame as drawn (env-local metres) and its recorded row. */
export interface ReplayDrawn {
  /** [K, 3] each object's drawn position. */
  objects: number[];
  /** [3] grip site as drawn (the palm's centre less its offset). */
  grip: number[];
  /** [G] goal markers as drawn. */
  goals: number[];
  /** The row's bodyPose [B, 7] and desiredGoal [G]. */
  bodyPose: number[];
  desiredGoal: number[];
}

/** The replay test hook on window. */
export interface ReplayHandle {
  state(): ReplayState;
  drawn(): ReplayDrawn;
}

declare global {
  interface Window {
    __cairnReplay?: ReplayHandle;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/** The replay page's panel, player, scene and loop. */
class ReplayPage {
  private player: ReplayPlayer | null = null;
  private scene: EnvScene | null = null;
  private error: string | null = null;
  private playing = false;
  /** Frames owed to playback (fractions carry over between animation frames). */
  private owed = 0;
  private lastNow = 0;
  private renders = 0;
  private readonly notes = new Map<string, { kind: string; text: string }>();
  private readonly canvas = document.getElementById('scene') as HTMLCanvasElement;
  private readonly notesEl = document.getElementById('notes')!;
  private readonly overlay = document.getElementById('focus-info')!;
  private readonly episodeSel = el('select', { id: 'replay-episode', title: 'episode' });
  private readonly timeline = el('input', { id: 'replay-timeline', type: 'range', min: '0', max: '0', step: '1', value: '0', title: 'frame' });
  private readonly playBtn = el('button', { id: 'replay-play', type: 'button', textContent: 'play' });
  private readonly backBtn = el('button', { id: 'replay-back', type: 'button', textContent: '◀ step', title: 'one frame back (←)' });
  private readonly fwdBtn = el('button', { id: 'replay-forward', type: 'button', textContent: 'step ▶', title: 'one frame forward (→)' });
  private readonly hud = el('dl', { id: 'replay-hud' });
  private readonly info = el('dl', { id: 'replay-info' });

  constructor(readonly url: string) {}

  /** Swaps the live view's panel for the replay controls. */
  mountPanel(): void {
    const panel = document.getElementById('panel')!;
    for (const c of Array.from(panel.children) as HTMLElement[]) if (c.tagName !== 'H1') c.style.display = 'none';
    const sub = panel.querySelector('h1 span');
    if (sub) sub.textContent = 'replay';
    const style = el('style', { textContent: [
      '#replay-hud, #replay-info { display: grid; grid-template-columns: 74px 1fr; gap: 2px 8px; margin: 0; font-variant-numeric: tabular-nums; }',
      '#replay-hud dt, #replay-info dt { color: var(--dim); } #replay-hud dd, #replay-info dd { margin: 0; overflow-wrap: anywhere; }',
      '#replay-info dd.error { color: #ff7b7b; } #replay-timeline { width: 100%; padding: 0; } #replay-episode { width: 100%; }',
    ].join('\n') });
    panel.append(style, el('div', { className: 'box', id: 'replay-box' },
      el('h2', {}, 'RECORDING'), this.info, this.episodeSel, this.timeline,
      el('div', { className: 'row' }, this.backBtn, this.playBtn, this.fwdBtn), this.hud,
      el('div', { className: 'hint' }, 'Space plays or pauses, ← / → step one frame; drag to orbit, wheel to zoom.'),
    ));
    this.setInfo([['file', this.url], ['status', 'loading …']]);
    for (const c of [this.episodeSel, this.timeline, this.playBtn, this.backBtn, this.fwdBtn]) c.disabled = true;
  }

  note(key: string, kind: 'info' | 'warn' | 'error', text: string | null): void {
    if (text === null) this.notes.delete(key);
    else this.notes.set(key, { kind, text });
    this.notesEl.replaceChildren(...[...this.notes.values()].map((n) => el('div', { className: `note ${n.kind}`, textContent: n.text })));
  }

  fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    if (this.error === msg) return;
    this.error = msg;
    this.playing = false;
    this.note('error', 'error', `error: ${msg}`);
    this.setInfo([['file', this.url], ['error', msg, 'error']]);
    console.warn(`replay: ${msg}`);
  }

  private setInfo(rows: [string, string, string?][]): void {
    this.info.replaceChildren(...rows.flatMap(([k, v, cls]) => [el('dt', {}, k), el('dd', { className: cls ?? '' }, v)]));
  }

  /** Loads the recording, builds the one-env scene and starts the loop; a failure is shown in the page. */
  async start(): Promise<void> {
    let player: ReplayPlayer;
    try {
      player = new ReplayPlayer(await fetchRecording(this.url, location.href));
    } catch (e) {
      this.fail(e);
      return;
    }
    const m = player.recording.manifest;
    this.player = player;
    this.scene = new EnvScene(createRenderer(this.canvas), player.task, 1, player.numStages);
    this.scene.setFocus(0);
    const ok = m.episodes.filter((e) => e.success).length;
    this.setInfo([['file', this.url], ['task', m.task], ['episodes', `${m.episodes.length} (${ok} successful), from ${m.numEnvs} envs`], ['control dt', `${m.controlDt} s`]]);
    this.episodeSel.replaceChildren(...m.episodes.map((e, k) => new Option(`episode ${k + 1} of ${m.episodes.length}: env ${e.env}, ${e.steps} steps, ${e.success ? 'success' : 'failure'}`, String(k))));
    for (const c of [this.episodeSel, this.timeline, this.playBtn, this.backBtn, this.fwdBtn]) c.disabled = false;
    this.bind();
    this.show();
    const loop = (now: number) => {
      this.tick(now);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  private bind(): void {
    const p = this.player!;
    this.episodeSel.addEventListener('change', () => { this.pause(); p.setEpisode(Number(this.episodeSel.value)); this.show(); });
    this.timeline.addEventListener('input', () => { this.pause(); p.setFrame(Number(this.timeline.value)); this.show(); });
    this.playBtn.addEventListener('click', () => this.togglePlay());
    this.backBtn.addEventListener('click', () => this.step(-1));
    this.fwdBtn.addEventListener('click', () => this.step(1));
    window.addEventListener('keydown', (e) => {
      const t = e.target;
      // Controls keep their own keys: a focused button clicks on Space, the timeline and the select take arrows.
      if (t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && e.key !== ' ') || (t instanceof HTMLButtonElement && (e.key === ' ' || e.key === 'Enter'))) return;
      if (e.key === ' ') { e.preventDefault(); this.togglePlay(); }
      else if (e.key === 'ArrowLeft') { e.preventDefault(); this.step(-1); }
      else if (e.key === 'ArrowRight') { e.preventDefault(); this.step(1); }
    });
  }

  private pause(): void {
    this.playing = false;
    this.playBtn.textContent = 'play';
  }

  private togglePlay(): void {
    const p = this.player;
    if (!p) return;
    if (this.playing) return this.pause();
    if (p.frame >= p.numFrames - 1) p.setFrame(0);
    this.playing = true;
    this.owed = 0;
    this.playBtn.textContent = 'pause';
    this.show();
  }

  private step(d: number): void {
    const p = this.player;
    if (!p) return;
    this.pause();
    p.setFrame(p.frame + d);
    this.show();
  }

  /** Puts the current frame into the scene, the timeline and the HUD. */
  private show(): void {
    const p = this.player!, s = p.info();
    this.scene!.update(p.sceneFrame);
    this.timeline.max = String(p.numFrames - 1);
    this.timeline.value = String(p.frame);
    if (this.episodeSel.value !== String(p.episode)) this.episodeSel.value = String(p.episode);
    const rows: [string, string][] = [
      ['episode', `${s.episode + 1} of ${s.numEpisodes} (env ${s.env})`],
      ['step', `${s.frame} / ${s.steps}`],
      ['time', `${fmt(s.time)} s`],
      ['reward', `${fmt(s.reward, 0)} (shaped ${fmt(s.shapedReward, 3)})`],
      ['stage', `${s.stage} ${s.stageName}`],
      ['success', s.success ? 'yes' : 'no'],
    ];
    this.hud.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { id: `replay-hud-${k}` }, v)]));
    this.overlay.hidden = false;
    this.overlay.textContent = `episode ${s.episode + 1} of ${s.numEpisodes}   step ${s.frame} / ${s.steps}   reward ${fmt(s.reward, 0)}   stage ${s.stageName}   success ${s.success ? 'yes' : 'no'}`;
  }

  /** One animation frame: playback advances by the time elapsed over controlDt, then the scene is drawn. */
  private tick(now: number): void {
    const p = this.player, scene = this.scene;
    if (!p || !scene) return;
    try {
      const dt = this.lastNow ? Math.min(0.25, (now - this.lastNow) / 1000) : 0;
      this.lastNow = now;
      if (this.playing) {
        this.owed += dt / p.controlDt;
        const n = Math.floor(this.owed);
        if (n > 0) {
          this.owed -= n;
          p.setFrame(p.frame + n);
          if (p.frame >= p.numFrames - 1) this.pause();
          this.show();
        }
      }
      scene.render(now);
      this.renders++;
    } catch (e) {
      this.fail(e);
    }
  }

  state(): ReplayState {
    const p = this.player;
    return {
      ...(p ? p.info() : {}),
      ready: p !== null && this.renders > 0, error: this.error, url: this.url, task: p?.task.name ?? null,
      numFrames: p?.numFrames ?? 0, playing: this.playing, renders: this.renders, notes: [...this.notes.values()].map((n) => n.text),
    };
  }

  drawn(): ReplayDrawn {
    const p = this.player, scene = this.scene;
    if (!p || !scene) throw new Error('replay: not ready');
    const inst = scene.instances(), o = scene.origins, c = scene.center;
    const local = (m: number[], at: number) => [m[at + 12] - o[0] + c[0], m[at + 13] - o[1] + c[1], m[at + 14]];
    const grip = local(inst.palms, 0);
    grip[2] -= PALM_OFFSET_Z;
    const G = p.task.goalDim;
    return {
      objects: inst.objects.flatMap((x) => local(x.matrices, 0)),
      grip,
      goals: Array.from({ length: G / 3 }, (_, j) => local(inst.goals, 16 * j)).flat(),
      bodyPose: Array.from(p.batch.bodyPose),
      desiredGoal: Array.from(p.batch.desiredGoal),
    };
  }
}

/** Runs the replay page for the recording at `url` (relative to the page); `warnings` are shown as notes. */
export async function runReplay(url: string, warnings: readonly string[] = []): Promise<void> {
  const page = new ReplayPage(url);
  window.__cairnReplay = { state: () => page.state(), drawn: () => page.drawn() };
  window.addEventListener('error', (e) => page.fail(e.error ?? e.message));
  window.addEventListener('unhandledrejection', (e) => page.fail(e.reason));
  page.mountPanel();
  warnings.forEach((w, k) => page.note(`param-${k}`, 'warn', w));
  await page.start();
}
