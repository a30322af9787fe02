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
import type { ChildProcess } from 'node:child_process';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { MANIFEST_FILE } from '../train/checkpoint.ts';
import { startCairn, type CairnExit } from './pool.ts';

/** The queue's name in Redis. */
export const QUEUE_NAME = 'cairn-sweep';
/** Seconds a finished job stays in Redis (long enough for its sweep to see it finish). */
export const KEEP_SECONDS = 24 * 3600;
/** Times a job may stall (its worker died) before BullMQ gives up on it. */
export const MAX_STALLS = 20;
/** Times a worker restarts a trainer that stopped making progress (stallSeconds) before the run fails. */
export const MAX_TRAINER_RESTARTS = 2;

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
  await checkRedis(url);
  const queue = new Queue<RunJob>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  queue.on('error', (e: Error) => console.error(`cairn sweep: Redis: ${e.message}`));
  events.on('error', (e: Error) => console.error(`cairn sweep: Redis: ${e.message}`));
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
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
    await closeWithin([events, queue]);
  }
}

/** Closes BullMQ objects, or drops their connections when closing takes more than CLOSE_SECONDS (Redis gone). */
async function closeWithin(items: { close(): Promise<void>; disconnect(): Promise<void> }[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_SECONDS * 1000)));
  const closed = await Promise.race([Promise.all(items.map((x) => x.close())).then(() => 'closed' as const, () => 'late' as const), late]);
  clearTimeout(timer);
  if (closed === 'late') await Promise.all(items.map((x) => x.disconnect().catch(() => undefined)));
}

/** Seconds to wait for Redis to answer before saying it cannot be reached. */
export const CONNECT_SECONDS = 10;
/** Seconds a close may take before the connections are dropped. */
export const CLOSE_SECONDS = 5;

/** Resolves once Redis at url answers a PING, or rejects naming the URL (refused, or no answer within CONNECT_SECONDS); leaves no connection open. */
export async function checkRedis(url: string): Promise<void> {
  redisConnection(url);
  const client = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_SECONDS * 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The connection's own error (e.g. ECONNREFUSED) says more than the rejected connect ("Connection is closed").
  let cause: Error | null = null;
  client.on('error', (e: Error) => (cause ??= e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new Error(`cannot reach Redis at ${url} (${(cause ?? (e as Error)).message}; is redis-server running there?)`);
  } finally {
    client.disconnect();
  }
}

/** Options of runWorker. */
export interface WorkerOptions {
  /** Jobs at a time. */
  parallel: number;
  /** Seconds a job's lock lives without renewal: how long a dead worker's job waits before another worker takes it. */
  lockSeconds: number;
  /**
   * Seconds a trainer may go without a new metrics row or any output before the worker kills it and resumes the run
   * from its last checkpoint (MAX_TRAINER_RESTARTS times, then the run fails): a hung trainer would hold its job forever,
   * since the worker itself keeps renewing the job's lock.
   */
  stallSeconds: number;
  /** Where progress lines go. */
  log: (line: string) => void;
}

/** A worker's train children, by job id, and whether the worker is stopping. */
interface Running {
  children: Map<string, ChildProcess>;
  stopping: boolean;
}

/**
 * Kills `child` with SIGKILL once it has gone `seconds` without output and without its metrics file (metricsPath)
 * changing; `stalled()` says whether it did. `stop()` ends the watch.
 */
function watchProgress(child: ChildProcess, metricsPath: string, seconds: number): { stalled: () => boolean; stop: () => void } {
  let last = Date.now(), lastSize = -1, lastMtime = -1, stalled = false;
  const touch = () => (last = Date.now());
  child.stdout?.on('data', touch);
  child.stderr?.on('data', touch);
  const timer = setInterval(() => {
    fs.stat(metricsPath).then((st) => {
      if (st.size !== lastSize || st.mtimeMs !== lastMtime) [lastSize, lastMtime, last] = [st.size, st.mtimeMs, Date.now()];
    }, () => {}).finally(() => {
      if (stalled || Date.now() - last < seconds * 1000) return;
      stalled = true;
      child.kill('SIGKILL');
    });
  }, Math.min(5000, seconds * 250));
  return { stalled: () => stalled, stop: () => clearInterval(timer) };
}

/**
 * Runs one job: `cairn train` into its run directory (resuming the run there, if any); rejects with the end of its
 * stderr when it fails. A trainer that stops making progress for stallSeconds is killed and the run resumed from its
 * last checkpoint, MAX_TRAINER_RESTARTS times before the job fails. While the worker stops it never settles: the job
 * stays active, its lock expires, and another worker resumes the run (a failure would end it for good).
 */
async function runJob(job: Job<RunJob>, running: Running, o: WorkerOptions): Promise<{ code: number }> {
  const j = job.data;
  await fs.mkdir(path.dirname(j.log), { recursive: true });
  for (let restarts = 0; ; restarts++) {
    const names = await fs.readdir(j.dir).catch(() => [] as string[]);
    const resume = names.includes(MANIFEST_FILE) || names.includes('config.json');
    const { child, exited } = startCairn([...j.args, ...(resume ? ['--resume'] : [])], { log: j.log, exitWithParent: true });
    running.children.set(job.id!, child);
    const watch = watchProgress(child, path.join(j.dir, 'metrics.jsonl'), o.stallSeconds);
    const r = await exited;
    watch.stop();
    running.children.delete(job.id!);
    if (running.stopping) return new Promise(() => {});
    if (watch.stalled()) {
      if (restarts >= MAX_TRAINER_RESTARTS) throw new Error(`cairn train made no progress for ${o.stallSeconds} s, ${restarts + 1} times; the run stops here`);
      o.log(`cairn worker: ${j.name} made no progress for ${o.stallSeconds} s: killed; resuming it from its last checkpoint`);
      continue;
    }
    if (r.code !== 0) throw new Error(`cairn train exited with ${r.code ?? r.signal}: ${r.stderrTail.trim().split('\n').slice(-3).join(' / ')}`);
    return { code: 0 };
  }
}

/**
 * Takes jobs from the queue until SIGINT or SIGTERM; then it stops its trainers (each leaves its last checkpoint) and
 * returns without finishing their jobs, which other workers resume once the jobs' locks expire.
 */
export async function runWorker(url: string, o: WorkerOptions): Promise<void> {
  const connection = redisConnection(url);
  await checkRedis(url);
  const lockDuration = Math.round(o.lockSeconds * 1000);
  const running: Running = { children: new Map(), stopping: false };
  const worker = new Worker<RunJob>(QUEUE_NAME, async (job) => {
    o.log(`cairn worker: start ${job.data.name}${job.attemptsStarted > 1 ? ` (attempt ${job.attemptsStarted})` : ''}`);
    const r = await runJob(job, running, o);
    o.log(`cairn worker: done ${job.data.name}`);
    return r;
  }, { connection, concurrency: o.parallel, lockDuration, stalledInterval: Math.max(1000, Math.round(lockDuration / 2)), maxStalledCount: MAX_STALLS });
  worker.on('failed', (job, err) => o.log(`cairn worker: FAILED ${job?.data.name}: ${err.message}`));
  worker.on('error', (err) => o.log(`cairn worker: ${err.message}`));
  // A job whose lock this worker lost belongs to another worker now: its trainer must not keep writing the run.
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) running.children.get(id)?.kill('SIGTERM');
  });
  await worker.waitUntilReady();
  o.log(`cairn worker: taking jobs from ${url} (${QUEUE_NAME}), ${o.parallel} at a time`);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      o.log(`cairn worker: ${sig}: stopping ${running.children.size} trainer(s); their runs resume on another worker`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  running.stopping = true;
  const children = [...running.children.values()];
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  await closeWithin([{ close: () => worker.close(true), disconnect: () => worker.disconnect() }]);
}
