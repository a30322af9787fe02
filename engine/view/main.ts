/**
 * The browser entry of `npm run view` (index.html): reads the URL parameters (engine/view/params.ts), then either
 * plays a recording (`?replay=URL`: engine/view/replay-page.ts; no env, no policy, no physics) or runs the real
 * engine in the tab and draws it with three.js, with a plain-DOM panel of controls, counters and plots.
 *
 * The live view's parts: app.ts (state, build and rebuild), frame-loop.ts (steps and draws per animation
 * frame), checkpoint-loader.ts (a `cairn train` checkpoint from `?policy=URL` or the panel's file picker, its
 * network on WebGPU with a real GPU and on the WASM CPU backend otherwise), panel.ts (read-outs), controls.ts
 * (events), notes.ts, and test-hook.ts, which exposes `window.cairnView` (ViewHandle) for tests and scripts.
 */
import { ViewApp } from './app.ts';
import { bindControls } from './controls.ts';
import { parseViewParams } from './params.ts';
import { fetchCheckpoint } from './policy.ts';
import { runReplay } from './replay-page.ts';
import { installTestHook } from './test-hook.ts';
import { bindTrainControls } from './train-controls.ts';
import { parseTrainParams, TRAIN_VIEW_ENVS, urlNames } from './train-params.ts';
import { ViewTrainer } from './view-trainer.ts';

export type { CheckpointState } from './checkpoint-loader.ts';
export type { FrameTiming } from './frame-loop.ts';
export type { ViewHandle, ViewInstances, ViewMarkers, ViewState } from './test-hook.ts';

/** Starts the page: the replay player, or the live view with its first env (from the URL's checkpoint when it names one). */
async function main(): Promise<void> {
  const { params, warnings } = parseViewParams(location.search);
  if (params.replay !== undefined) return runReplay(params.replay, warnings);
  const train = parseTrainParams(location.search);
  // A run started from the URL shapes with PBRS unless the URL names a mode, and shows TRAIN_VIEW_ENVS envs unless it names a number.
  if (train.params.autostart && !urlNames(location.search, 'shaping')) params.shaping = 'pbrs';
  if (train.params.autostart && !urlNames(location.search, 'envs')) params.numEnvs = TRAIN_VIEW_ENVS;
  const app = new ViewApp(params);
  [...warnings, ...train.warnings].forEach((w, k) => app.notes.set(`param-${k}`, 'warn', w));
  const trainer = new ViewTrainer(app, train.params);
  app.trainer = trainer;
  installTestHook(app);
  window.addEventListener('error', (e) => app.fail(e.error ?? e.message));
  window.addEventListener('unhandledrejection', (e) => app.fail(e.reason));
  bindControls(app);
  bindTrainControls(app, trainer);
  app.checkpoints.updatePolicyInfo();
  let built = false;
  const choice = params.policy;
  if (choice.kind === 'checkpoint') {
    const askedTask = urlNames(location.search, 'task') ? params.task : null;
    built = await app.loadCheckpoint(choice.url, choice, () => fetchCheckpoint(choice.url, location.href));
    if (built && askedTask !== null && askedTask !== app.params.task) {
      app.notes.set('param-task', 'info', `task=${askedTask.toLowerCase()}: the checkpoint was trained on ${app.params.task}, so the view shows ${app.params.task}.`);
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
  app.loop.start();
  if (train.params.autostart) trainer.start();
  else await trainer.offerSaved();
}

void main();
