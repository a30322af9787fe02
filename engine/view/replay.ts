/**
 * The view's replay player: a cairn recording (engine/record/format.ts) played back without physics, one episode at a
 * time, each frame unpacked from its recorded state row into a one-env batch so that engine/view/scene.ts draws it as
 * it draws a live env. Frame 0 of episode e is its start row, frame t + 1 the row step t reached; achievedGoal and the
 * named points (for the stage marker) are worked out from the row by the task's own writers, as the env does.
 */
import { createBatch, type Batch } from '../batch.ts';
import { numSceneParams } from '../domain-randomization.ts';
import { numBodies } from '../physics/scene-def.ts';
import { decodeRecording, episodeViews, stepFields, stepWidth, type Recording } from '../record/format.ts';
import { checkSameLayout, stateLayout, unpackRow } from '../state.ts';
import { getTask } from '../../tasks/registry.ts';
import { goalReached, type TaskDef } from '../../tasks/task.ts';
import type { SceneFrame } from './scene.ts';
import { validateSubgoalSpec, type SubgoalSpec } from '../shaping/spec.ts';
import { SubgoalTargets } from './subgoal-targets.ts';

/** What the HUD shows of the current frame. */
export interface ReplayFrameInfo {
  /** Episode index e in [0, numEpisodes), the env it ran in, and its recorded outcome. */
  episode: number;
  numEpisodes: number;
  env: number;
  episodeSuccess: boolean;
  episodeReturn: number;
  /** Frame t in [0, steps]: control steps taken so far; steps is the episode's length. */
  frame: number;
  steps: number;
  /** Seconds since the episode's start (frame × controlDt). */
  time: number;
  /** Sparse and shaped reward of the step that led to this frame (NaN at frame 0). */
  reward: number;
  shapedReward: number;
  /** Subgoal stage k of the row (k = numStages: every stage done) and its name ('done' then). */
  stage: number;
  stageName: string;
  /** Success of this frame's state: the recorded flag, or at frame 0 the goal test on the start row. */
  success: boolean;
}

/** Fetches a recording from a URL (relative to `base`) and decodes it; throws naming the URL and what is wrong. */
export async function fetchRecording(url: string, base: string): Promise<Recording> {
  const href = new URL(url, base).href;
  let res: Response;
  try {
    res = await fetch(href);
  } catch (e) {
    throw new Error(`replay: cannot load ${href} (${(e as Error).message})`);
  }
  if (!res.ok) throw new Error(`replay: cannot load ${href}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  const bytes = new Uint8Array(await res.arrayBuffer());
  try {
    return await decodeRecording(bytes);
  } catch (e) {
    throw new Error(`${(e as Error).message} [${href}]`);
  }
}

export class ReplayPlayer {
  readonly recording: Recording;
  readonly task: TaskDef;
  /** Stage count K and names, as recorded. */
  readonly numStages: number;
  readonly stageNames: readonly string[];
  /** Seconds per control step, as recorded. */
  readonly controlDt: number;
  /** One env's state block: the current frame's row unpacked, with its achieved goal and points. */
  readonly batch: Batch;
  /** [1, 3] the stage marker's target (the desired goal's first part when the task's spec does not name the recorded stages). */
  readonly stageTargets = new Float32Array(3);
  /** What scene.ts draws: views of `batch` and `stageTargets`, valid for the player's life. */
  readonly sceneFrame: SceneFrame;
  private readonly targets: SubgoalTargets | null;
  private episodeIndex = 0;
  private frameIndex = 0;

  /** Wraps a decoded recording; throws when its task is unknown or its rows are not laid out as that task's. */
  constructor(recording: Recording) {
    const m = recording.manifest;
    this.recording = recording;
    this.task = getTask(m.task);
    const t = this.task, scene = t.scene;
    this.batch = createBatch({
      numEnvs: 1, obsDim: t.obsDim, actDim: t.actDim, goalDim: t.goalDim, numPoints: t.pointNames.length, numBodies: numBodies(scene), numSceneParams: numSceneParams(scene),
    });
    checkSameLayout(m.stateLayout, stateLayout(t.name, this.batch.layout), `replay of ${m.task}`);
    if (m.episodes.length === 0) throw new Error('replay: the recording holds no episodes');
    this.stageNames = Array.isArray(m.stageNames) ? [...m.stageNames] : [];
    this.numStages = this.stageNames.length;
    this.controlDt = m.controlDt > 0 ? m.controlDt : 0.04;
    // The recording's own spec (a custom one included); older recordings name stages only, matched to the task's.
    const spec = m.subgoals === undefined ? t.subgoals : recordedSpec(m.subgoals, t.pointNames);
    const sameStages = spec && spec.stages.length === this.numStages && spec.stages.every((s, k) => s.name === this.stageNames[k]);
    this.targets = sameStages ? new SubgoalTargets(spec, t.pointNames) : null;
    const b = this.batch;
    this.sceneFrame = {
      bodyPose: b.bodyPose, fingerPos: b.fingerPos, desiredGoal: b.desiredGoal, achievedGoal: b.achievedGoal, sceneParams: b.sceneParams,
      stageTargets: this.stageTargets, stage: b.stage,
    };
    this.load();
  }

  get numEpisodes(): number {
    return this.recording.manifest.episodes.length;
  }

  get episode(): number {
    return this.episodeIndex;
  }

  get frame(): number {
    return this.frameIndex;
  }

  /** Frames of the current episode: its steps + 1. */
  get numFrames(): number {
    return this.recording.manifest.episodes[this.episodeIndex].steps + 1;
  }

  /** Shows frame 0 of episode e (clamped to the recording's episodes). */
  setEpisode(e: number): void {
    this.episodeIndex = Math.max(0, Math.min(this.numEpisodes - 1, Math.trunc(e) || 0));
    this.frameIndex = 0;
    this.load();
  }

  /** Shows frame t of the current episode (clamped to [0, steps]). */
  setFrame(t: number): void {
    this.frameIndex = Math.max(0, Math.min(this.numFrames - 1, Math.trunc(t) || 0));
    this.load();
  }

  /** The current frame's state row [rowWidth] (a view into the payload). */
  row(): Float32Array {
    const m = this.recording.manifest, W = m.stateLayout.rowWidth;
    const { start, steps } = episodeViews(this.recording, this.episodeIndex);
    if (this.frameIndex === 0) return start;
    const at = (this.frameIndex - 1) * stepWidth(m) + stepFields(m).row;
    return steps.subarray(at, at + W);
  }

  /** The HUD's numbers for the current frame. */
  info(): ReplayFrameInfo {
    const m = this.recording.manifest, b = this.batch, t = this.frameIndex;
    const { steps, entry } = episodeViews(this.recording, this.episodeIndex);
    const f = stepFields(m), at = (t - 1) * stepWidth(m);
    const k = b.stage[0], K = this.numStages;
    return {
      episode: this.episodeIndex, numEpisodes: this.numEpisodes, env: entry.env, episodeSuccess: entry.success, episodeReturn: entry.return,
      frame: t, steps: entry.steps, time: t * this.controlDt,
      reward: t > 0 ? steps[at + f.reward] : Number.NaN,
      shapedReward: t > 0 ? steps[at + f.shapedReward] : Number.NaN,
      stage: k, stageName: k >= K ? 'done' : (this.stageNames[k] ?? String(k)),
      success: t > 0 ? steps[at + f.success] === 1 : goalReached(b.achievedGoal, 0, b.desiredGoal, 0, this.task.goalDim, this.task.distanceThreshold),
    };
  }

  /** Unpacks the current frame's row into the batch and works out its achieved goal, points and stage target. */
  private load(): void {
    const b = this.batch, t = this.task;
    unpackRow(this.row(), this.recording.manifest.stateLayout, 0, b, 0);
    t.writeAchievedGoal(b, 0, b.achievedGoal, 0);
    t.writePoints(b, 0, b.points, 0);
    if (this.targets) this.targets.compute(b.points, b.stage, 1, this.stageTargets);
    else this.stageTargets.set(b.desiredGoal.subarray(0, 3));
  }
}

/** The recording's subgoal spec, validated against its task's points; throws naming the recording. */
function recordedSpec(json: unknown, pointNames: readonly string[]): SubgoalSpec {
  try {
    return validateSubgoalSpec(json, pointNames);
  } catch (e) {
    throw new Error(`replay: the recording's subgoal spec is invalid: ${(e as Error).message}`);
  }
}
