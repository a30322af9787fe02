/**
 * The view's training worker: a Web Worker that runs one TrainSession (engine/train/session.ts, the same PPO,
 * shaping, normalization and checkpoint code as `cairn train`) off the page's main thread, and speaks
 * engine/view/train-protocol.ts with the page. Between iterations it answers pause, resume, stop and checkpoint
 * requests, and every `snapshotSeconds` it sends a checkpoint so the page can show the current policy acting.
 */
import { decodeCheckpoint } from '../train/checkpoint.ts';
import { TrainSession } from '../train/session.ts';
import type { CheckpointFiles, CheckpointReason, TrainEvent, TrainRequest } from './train-protocol.ts';

interface WorkerScope {
  postMessage(message: TrainEvent, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<TrainRequest>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let session: TrainSession | null = null;
let paused = false;
let stopping = false;
let wantCheckpoint = false;
/** Resolves a pause: set while the loop waits for 'resume' or 'stop'. */
let wake: (() => void) | null = null;

function post(e: TrainEvent, transfer: Transferable[] = []): void {
  scope.postMessage(e, transfer);
}

/** The session's checkpoint now, as files. */
async function encodeFiles(s: TrainSession, run: Record<string, unknown>): Promise<CheckpointFiles> {
  const { manifest, bytes } = await s.encodeCheckpoint({ run, trainedIn: 'browser' });
  return { manifestText: JSON.stringify(manifest, null, 2) + '\n', weightsName: manifest.weights.file, weights: bytes };
}

/** Sends checkpoint files (a copy of the bytes: the worker keeps its own). */
function sendFiles(f: CheckpointFiles, reason: CheckpointReason, iteration: number, envSteps: number): void {
  const files = { ...f, weights: f.weights.slice() };
  post({ type: 'checkpoint', reason, iteration, envSteps, files }, [files.weights.buffer]);
}

async function run(req: Extract<TrainRequest, { type: 'start' }>): Promise<void> {
  const s = await TrainSession.open(req.options);
  session = s;
  const { trainer } = s;
  // What a checkpoint records as the run: the session's options and resolved PPO config (cairn train records the same fields).
  const runInfo = { ...req.options, ppo: s.cfg };
  let exact = true;
  try {
    if (req.from) {
      const from = req.from;
      const { manifest, arrays } = await decodeCheckpoint(from.manifestText, async () => from.weights, 'checkpoint');
      if (manifest.task !== s.env.task.name) throw new Error(`checkpoint: trained on ${manifest.task}, this run trains ${s.env.task.name}`);
      if (manifest.obsDim !== s.inputDim || manifest.actDim !== s.env.actDim || manifest.hidden.join(',') !== req.options.hidden.join(',')) {
        throw new Error(`checkpoint: its ${manifest.obsDim}-${manifest.hidden.join('-')}-${manifest.actDim} network does not fit this run's ${s.inputDim}-${req.options.hidden.join('-')}-${s.env.actDim}`);
      }
      // A finished run's last checkpoint (or one from cairn train's end) may lie between episode boundaries: it
      // continues all the same, its episodes restarting at the next boundary.
      exact = s.isAligned(manifest);
      s.restore(manifest, arrays, true);
    } else await s.initParams();
    post({ type: 'started', backend: s.backend.kind, reason: s.reason, iterations: trainer.totalIterations, startIteration: trainer.iteration, envSteps: trainer.envSteps, stageNames: [...s.env.stageNames], exact });
    // Every checkpoint the worker sends is of an iteration where all envs start new episodes (as cairn train's are),
    // so that a run continued from any of them restarts its episodes exactly: the newest such one is kept.
    let aligned = { files: await encodeFiles(s, runInfo), iteration: trainer.iteration, envSteps: trainer.envSteps };
    let lastSnapshot = performance.now(), snapshotIteration = -1;
    const answerRequest = () => {
      if (!wantCheckpoint) return;
      wantCheckpoint = false;
      sendFiles(aligned.files, 'requested', aligned.iteration, aligned.envSteps);
    };
    while (trainer.iteration < trainer.totalIterations && !stopping) {
      // A macrotask turn between iterations, so that pause, stop and checkpoint requests are read (an iteration's
      // awaits are microtasks only).
      await new Promise((resolve) => setTimeout(resolve, 0));
      answerRequest();
      if (stopping) break;
      const m = await trainer.runIteration();
      post({ type: 'iteration', metrics: m, paused });
      if (trainer.iteration % s.aligned === 0) aligned = { files: await encodeFiles(s, runInfo), iteration: trainer.iteration, envSteps: trainer.envSteps };
      answerRequest();
      if (aligned.iteration !== snapshotIteration && performance.now() - lastSnapshot > req.snapshotSeconds * 1000) {
        sendFiles(aligned.files, 'snapshot', aligned.iteration, aligned.envSteps);
        snapshotIteration = aligned.iteration;
        lastSnapshot = performance.now();
      }
      if (paused && !stopping) {
        post({ type: 'paused' });
        // Paused between iterations: only a checkpoint request, resume or stop wakes the loop.
        while (paused && !stopping) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          answerRequest();
        }
        if (!stopping) post({ type: 'resumed' });
      }
    }
    // A finished run's checkpoint is its last iteration; a stopped one keeps its newest aligned checkpoint.
    const stopped = trainer.iteration < trainer.totalIterations;
    if (!stopped) aligned = { files: await encodeFiles(s, runInfo), iteration: trainer.iteration, envSteps: trainer.envSteps };
    wantCheckpoint = false; // the final checkpoint answers a request still open
    sendFiles(aligned.files, 'final', aligned.iteration, aligned.envSteps);
    const evaluation = stopped ? null : await s.evaluate();
    post({ type: 'finished', stopped, eval: evaluation });
  } finally {
    session = null;
    await s.close();
  }
}

scope.onmessage = (e) => {
  const req = e.data;
  if (req.type === 'start') {
    if (session) {
      post({ type: 'error', message: 'train: a run is already in progress in this worker' });
      return;
    }
    paused = false;
    stopping = false;
    run(req).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
  } else if (req.type === 'pause') paused = true;
  else if (req.type === 'resume') {
    paused = false;
    wake?.();
  } else if (req.type === 'stop') {
    stopping = true;
    wake?.();
  } else if (req.type === 'checkpoint') {
    wantCheckpoint = true;
    if (paused) wake?.();
  }
};
