/** A sweep's view of one `cairn train` run directory: where it stands against its sweep run, and what it measured. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isAtomicTemp } from '../fs-atomic.ts';
import { MANIFEST_FILE } from '../train/checkpoint.ts';
import { episodeCurve } from '../train/run.ts';
import type { EvalResult } from '../train/evaluate.ts';
import type { IterationMetrics } from '../train/ppo.ts';
import { configMismatches, type SweepRun } from './sweep-file.ts';

/**
 * Where a run directory stands: `new` (no run in it; `leftovers` are temporary files a killed write left),
 * `finished` (eval.json written), `interrupted` (a run that `cairn train --resume` continues, with the thread count
 * it started with, null if unknown), or `conflict` (it holds another run: what differs, 'lr: 0.0003 there, 0.001 here').
 */
export type RunDirState =
  | { kind: 'new'; leftovers: string[] }
  | { kind: 'finished' }
  | { kind: 'interrupted'; threads: number | null }
  | { kind: 'conflict'; differences: string[] };

/** Reads a run directory (missing is new) against the sweep run meant to live there; changes nothing. */
export async function inspectRunDir(dir: string, run: SweepRun): Promise<RunDirState> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  if (!names.includes('config.json')) {
    if (names.includes(MANIFEST_FILE)) return { kind: 'interrupted', threads: null };
    return { kind: 'new', leftovers: names.filter(isAtomicTemp) };
  }
  let config: { threads?: unknown };
  try {
    config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
  } catch (e) {
    return { kind: 'conflict', differences: [`config.json is unreadable (${(e as Error).message})`] };
  }
  const differences = configMismatches(run, config);
  if (differences.length) return { kind: 'conflict', differences };
  if (names.includes('eval.json')) return { kind: 'finished' };
  return { kind: 'interrupted', threads: typeof config.threads === 'number' ? config.threads : null };
}

/** What a finished run measured, as the sweep reports it. */
export interface RunOutcome {
  /** Success rate of its final evaluation (eval.json: mean action, the task's own sparse success). */
  evalSuccess: number;
  /** Mean goal progress of that evaluation (engine/train/goal-progress.ts); null in an eval.json written before it was measured. */
  evalGoalProgress: number | null;
  /** First env steps at which an iteration's training episodes succeeded at ≥ 50% / ≥ 90%; null if never. */
  stepsTo50: number | null;
  stepsTo90: number | null;
  /** Seconds of its iterations (collect + update, metrics.jsonl) and its evaluation; process start-up not included. */
  wallSeconds: number;
  /** WASM backend threads it was trained with (config.json). */
  threads: number;
  /** Training success rate against env steps, from finished episodes (engine/train/run.ts episodeCurve). */
  curve: { x: number[]; y: number[] };
}

/** First envSteps of a row whose training success rate reaches p, or null. */
function stepsTo(rows: readonly IterationMetrics[], p: number): number | null {
  return rows.find((r) => r.episodes > 0 && r.successRate >= p)?.envSteps ?? null;
}

/** Reads a finished run's eval.json, metrics.jsonl and config.json. */
export async function readOutcome(dir: string): Promise<RunOutcome> {
  const read = (name: string) => fs.readFile(path.join(dir, name), 'utf8');
  const evaluation = JSON.parse(await read('eval.json')) as EvalResult;
  const rows = (await read('metrics.jsonl')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as IterationMetrics);
  const config = JSON.parse(await read('config.json')) as { threads: number };
  return {
    evalSuccess: evaluation.successRate,
    evalGoalProgress: typeof evaluation.goalProgress === 'number' ? evaluation.goalProgress : null,
    stepsTo50: stepsTo(rows, 0.5),
    stepsTo90: stepsTo(rows, 0.9),
    wallSeconds: rows.reduce((s, r) => s + r.collectSeconds + r.updateSeconds, evaluation.wallSeconds),
    threads: config.threads,
    curve: episodeCurve(rows, (r) => r.successRate),
  };
}
