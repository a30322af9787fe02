/**
 * `cairn sweep`: every run of a sweep file (engine/lab/sweep-file.ts) as a `cairn train` child process, K at a
 * time, into DIR/runs/NAME, then DIR/results.json, DIR/table.md and DIR/report.html.
 *
 * DIR holds runs/ (one ordinary run directory per run), inputs/ (the JSON inputs handed to train, named by
 * content), logs/NAME.log (each run's train output, appended per attempt) and the three outputs, which carry the
 * failure analysis (engine/lab/analyze.ts) of each configuration's best seed. Each run gets the
 * WASM backend with max(1, floor(cores / K)) threads. Re-running the same sweep skips finished runs (eval.json
 * written, config matching), resumes interrupted ones with `cairn train --resume` at the thread count they started
 * with, and refuses, before anything starts, a run directory that holds another run. SIGINT or SIGTERM stops the
 * children (SIGTERM; a second signal SIGKILLs them) and writes the results so far.
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { writeAtomic } from '../fs-atomic.ts';
import { checkIntIn, checkNumberIn } from '../numeric.ts';
import { checkOutputDir } from '../cli/paths.ts';
import { inputFileName, loadSweep, trainFlags, type SweepRun } from './sweep-file.ts';
import { inspectRunDir, readOutcome, type RunDirState, type RunOutcome } from './run-dir.ts';
import { runPool, startCairn, type CairnExit } from './pool.ts';
import { checkRedis, runOnQueue, type RunJob } from './queue.ts';
import { cachedRunAnalysis, LAB_ANALYSIS_EPISODES } from './analyze-run.ts';
import { formatAnalysis } from './analyze.ts';
import { markdownRanking, rankConfigurations, reportHtml, type RunResult } from './sweep-report.ts';

/** What runSweep is asked to do. */
export interface SweepOptions {
  /** The sweep file. */
  file: string;
  /** DIR: where runs, logs and results go. */
  outDir: string;
  /** Runs at a time, K; default os.availableParallelism(). */
  parallel?: number;
  /** Seconds between each run's checkpoints (train's --checkpoint-seconds); default train's. */
  checkpointSeconds?: number;
  /** Where progress lines go; default stderr. */
  log?: (line: string) => void;
  /** A redis://HOST:PORT URL: put the runs on that queue for `cairn worker`s instead of running them here (engine/lab/queue.ts). */
  queue?: string;
}

/** What a sweep did, as `cairn sweep --json` prints it (less table and signal). */
export interface SweepSummary {
  /** Runs in the sweep. */
  runs: number;
  /** Runs that finished in this invocation, that were finished before it, that failed. */
  finished: number;
  skipped: number;
  failed: number;
  /** Seconds this invocation took. */
  wallSeconds: number;
  /** The top configuration of the ranking and its mean eval success; null when no run finished. */
  best: { name: string; meanSuccess: number } | null;
  /** The ranked table (table.md). */
  table: string;
  /** The signal that stopped the sweep early, or null. */
  signal: NodeJS.Signals | null;
}

/** Every run's directory state, or one error naming each directory that holds another run. */
async function inspectAll(runs: readonly SweepRun[], runsDir: string): Promise<RunDirState[]> {
  const states = await Promise.all(runs.map((r) => inspectRunDir(path.join(runsDir, r.name), r)));
  const conflicts = runs.flatMap((r, i) => {
    const s = states[i];
    return s.kind === 'conflict' ? [`${path.join(runsDir, r.name)} holds another run (${s.differences.join('; ')})`] : [];
  });
  if (conflicts.length) throw new Error(`${conflicts.join('\n')}\nnothing was started or changed; move those directories away or sweep into another --out`);
  return states;
}

/** The last non-empty lines of a child's stderr, as a failed run's error. */
function errorTail(stderr: string): string {
  return stderr.split('\n').map((l) => l.trim()).filter(Boolean).slice(-3).join(' / ');
}

/** Runs a sweep as the options say and writes its outputs; validation errors throw before anything starts. */
export async function runSweep(o: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const log = o.log ?? ((line: string) => console.error(line));
  const runs = loadSweep(o.file);
  const cores = availableParallelism();
  const parallel = checkIntIn('--parallel', o.parallel ?? cores, 1, 1024);
  if (o.checkpointSeconds !== undefined) checkNumberIn('--checkpoint-seconds', o.checkpointSeconds, 0, 1e9);
  const threads = Math.max(1, Math.floor(cores / parallel));
  if (o.queue !== undefined) await checkRedis(o.queue);
  await checkOutputDir(o.outDir, '--out');
  // Absolute: queued runs are trained by workers in other directories (on the same shared path).
  const outDir = path.resolve(o.outDir);
  const runsDir = path.join(outDir, 'runs'), inputDir = path.join(outDir, 'inputs'), logDir = path.join(outDir, 'logs');
  const states = await inspectAll(runs, runsDir);

  for (const d of [runsDir, logDir]) await fs.mkdir(d, { recursive: true });
  for (const r of runs) {
    for (const [field, json] of Object.entries(r.inputs)) {
      await fs.mkdir(inputDir, { recursive: true });
      await writeAtomic(path.join(inputDir, inputFileName(field, json)), JSON.stringify(json, null, 2) + '\n');
    }
  }

  const pending = runs.map((_, i) => i).filter((i) => states[i].kind !== 'finished');
  const skipped = runs.length - pending.length;
  const configs = new Set(runs.map((r) => r.config)).size;
  const seeds = runs.length / configs;
  log(`cairn sweep: ${runs.length} runs (${configs} configurations × ${seeds} seed${seeds > 1 ? 's' : ''}) in ${o.outDir}, ${parallel} at a time, ${threads} thread${threads > 1 ? 's' : ''} each; ${skipped} finished before, ${pending.filter((i) => states[i].kind === 'interrupted').length} to resume`);

  const status: RunResult['status'][] = states.map((s) => (s.kind === 'finished' ? 'finished' : 'interrupted'));
  const errors: (string | undefined)[] = runs.map(() => undefined);
  const children = new Set<ChildProcess>();
  let signal: NodeJS.Signals | null = null, done = skipped, finished = 0;
  let stopWaiting: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stopWaiting = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    const again = signal !== null;
    signal ??= sig;
    stopWaiting();
    // A second signal while waiting on a queue ends the sweep at once (the queued runs stay queued).
    if (again && o.queue) process.exit(sig === 'SIGINT' ? 130 : 143);
    if (o.queue) log(`cairn sweep: ${sig}: no longer waiting; the queued runs go on on the workers, and the same command waits for them again`);
    else log(`cairn sweep: ${sig}: ${again ? 'killing' : 'stopping'} ${children.size} running run(s); the same command resumes them`);
    for (const c of children) c.kill(again ? 'SIGKILL' : 'SIGTERM');
  };
  /** Books a run's exit: finished, stopped (by the sweep's signal; the next sweep resumes it) or failed. */
  const settle = async (i: number, r: CairnExit): Promise<void> => {
    const run = runs[i], dir = path.join(runsDir, run.name);
    if (r.code === 0) {
      status[i] = 'finished';
      finished++;
      const evalSuccess = await readOutcome(dir).then((out) => `${(out.evalSuccess * 100).toFixed(1)}%`, () => 'unreadable');
      log(`[${++done}/${runs.length}] done ${run.name}: eval success ${evalSuccess}`);
    } else if (signal || r.signal === 'SIGINT' || r.signal === 'SIGTERM') {
      // Stopped by the sweep, or by the same Ctrl-C before the sweep's handler ran: the next sweep resumes it.
      log(`[${done}/${runs.length}] stopped ${run.name}`);
    } else {
      status[i] = 'failed';
      errors[i] = errorTail(r.stderrTail);
      log(`[${++done}/${runs.length}] FAILED ${run.name} (exit ${r.code ?? r.signal}): ${errors[i]} (log ${path.join(logDir, `${run.name}.log`)})`);
    }
  };
  /** train's arguments for run i at t threads, without --resume. */
  const trainArgs = (i: number, t: number): string[] => ['train', ...trainFlags(runs[i], inputDir), '--out', path.join(runsDir, runs[i].name), '--backend', 'wasm', '--threads', String(t), '--json',
    ...(o.checkpointSeconds === undefined ? [] : ['--checkpoint-seconds', String(o.checkpointSeconds)])];
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (const i of pending) {
      const state = states[i], dir = path.join(runsDir, runs[i].name);
      if (state.kind === 'new') for (const f of state.leftovers) await fs.rm(path.join(dir, f), { force: true });
    }
    if (o.queue) {
      // On the queue the worker decides --resume, from what the shared run directory holds when it takes the job.
      const jobs: RunJob[] = pending.map((i) => {
        const state = states[i];
        return { name: runs[i].name, dir: path.resolve(runsDir, runs[i].name), log: path.resolve(logDir, `${runs[i].name}.log`), args: trainArgs(i, state.kind === 'interrupted' ? state.threads ?? threads : threads) };
      });
      const index = new Map(pending.map((i) => [runs[i].name, i]));
      log(`cairn sweep: ${jobs.length} run(s) on the queue ${o.queue}; start workers with cairn worker --queue ${o.queue}`);
      await runOnQueue(o.queue, outDir, jobs, (j, exit) => settle(index.get(j.name)!, exit), stopped);
    } else {
      await runPool(pending, parallel, async (i) => {
        const state = states[i], resume = state.kind === 'interrupted';
        const args = [...trainArgs(i, resume ? state.threads ?? threads : threads), ...(resume ? ['--resume'] : [])];
        log(`[${done}/${runs.length}] ${resume ? 'resume' : 'start'} ${runs[i].name} (${children.size + 1} running)`);
        // Tied to the sweep: a sweep killed outright leaves no trainer writing a run the next sweep resumes.
        const { child, exited } = startCairn(args, { log: path.join(logDir, `${runs[i].name}.log`), exitWithParent: true });
        children.add(child);
        const r = await exited;
        children.delete(child);
        await settle(i, r);
      }, () => signal !== null);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const outcomes = new Map<number, RunOutcome>();
  for (let i = 0; i < runs.length; i++) {
    if (status[i] !== 'finished') continue;
    try {
      outcomes.set(i, await readOutcome(path.join(runsDir, runs[i].name)));
    } catch (e) {
      status[i] = 'failed';
      errors[i] = `its run directory cannot be read: ${(e as Error).message}`;
    }
  }
  const results: RunResult[] = runs.map((r, i) => {
    const out = outcomes.get(i);
    return {
      name: r.name, config: r.config, settings: r.settings, seed: r.seed, status: status[i],
      evalSuccess: out?.evalSuccess ?? null, goalProgress: out?.evalGoalProgress ?? null, stepsTo50: out?.stepsTo50 ?? null, stepsTo90: out?.stepsTo90 ?? null,
      wallSeconds: out ? +out.wallSeconds.toFixed(2) : null, threads: out?.threads ?? null, ...(errors[i] ? { error: errors[i] } : {}),
    };
  });
  const rows = rankConfigurations(results);
  const table = markdownRanking(rows);
  // The failure analysis of each configuration's best seed (cached in its run directory as analysis.json).
  const failureAnalysis: Record<string, string> = {};
  for (const row of rows) {
    if (row.bestRun === null || signal) continue;
    try {
      failureAnalysis[row.config] = formatAnalysis(await cachedRunAnalysis(path.join(runsDir, row.bestRun), LAB_ANALYSIS_EPISODES));
    } catch (e) {
      log(`cairn sweep: no failure analysis of ${row.bestRun}: ${(e as Error).message}`);
    }
  }
  const curves: Record<string, { seed: number; x: number[]; y: number[] }[]> = {};
  runs.forEach((r, i) => {
    const out = outcomes.get(i);
    if (out) (curves[r.config] ??= []).push({ seed: r.seed, ...out.curve });
  });
  const when = new Date().toISOString();
  await writeAtomic(path.join(o.outDir, 'results.json'), JSON.stringify({ sweep: path.resolve(o.file), updatedAt: when, parallel, runs: results, configurations: rows.map((r) => ({ ...r, analysis: failureAnalysis[r.config] ?? null })) }, null, 2) + '\n');
  await writeAtomic(path.join(o.outDir, 'table.md'), table);
  await writeAtomic(path.join(o.outDir, 'report.html'), reportHtml({ failureAnalysis, title: `cairn sweep ${path.basename(o.file)}`, subtitle: `${runs.length} runs, ${rows.length} configurations, updated ${when}; ranked by mean eval success (mean action, the task's sparse success) over seeds`, rows, curves }));
  const top = rows[0];
  return {
    runs: runs.length, finished, skipped, failed: results.filter((r) => r.status === 'failed').length, wallSeconds: +((performance.now() - t0) / 1000).toFixed(1),
    best: top?.meanSuccess != null ? { name: top.config, meanSuccess: top.meanSuccess } : null, table, signal,
  };
}
