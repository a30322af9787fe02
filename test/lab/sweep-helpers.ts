// Shared by the sweep tests: a sweep of 4 tiny Reach runs, starting `cairn sweep`, waiting, and reading what a sweep wrote.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunResult } from '../../engine/lab/sweep-report.ts';

/** A one-stage Reach spec (the task's own, as a file the sweep names). */
export const REACH_SPEC = { stages: [{ name: 'at-goal', predicate: { kind: 'distance', a: 'grip', b: 'goal', below: 0.05 }, progress: { a: 'grip', b: 'goal', sigma: 0.1 } }] };
/** Tiny Reach runs: 8 envs × 50 steps per iteration (a checkpoint every iteration with --checkpoint-seconds 0), 10 iterations. */
export const BASE = { task: 'reach', envs: 8, 'num-steps': 50, steps: 4000, hidden: '16,16', 'eval-episodes': 20 };
export const SWEEP = { runs: [{ shaping: 'sparse' }, { shaping: 'dense', subgoals: 'reach-spec.json' }], base: BASE, seeds: [1, 2] };

/** Writes the sweep file and its spec file into dir; returns the sweep file's path. */
export async function sweepFile(dir: string): Promise<string> {
  await fs.writeFile(path.join(dir, 'reach-spec.json'), JSON.stringify(REACH_SPEC));
  await fs.writeFile(path.join(dir, 'sweep.json'), JSON.stringify(SWEEP));
  return path.join(dir, 'sweep.json');
}

/** Starts `cairn sweep` (detached: the leader of its own process group, with its train children in it). */
export function startSweep(file: string, out: string, detached = false, extra: string[] = []) {
  const child = spawn(process.execPath, ['bin/cairn.mjs', 'sweep', file, '--out', out, '--parallel', '2', '--checkpoint-seconds', '0', '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], detached });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('close', (code) => r({ code, stdout, stderr })));
  return { child, exited, stderr: () => stderr };
}

/** Polls cond every 10 ms until it holds; throws after timeoutMs. */
export async function until(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True while any process of the group led by pid is alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A run directory out/runs/name: finished (eval.json) and metrics rows written. */
export async function runDir(out: string, name: string): Promise<{ finished: boolean; rows: number }> {
  const files = await fs.readdir(path.join(out, 'runs', name)).catch(() => [] as string[]);
  const metrics = files.includes('metrics.jsonl') ? await fs.readFile(path.join(out, 'runs', name, 'metrics.jsonl'), 'utf8').catch(() => '') : '';
  return { finished: files.includes('eval.json'), rows: metrics.split('\n').filter(Boolean).length };
}

/** Every run directory under out/runs (see runDir). */
export async function runDirs(out: string): Promise<{ finished: boolean; rows: number }[]> {
  const names = await fs.readdir(path.join(out, 'runs')).catch(() => [] as string[]);
  return Promise.all(names.map((n) => runDir(out, n)));
}

export type Results = { runs: RunResult[]; configurations: { config: string; meanSuccess: number }[] };
export const readResults = async (out: string): Promise<Results> => JSON.parse(await fs.readFile(path.join(out, 'results.json'), 'utf8'));
/** Each run's eval.json without its timing. */
export async function evals(out: string, names: string[]): Promise<unknown[]> {
  return Promise.all(names.map(async (n) => {
    const { wallSeconds: _, ...rest } = JSON.parse(await fs.readFile(path.join(out, 'runs', n, 'eval.json'), 'utf8'));
    return rest;
  }));
}
