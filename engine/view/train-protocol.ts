/**
 * Messages between the view page and its training worker (engine/view/train-worker.ts): the page starts, pauses,
 * resumes and stops one training session; the worker answers with its start, each iteration's metrics, checkpoints
 * (the format `cairn eval` reads; every one taken where all envs start a new episode, except a finished run's last)
 * and the end of the run.
 */
import type { IterationMetrics } from '../train/ppo.ts';
import type { EvalResult } from '../train/evaluate.ts';
import type { TrainSessionOptions } from '../train/session.ts';

/** A checkpoint as files: the manifest's text (checkpoint.json) and the weights file it names. */
export interface CheckpointFiles {
  manifestText: string;
  weightsName: string;
  weights: Uint8Array;
}

/** What the page sends. */
export type TrainRequest =
  /** Starts a session; `from` continues a checkpoint (its weights, optimizer state, normalizer and counters). */
  | { type: 'start'; options: TrainSessionOptions; from?: CheckpointFiles; snapshotSeconds: number }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Ends the run after the iteration in progress: its newest episode-aligned checkpoint ('final'), then 'finished' with stopped. */
  | { type: 'stop' }
  /** Asks for the newest episode-aligned checkpoint (up to one episode's iterations old; answered between iterations, or by 'final'). */
  | { type: 'checkpoint' };

/** Why the worker sent a checkpoint. */
export type CheckpointReason = 'snapshot' | 'requested' | 'final';

/** What the worker sends. */
export type TrainEvent =
  /** exact: false when the run continues a checkpoint taken between episode boundaries (its episodes restart at the next one). */
  | { type: 'started'; backend: string; reason: string; iterations: number; startIteration: number; envSteps: number; stageNames: string[]; exact: boolean }
  | { type: 'iteration'; metrics: IterationMetrics; paused: boolean }
  | { type: 'checkpoint'; reason: CheckpointReason; iteration: number; envSteps: number; files: CheckpointFiles }
  | { type: 'paused' }
  | { type: 'resumed' }
  /** The run ended (all iterations, or stopped); with the evaluation of the final policy when it ran to the end. */
  | { type: 'finished'; stopped: boolean; eval: EvalResult | null }
  | { type: 'error'; message: string };
