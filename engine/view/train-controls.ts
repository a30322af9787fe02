/** The Train box's inputs and buttons: steps, training envs, hidden widths and thread counts into the trainer's params; start, pause/resume, stop, download, continue. */
import type { ViewApp } from './app.ts';
import { $ } from './dom.ts';
import { canShareMemory } from '../threads/host.ts';
import { checkTrainThreads, MAX_TRAIN_ENVS } from './train-params.ts';
import type { ViewTrainer } from './view-trainer.ts';
import { parseHidden } from '../train/session.ts';

/** Fills the inputs from the trainer's params and binds the buttons; a bad input is a note, not a run. */
export function bindTrainControls(app: ViewApp, trainer: ViewTrainer): void {
  const input = (id: string) => $(id) as HTMLInputElement;
  const p = trainer.params;
  input('train-steps').value = String(p.steps);
  input('train-envs').value = String(p.envs);
  input('train-hidden').value = p.hidden.join(',');
  input('train-threads').value = String(p.threads);
  input('train-workers').value = String(p.workers);
  const readInputs = (): boolean => {
    const steps = Number(input('train-steps').value), envs = Number(input('train-envs').value);
    let hidden: number[];
    try {
      hidden = parseHidden(input('train-hidden').value.trim());
    } catch {
      app.notes.set('train', 'warn', `hidden '${input('train-hidden').value}': expected comma-separated positive widths like 64,64`);
      return false;
    }
    if (!(Number.isFinite(steps) && steps >= 1 && steps <= 1e10)) {
      app.notes.set('train', 'warn', `env steps '${input('train-steps').value}': expected a number in [1, 1e10], e.g. 2e6`);
      return false;
    }
    if (!(Number.isInteger(envs) && envs >= 1 && envs <= MAX_TRAIN_ENVS)) {
      app.notes.set('train', 'warn', `train envs '${input('train-envs').value}': expected an integer in [1, ${MAX_TRAIN_ENVS}]`);
      return false;
    }
    const counts: number[] = [];
    for (const [id, name] of [['train-threads', 'threads'], ['train-workers', 'physics workers']]) {
      const raw = input(id).value.trim();
      const checked = checkTrainThreads(`${name} '${raw}'`, raw === '' ? Number.NaN : Number(raw), canShareMemory());
      if (checked.error) {
        app.notes.set('train', 'warn', checked.error);
        return false;
      }
      app.notes.set(`train-${id}`, 'warn', checked.note ?? null);
      input(id).value = String(checked.value);
      counts.push(checked.value);
    }
    Object.assign(p, { steps: Math.round(steps), envs, hidden, threads: counts[0], workers: counts[1] });
    return true;
  };
  $('train-start').addEventListener('click', () => {
    if (readInputs()) trainer.start();
  });
  $('train-pause').addEventListener('click', () => (trainer.get().status === 'paused' ? trainer.resume() : trainer.pause()));
  $('train-stop').addEventListener('click', () => trainer.stop());
  $('train-continue').addEventListener('click', () => {
    if (!readInputs()) return;
    trainer.continueRun().catch((e: unknown) => app.notes.set('train', 'error', e instanceof Error ? e.message : String(e)));
  });
  $('train-download').addEventListener('click', () => {
    trainer.download().catch((e: unknown) => app.notes.set('train', 'error', `download: ${e instanceof Error ? e.message : String(e)}`));
  });
  trainer.render();
}
