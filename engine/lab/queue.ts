/**
 * Sweeps across machines on a BullMQ queue in Redis: `cairn sweep --queue redis://HOST:PORT` puts each pending run on
 * the queue as one job, `cairn worker --queue redis://HOST:PORT` takes jobs and runs each as an ordinary `cairn train`
 * child process.
 *
 * What travels where:
 * - Redis carries only the jobs: { name, dir, args, log }, the train command line and the paths of its run directory
 *   and log, and their completion.
 * - Results and checkpoints stay in the run directories on a shared directory: the sweep's DIR, at the same absolute
 *   path on every machine (NFS or any shared volume). A run directory is written atomically, checkpoint by
 *   checkpoint, by `cairn train`. So a job a killed worker leaves behind is taken again by another worker, which
 *   resumes from the last checkpoint in that directory (`cairn train --resume`). Checkpoints are megabytes, and
 *   copying them in and out of Redis would add a second store to keep consistent for nothing. The sweep reads the
 *   results from the run directories as a local sweep does, so a run is counted once, whoever trained it.
 *
 * A worker's train children watch their stdin pipe (CAIRN_EXIT_WITH_PARENT) and exit when it closes. A SIGKILLed
 * worker therefore leaves no trainer writing the directory that the job's next worker resumes. Its job's lock
 * expires after lockSeconds, BullMQ's stalled-job check puts the job back in the queue, and another worker takes it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { MANIFEST_FILE } from '../train/checkpoint.ts';
import { startCairn, type CairnExit } from './pool.ts';

/** The queue's name in Redis. */
export const QUEUE_NAME = 'cairn-sweep';
/** Seconds a finished job stays in Redis (long enough for its sweep to see it finish). */
export const KEEP_SECONDS = 24 * 3600;
/** Times a job may stall (its worker died) before BullMQ gives up on it. */
export const MAX_STALLS = 20;

/** One run as a queue job: its name, its run directory and log (absolute paths on the shared directory), and train's arguments. */
export interface RunJob {
  name: string;
  dir: string;
  log: string;
  /** `cairn train` arguments, without --resume (the worker adds it when the directory holds a run). */
  args: string[];
}

/** BullMQ's connection options for a redis:// URL; throws naming the URL unless it is redis://HOST:PORT[/DB]. */
export function redisConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue must be a URL like redis://127.0.0.1:6379, got '${url}'`);
  }
  if (u.protocol !== 'redis:' || !u.hostname) throw new Error(`--queue must be a redis://HOST:PORT URL, got '${url}'`);
  // Workers block on the queue: ioredis must wait for Redis rather than fail a command after some retries.
  return { url, maxRetriesPerRequest: null };
}

/** The job id of a run: the sweep directory and run name, so the same sweep never queues a run twice. */
export function runJobId(sweepDir: string, name: string): string {
  return `${createHash('sha256').update(path.resolve(sweepDir)).digest('hex').slice(0, 16)}-${name}`;
}

/**
 * Queues the runs and hands each one's exit to onDone as its job completes (code 0) or fails (code 1 and the worker's
 * error as stderr); a run whose job is already queued or running, from an earlier invocation, is awaited, not added.
 * Resolves when every job has finished, or when `stop` resolves (the jobs stay queued).
 */
export async function runOnQueue(url: string, sweepDir: string, jobs: readonly RunJob[], onDone: (job: RunJob, exit: CairnExit) => Promise<void>, stop: Promise<void>): Promise<void> {
  const connection = redisConnection(url);
  const queue = new Queue<RunJob>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  try {
    await reachable(url, Promise.all([queue.waitUntilReady(), events.waitUntilReady()]));
    await Promise.race([stop, Promise.all(jobs.map(async (j) => {
      const jobId = runJobId(sweepDir, j.name);
      // A finished job of an earlier invocation would answer for a run this one still has to train: it goes first.
      const old = await queue.getJob(jobId);
      if (old && ((await old.isCompleted()) || (await old.isFailed()))) await old.remove();
      const job = await queue.add(j.name, j, { jobId, attempts: 1, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } });
      let exit: CairnExit;
      try {
        await job.waitUntilFinished(events);
        exit = { code: 0, signal: null, stdout: '', stderrTail: '' };
      } catch (e) {
        exit = { code: 1, signal: null, stdout: '', stderrTail: (e as Error).message };
      }
      await onDone(j, exit);
    }))]);
  } finally {
    await Promise.all([events.close(), queue.close()]);
  }
}

/** Seconds to wait for Redis before saying it cannot be reached. */
export const CONNECT_SECONDS = 10;

/** Resolves with `ready`, or rejects naming the URL when Redis does not answer within CONNECT_SECONDS. */
async function reachable<T>(url: string, ready: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${url} within ${CONNECT_SECONDS} s (is redis-server running there?)`)), CONNECT_SECONDS * 1000);
  });
  try {
    return await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of runWorker. */
export interface WorkerOptions {
  /** Jobs at a time. */
  parallel: number;
  /** Seconds a job's lock lives without renewal: how long a dead worker's job waits before another worker takes it. */
  lockSeconds: number;
  /** Where progress lines go. */
  log: (line: string) => void;
}

/** Runs one job: `cairn train` into its run directory (resuming the run there, if any); rejects with the end of its stderr when it fails. */
async function runJob(job: Job<RunJob>): Promise<{ code: number }> {
  const j = job.data;
  const names = await fs.readdir(j.dir).catch(() => [] as string[]);
  const resume = names.includes(MANIFEST_FILE) || names.includes('config.json');
  await fs.mkdir(path.dirname(j.log), { recursive: true });
  const r = await startCairn([...j.args, ...(resume ? ['--resume'] : [])], { log: j.log, exitWithParent: true }).exited;
  if (r.code !== 0) throw new Error(`cairn train exited with ${r.code ?? r.signal}: ${r.stderrTail.trim().split('\n').slice(-3).join(' / ')}`);
  return { code: 0 };
}

/** Takes jobs from the queue until SIGINT or SIGTERM (then finishes nothing more, stops its children and closes). */
export async function runWorker(url: string, o: WorkerOptions): Promise<void> {
  const connection = redisConnection(url);
  const lockDuration = Math.round(o.lockSeconds * 1000);
  const worker = new Worker<RunJob>(QUEUE_NAME, async (job) => {
    o.log(`cairn worker: start ${job.data.name}${job.attemptsStarted > 1 ? ` (attempt ${job.attemptsStarted})` : ''}`);
    const r = await runJob(job);
    o.log(`cairn worker: done ${job.data.name}`);
    return r;
  }, { connection, concurrency: o.parallel, lockDuration, stalledInterval: Math.max(1000, Math.round(lockDuration / 2)), maxStalledCount: MAX_STALLS });
  worker.on('failed', (job, err) => o.log(`cairn worker: FAILED ${job?.data.name}: ${err.message}`));
  worker.on('error', (err) => o.log(`cairn worker: ${err.message}`));
  await reachable(url, worker.waitUntilReady());
  o.log(`cairn worker: taking jobs from ${url} (${QUEUE_NAME}), ${o.parallel} at a time`);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      o.log(`cairn worker: ${sig}: closing`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // close() waits for the running jobs; their train children stop with the worker process (exit-with-parent).
  await worker.close(true);
}
