// cairn sweep --queue and cairn worker on a real redis-server on a free loopback port: the sweep of 4 tiny Reach runs
// across two worker processes, one SIGKILLed mid-run (its job goes to the other worker, which resumes the run from its
// last checkpoint), completes with every run finished once and the same results as the local sweep.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { redisConnection, runJobId } from '../../engine/lab/queue.ts';
import { freePort, startRedis } from '../helpers/redis.ts';
import { tempDirs } from '../helpers/tmp.ts';
import { evals, groupAlive, readResults, runDir, startSweep, sweepFile, until } from './sweep-helpers.ts';

const tmp = tempDirs('cairn-queue-');

/** Starts `cairn worker` as the leader of its own process group (its train children in it). */
function startWorker(url: string, extra: string[] = []) {
  const child = spawn(process.execPath, ['bin/cairn.mjs', 'worker', '--queue', url, '--parallel', '1', '--lock-seconds', '3', ...extra], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, stderr: () => stderr };
}

/** Asserts that run `name` of sweep `out` logged each iteration once, in order (1, 2, …) in its metrics.jsonl. */
async function assertEachIterationOnce(out: string, name: string): Promise<void> {
  const its = (await fs.readFile(path.join(out, 'runs', name, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).iteration);
  assert.deepEqual(its, Array.from({ length: its.length }, (_, k) => k + 1), `${name}: each iteration once, in order`);
}

/** Process ids whose parent is pid, with their command lines (from /proc). */
function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push({ pid: Number(d), cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // The process ended while we read it.
    }
  }
  return out;
}

describe('cairn sweep --queue', { timeout: 300_000 }, () => {
  let redis: ChildProcess, url = '';
  const workers: ChildProcess[] = [];
  before(async () => {
    ({ redis, url } = await startRedis());
  });
  after(() => {
    for (const w of workers) if (groupAlive(w.pid!)) process.kill(-w.pid!, 'SIGKILL');
    redis?.kill('SIGKILL');
  });

  it('checks its URL and names the job of a run by sweep directory and name', () => {
    assert.throws(() => redisConnection('localhost:6379'), /--queue must be a redis:\/\/HOST:PORT URL, got 'localhost:6379'/);
    assert.throws(() => redisConnection('not a url'), /--queue must be a URL like redis:\/\/127\.0\.0\.1:6379/);
    assert.deepEqual(redisConnection('redis://10.0.0.2:6380'), { url: 'redis://10.0.0.2:6380', maxRetriesPerRequest: null });
    assert.equal(runJobId('/a/sweep', 'reach-s1'), runJobId('/a/../a/sweep', 'reach-s1'));
    assert.notEqual(runJobId('/a/sweep', 'reach-s1'), runJobId('/b/sweep', 'reach-s1'));
  });

  it('an unreachable Redis is a clear error, not a hang, for the sweep and the worker', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const file = await sweepFile(tmp());
    const run = (args: string[]) => new Promise<{ code: number | null; stderr: string; seconds: number }>((resolve) => {
      const t0 = Date.now();
      const p = spawn(process.execPath, ['bin/cairn.mjs', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr!.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stderr, seconds: (Date.now() - t0) / 1000 }));
    });
    const out = path.join(tmp(), 'out');
    const [sweep, worker] = await Promise.all([run(['sweep', file, '--out', out, '--queue', closed]), run(['worker', '--queue', closed])]);
    await assert.rejects(fs.access(out), 'nothing was written');
    for (const r of [sweep, worker]) {
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(`cannot reach Redis at ${closed} (connect ECONNREFUSED`), r.stderr);
      assert.ok(r.seconds < 30, `took ${r.seconds} s`);
    }
  });

  it('two workers, one SIGKILLed mid-run: every run finishes once, with the local sweep\'s results', async () => {
    const file = await sweepFile(tmp());
    const local = path.join(tmp(), 'local');
    const ref = await startSweep(file, local).exited;
    assert.equal(ref.code, 0, ref.stderr);

    const out = path.join(tmp(), 'queued');
    const a = startWorker(url), b = startWorker(url);
    workers.push(a.child, b.child);
    const sweep = startSweep(file, out, false, ['--queue', url]);
    // Kill a worker and its trainer while its current run is mid-training (checkpoints written, the run not finished).
    let victim = '';
    await until(async () => {
      const started = [...a.stderr().matchAll(/start (reach-\S+)/g)];
      if (!started.length) return false;
      victim = started[started.length - 1][1];
      const state = await runDir(out, victim);
      return !state.finished && state.rows >= 2;
    }, 120_000, 'a run of the first worker mid-training');
    process.kill(-a.child.pid!, 'SIGKILL');
    await until(() => !groupAlive(a.child.pid!), 10_000, 'the killed worker and its trainer to exit');
    const r = await sweep.exited;
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual([summary.runs, summary.finished, summary.skipped, summary.failed], [4, 4, 0, 0]);
    // The killed worker's run went to the other worker, which resumed it from its checkpoint.
    assert.match(b.stderr(), new RegExp(`start ${victim}`));
    const log = await fs.readFile(path.join(out, 'logs', `${victim}.log`), 'utf8');
    assert.match(log, /resuming at [1-9]/, 'the second attempt resumed the run from a checkpoint');

    const [want, got] = [await readResults(local), await readResults(out)];
    const names = want.runs.map((x) => x.name);
    assert.deepEqual(got.runs.map((x) => [x.name, x.status, x.evalSuccess, x.stepsTo50, x.stepsTo90, x.threads]), want.runs.map((x) => [x.name, x.status, x.evalSuccess, x.stepsTo50, x.stepsTo90, x.threads]));
    assert.deepEqual(await evals(out, names), await evals(local, names));
    // Each run once: one eval.json, and metrics.jsonl holding each iteration once, in order.
    for (const n of names) {
      await assertEachIterationOnce(out, n);
    }
    b.child.kill('SIGTERM');
    await until(() => !groupAlive(b.child.pid!), 30_000, 'the second worker to stop on SIGTERM');
  });

  it('a frozen trainer (SIGSTOP) is killed after --stall-seconds and its run resumed: every run finishes once', async () => {
    const file = await sweepFile(tmp());
    const out = path.join(tmp(), 'stalled');
    const w = startWorker(url, ['--stall-seconds', '2']);
    workers.push(w.child);
    const sweep = startSweep(file, out, false, ['--queue', url]);
    // Freeze the worker's trainer while its run is mid-training.
    let victim = '';
    await until(async () => {
      const trainers = childrenOf(w.child.pid!).filter((c) => / train /.test(c.cmdline));
      if (trainers.length !== 1) return false;
      const name = /runs\/(reach-\S+)/.exec(trainers[0].cmdline)?.[1];
      if (!name) return false;
      const state = await runDir(out, name);
      if (state.finished || state.rows < 2) return false;
      process.kill(trainers[0].pid, 'SIGSTOP');
      victim = name;
      return true;
    }, 120_000, 'a trainer mid-run');
    const r = await sweep.exited;
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual([summary.runs, summary.finished, summary.failed], [4, 4, 0]);
    assert.match(w.stderr(), new RegExp(`${victim} made no progress for 2 s: killed; resuming it from its last checkpoint`));
    const log = await fs.readFile(path.join(out, 'logs', `${victim}.log`), 'utf8');
    assert.match(log, /resuming at [1-9]/, 'the restarted trainer resumed the run from a checkpoint');
    await assertEachIterationOnce(out, victim);
    w.child.kill('SIGTERM');
    await until(() => !groupAlive(w.child.pid!), 30_000, 'the worker to stop on SIGTERM');
  });
});
