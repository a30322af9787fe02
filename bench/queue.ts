/**
 * Queue benchmark: the same sweep of tiny Reach runs on the local pool (`cairn sweep --parallel 2`) and through a
 * Redis queue to two local workers (`cairn sweep --queue` with two `cairn worker --parallel 1`), alternating, after a
 * warm-up of each; reports the median wall time of each and their ratio (the queue's overhead). It starts its own
 * redis-server (Debian's) on a free loopback port; the workers start before the timing starts, as they would be
 * running already on a cluster.
 *
 * Usage: node --import tsx bench/queue.ts [--runs 8] [--steps 20000] [--repeats 3]
 * Writes bench/results/queue-<host>.json and the README table 'queue'.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exitWithHelpIfAsked, parseFlags } from '../engine/cli/args.ts';
import { cairnJson } from '../engine/lab/pool.ts';
import { gitCommit, machineInfo, markdownTable, updateReadmeTable } from './util.ts';
import { startRedis } from '../test/helpers/redis.ts';

exitWithHelpIfAsked(process.argv.slice(2), import.meta.url);
const f = parseFlags(process.argv.slice(2), { runs: 'number', steps: 'number', repeats: 'number' });
const numRuns = (f.runs as number | undefined) ?? 8;
const steps = (f.steps as number | undefined) ?? 20000;
const repeats = (f.repeats as number | undefined) ?? 3;

/** Starts a process and resolves once its output matches `ready`. */
function startUntil(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const look = (d: Buffer) => {
      out += d;
      if (ready.test(out)) resolve(p);
    };
    p.stdout!.on('data', look);
    p.stderr!.on('data', look);
    p.on('error', reject);
    p.on('exit', (code) => reject(new Error(`${cmd} exited (${code}) before it was ready: ${out.slice(-500)}`)));
  });
}

const root = mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-queue-'));
const sweepFile = path.join(root, 'sweep.json');
// numRuns tiny Reach runs: numRuns / 2 configurations × 2 seeds.
writeFileSync(sweepFile, JSON.stringify({
  grid: { lr: Array.from({ length: numRuns / 2 }, (_, k) => 0.001 * (k + 1)) },
  base: { task: 'reach', shaping: 'pbrs', envs: 32, steps, hidden: '32,32', 'eval-episodes': 32 }, seeds: [1, 2],
}));
const { redis, url } = await startRedis();
const workers = await Promise.all([0, 1].map(() => startUntil(process.execPath, ['bin/cairn.mjs', 'worker', '--queue', url, '--parallel', '1'], /taking jobs/)));

/** Wall seconds of one sweep into a fresh directory, locally or on the queue. */
async function sweep(mode: 'local' | 'queue', k: number): Promise<number> {
  const out = path.join(root, `${mode}-${k}`);
  const t0 = performance.now();
  const s = await cairnJson<{ finished: number }>(['sweep', sweepFile, '--out', out, '--parallel', '2', '--json', ...(mode === 'queue' ? ['--queue', url] : [])], `${mode} sweep`);
  const wall = (performance.now() - t0) / 1000;
  if (s.finished !== numRuns) throw new Error(`${mode} sweep finished ${s.finished} of ${numRuns} runs`);
  return wall;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times: Record<'local' | 'queue', number[]> = { local: [], queue: [] };
try {
  await sweep('local', -1);
  await sweep('queue', -1);
  for (let k = 0; k < repeats; k++) {
    for (const mode of ['local', 'queue'] as const) {
      times[mode].push(await sweep(mode, k));
      console.log(`${mode} sweep ${k + 1}/${repeats}: ${times[mode].at(-1)!.toFixed(1)} s`);
    }
  }
} finally {
  for (const w of workers) w.kill('SIGTERM');
  redis.kill('SIGTERM');
  rmSync(root, { recursive: true, force: true });
}
const local = median(times.local), queued = median(times.queue);
const machine = machineInfo();
const out = { benchmark: 'queue', date: new Date().toISOString(), commit: gitCommit(), machine, runs: numRuns, steps, repeats, seconds: times, medianSeconds: { local, queue: queued }, ratio: queued / local };
mkdirSync('bench/results', { recursive: true });
const jsonPath = `bench/results/queue-${machine.host}.json`;
writeFileSync(jsonPath, JSON.stringify(out, null, 2) + '\n');
const md = markdownTable(['sweep of tiny Reach runs', 'runs', 'median wall time', 'vs local'], [
  ['local pool, `--parallel 2`', numRuns, `${local.toFixed(1)} s`, '1.00×'],
  ['Redis queue, 2 workers × `--parallel 1`', numRuns, `${queued.toFixed(1)} s`, `${(queued / local).toFixed(2)}×`],
]) + `\n\nMedians of ${repeats} alternating repeats after one warm-up each, ${numRuns} runs of ${steps} env steps (32 envs), on ${machine.cpu} (${machine.cores} cores), commit ${out.commit}; \`node --import tsx bench/queue.ts --runs ${numRuns} --steps ${steps} --repeats ${repeats}\`.`;
if (updateReadmeTable('queue', md)) console.log('updated the README table');
console.log(`local ${local.toFixed(1)} s, queue ${queued.toFixed(1)} s: ${(queued / local).toFixed(3)}×; wrote ${jsonPath}`);
