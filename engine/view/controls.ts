/** Wires the panel's controls, the canvas's click-to-follow and the keys (Esc, Space, '.') to the view. */
import type { ShapingMode } from '../shaping/spec.ts';
import type { ViewApp } from './app.ts';
import { $ } from './dom.ts';
import { readCheckpointFiles } from './policy.ts';

/** Adds the page's event listeners, for the life of the page. */
export function bindControls(app: ViewApp): void {
  const sel = (id: string) => $(id) as HTMLSelectElement;
  const { checkpoints, loop } = app;
  sel('task').addEventListener('change', () => {
    const task = sel('task').value, loaded = checkpoints.loaded;
    if (app.actionKind === 'policy' && loaded && loaded.checkpoint.manifest.task !== task) {
      // The network only fits the task it was trained on.
      app.actionKind = 'scripted';
      app.params.policy = { kind: 'scripted' };
      app.notes.set('policy', 'info', `The checkpoint policy runs on ${loaded.checkpoint.manifest.task} only; ${task} runs the scripted controller (pick "policy" to go back).`);
    }
    void app.rebuild({ task, focus: null });
  });
  sel('envs').addEventListener('change', () => void app.rebuild({ numEnvs: Number(sel('envs').value) }));
  sel('shaping').addEventListener('change', () => {
    const mode = sel('shaping').value as ShapingMode;
    app.params.shaping = mode;
    app.sim?.setShaping(mode);
    app.updateUrl();
  });
  sel('policy').addEventListener('change', () => {
    const v = sel('policy').value, loaded = checkpoints.loaded;
    app.notes.set('policy', 'info', null);
    if (v === 'policy' && loaded) {
      app.actionKind = 'policy';
      app.params.policy = checkpoints.loadedChoice ?? { kind: 'file', name: loaded.checkpoint.origin };
      if (loaded.checkpoint.manifest.task !== app.params.task) void app.rebuild({ task: loaded.checkpoint.manifest.task, focus: null });
      else app.sim?.setPolicy('policy', loaded);
    } else {
      const kind = v === 'random' ? 'random' : 'scripted';
      app.actionKind = kind;
      app.params.policy = { kind };
      app.sim?.setPolicy(kind);
    }
    app.updateUrl();
  });
  const files = $('checkpoint-files') as HTMLInputElement;
  files.addEventListener('change', () => {
    const picked = [...(files.files ?? [])];
    files.value = '';
    if (!picked.length) return;
    const names = picked.map((f) => f.name).join(' + ');
    void app.loadCheckpoint(names, { kind: 'file', name: names }, () => readCheckpointFiles(picked));
  });
  sel('spf').addEventListener('change', () => {
    app.params.stepsPerFrame = Number(sel('spf').value);
    loop.clearStepBudget();
    app.updateUrl();
  });
  const togglePause = () => loop.setPaused(!loop.paused);
  $('pause').addEventListener('click', togglePause);
  $('step').addEventListener('click', () => void loop.singleStep());
  $('reset').addEventListener('click', () => loop.reset());
  const focusInput = $('focus-index') as HTMLInputElement;
  focusInput.addEventListener('change', () => app.setFocus(focusInput.value === '' ? null : Number(focusInput.value)));
  $('focus-all').addEventListener('click', () => app.setFocus(null));
  let down: { x: number; y: number } | null = null;
  app.canvas.addEventListener('pointerdown', (e) => { down = { x: e.clientX, y: e.clientY }; });
  app.canvas.addEventListener('pointerup', (e) => {
    if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4 || !app.scene) return;
    const r = app.canvas.getBoundingClientRect();
    const i = app.scene.pick(e.clientX - r.left, e.clientY - r.top);
    if (i !== null) app.setFocus(i);
    down = null;
  });
  window.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === 'Escape') app.setFocus(null);
    else if (e.key === ' ') { e.preventDefault(); togglePause(); }
    else if (e.key === '.') void loop.singleStep();
  });
}
