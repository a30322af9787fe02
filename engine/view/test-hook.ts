/** The live view's hook for tests and scripts, `window.cairnView` (ViewHandle): its state, drawn instances and markers, timing, restart and frame capture. */
import type { ShapingMode } from '../shaping/spec.ts';
import type { ViewApp } from './app.ts';
import type { CheckpointState } from './checkpoint-loader.ts';
import type { FrameTiming } from './frame-loop.ts';
import type { SceneInstances } from './scene.ts';
import { stageColor } from './scene-style.ts';
import type { ActionKind } from './sim.ts';
import type { TrainState } from './view-trainer.ts';

/** What the page reports through window.cairnView.state(). */
export interface ViewState {
  /** True once the first env is built and a frame was drawn. */
  ready: boolean;
  /** A fatal error message, or null. */
  error: string | null;
  task: string;
  numEnvs: number;
  shaping: ShapingMode;
  /** Whether the env takes a shaping mode: true once an env is built (every env has setShaping). */
  shapingSupported: boolean;
  /** The mode the env itself reports (null before an env is built). */
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
  /** Envs and scenes built so far (a policy swapped in place builds none). */
  builds: number;
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

/** What window.cairnView.markers() returns: the stage markers as drawn plus the batch's points and stages, env-local metres. */
export interface ViewMarkers {
  /** [N, 3] marker positions and [N, 3] colours (linear RGB). */
  positions: number[];
  colors: number[];
  /** [N] batch.stage, and [N, P, 3] batch.points named by pointNames. */
  stage: number[];
  points: number[];
  pointNames: string[];
  /** [K] name of each stage's target point, and [K + 1] CSS colour of each stage. */
  targetNames: string[];
  stageColors: string[];
}

/** The test hook on window. */
export interface ViewHandle {
  state(): ViewState;
  /** Stage markers as drawn plus the batch's points and stages, env-local metres. */
  markers(): ViewMarkers;
  /** Measures frames over `ms` milliseconds of running. */
  measure(ms: number): Promise<FrameTiming>;
  /** The scene's instances as drawn, with the batch's state block they are drawn from. */
  instances(): ViewInstances;
  /** Pauses and starts every env's episode again from the page's seed (for recording from a known start). */
  restart(): Promise<void>;
  /** Pauses, takes `steps` control steps, draws, and returns the frame scaled to width × height as base64 RGBA bytes. */
  advance(steps: number, width: number, height: number): Promise<string>;
  /** Training in the page: its state (engine/view/view-trainer.ts). */
  train(): TrainState;
  /** The run's current checkpoint as files (the weights base64), what the Train box's download saves. */
  trainCheckpoint(): Promise<{ manifestText: string; weightsName: string; weightsBase64: string }>;
  /** [iterations] the PPO loss of each iteration of the page's run so far (its metrics), to find where two runs part. */
  trainLosses(): number[];
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

/** ViewHandle.state. */
function viewState(app: ViewApp): ViewState {
  const sim = app.sim, p = app.params, gpu = app.checkpoints.gpu, loop = app.loop;
  return {
    ready: sim !== null && app.scene !== null && loop.timing.frames > 0,
    error: app.error,
    task: p.task,
    numEnvs: p.numEnvs,
    shaping: p.shaping,
    shapingSupported: sim !== null,
    shapingInEffect: sim?.shaping ?? null,
    policy: sim?.policy ?? 'scripted',
    checkpoint: app.checkpoints.state(),
    paused: loop.paused,
    stepsPerFrame: p.stepsPerFrame,
    focus: p.focus,
    steps: sim?.steps ?? 0,
    episodes: sim?.tracker.episodes ?? 0,
    successes: sim?.tracker.successes ?? 0,
    successRate: sim?.tracker.recentSuccessRate ?? Number.NaN,
    meanReturn: sim?.tracker.recentSparseReturn ?? Number.NaN,
    fps: loop.fps,
    stepsPerSec: loop.stepsPerSec,
    envStepsPerSec: loop.stepsPerSec * p.numEnvs,
    drawCalls: app.scene?.drawCalls ?? 0,
    builds: app.builds,
    stageCounts: sim ? Array.from(sim.stageCounts) : [],
    stageNames: sim ? [...sim.stageNames] : [],
    notes: app.notes.texts(),
    webgpu: gpu?.available ?? null,
    gpuReal: gpu?.real ?? null,
    gpuAdapter: gpu?.adapter ?? null,
  };
}

/** The sim and scene of a built view; throws before the first build. */
function built(app: ViewApp) {
  const sim = app.sim, scene = app.scene;
  if (!sim || !scene) throw new Error('view: not ready');
  return { sim, scene };
}

/** ViewHandle.markers. */
function viewMarkers(app: ViewApp): ViewMarkers {
  const { sim, scene } = built(app);
  const b = sim.env.batch;
  return {
    ...scene.markerState(),
    stage: Array.from(b.stage),
    points: Array.from(b.points),
    pointNames: [...sim.env.task.pointNames],
    targetNames: [...sim.targets.targetNames],
    stageColors: Array.from({ length: sim.numStages + 1 }, (_, k) => stageColor(k, sim.numStages)),
  };
}

/** ViewHandle.instances. */
function viewInstances(app: ViewApp): ViewInstances {
  const { sim, scene } = built(app);
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

/** The canvas's drawing scaled to width × height, as base64 RGBA bytes; call it in the task that drew. */
function canvasPixels(canvas: HTMLCanvasElement, width: number, height: number): string {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const ctx = c.getContext('2d')!;
  ctx.drawImage(canvas, 0, 0, width, height);
  return base64(ctx.getImageData(0, 0, width, height).data);
}

/** Bytes as base64 (in chunks: spreading a large array into fromCharCode overflows the stack). */
function base64(bytes: Uint8Array | Uint8ClampedArray): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Puts the view's ViewHandle on window.cairnView. */
export function installTestHook(app: ViewApp): void {
  window.cairnView = {
    state: () => viewState(app),
    markers: () => viewMarkers(app),
    measure: (ms) => app.loop.measure(ms),
    instances: () => viewInstances(app),
    restart: () => app.loop.restart(),
    advance: (n, w, h) => app.loop.advance(n, () => canvasPixels(app.canvas, w, h)),
    train: () => app.trainer!.get(),
    trainLosses: () => app.trainer!.iterationMetrics().map((m) => m.loss.loss),
    trainCheckpoint: async () => {
      const f = await app.trainer!.currentCheckpoint();
      return { manifestText: f.manifestText, weightsName: f.weightsName, weightsBase64: base64(f.weights) };
    },
  };
}
