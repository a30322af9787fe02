// Kill-anywhere: a small `cairn train` run is SIGKILLed at 50 instants (40 at random times, 10 or more inside a
// checkpoint write, found by watching the run directory); after each kill `cairn eval` loads the run and
// `--resume` continues it, and the run that ends after all kills is bit-identical to an uninterrupted one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../engine/cli/main.ts';
import { loadCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { counterUniform } from '../../engine/rng.ts';

const ITERATIONS = 600;
const TIMED_KILLS = 40;
const WRITE_KILLS = 10;
/** Longest random delay after the run announces itself, ms (about 10 iterations here). */
const MAX_DELAY_MS = 400;
const args = (dir: string, resume: boolean) => [
  'bin/cairn.mjs', 'train', '--task', 'reach', '--envs', '8', '--num-steps', '50', '--steps', String(8 * 50 * ITERATIONS), '--checkpoint-seconds', '0',
  '--eval-episodes', '8', '--backend', 'wasm', '--threads', '1', '--seed', '5', '--out', dir, '--json', ...(resume ? ['--resume'] : []),
];

/** Starts a training process; `announced` resolves when it prints its start line (a checkpoint exists then). */
function start(dir: string, resume: boolean): { child: ChildProcess; announced: Promise<void>; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, args(dir, resume), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let announce!: () => void;
  const announced = new Promise<void>((r) => (announce = r));
  child.stderr!.on('data', (d) => {
    err += d;
    if (/cairn train: reach/.test(err)) announce();
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => { announce(); r(code); }));
  return { child, announced, exited, stderr: () => err };
}

/** A training process's metrics rows without the timing fields (which differ run to run). */
async function metricsWithoutTimes(dir: string): Promise<unknown[]> {
  const rows = (await fs.readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  for (const r of rows) for (const k of ['time', 'sps', 'collectSeconds', 'updateSeconds', 'envSeconds', 'networkSeconds']) delete r[k];
  return rows;
}

/** Evaluates the run as `cairn eval DIR` does, in this process; throws unless it exits 0. */
async function evalLoads(dir: string): Promise<void> {
  const [e0, l0] = [console.error, console.log];
  const out: string[] = [];
  console.error = console.log = (...a: unknown[]) => void out.push(a.join(' '));
  try {
    const code = await main(['eval', dir, '--episodes', '8', '--backend', 'wasm', '--json']);
    if (code !== 0) throw new Error(`cairn eval exited ${code}: ${out.join('\n')}`);
  } finally {
    [console.error, console.log] = [e0, l0];
  }
}

/** What a kill inside a checkpoint write leaves: a temporary file, or new weights beside the old ones. */
async function insideWrite(dir: string): Promise<boolean> {
  const names = await fs.readdir(dir);
  return names.some((n) => /\.tmp-\d+-\d+$/.test(n) && /^(weights|checkpoint)/.test(n)) || names.filter((n) => /^weights-[0-9a-f]{16}\.bin$/.test(n)).length > 1;
}

describe('kill anywhere', () => {
  it(`SIGKILL at ${TIMED_KILLS + WRITE_KILLS} instants, ${WRITE_KILLS}+ inside checkpoint writes: every kill leaves a run that eval loads and --resume finishes, bit-identical to an uninterrupted run`, { timeout: 600_000 }, async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-kill-'));
    try {
      const ref = path.join(root, 'straight'), dir = path.join(root, 'killed');
      const straight = start(ref, false);
      assert.equal(await straight.exited, 0, straight.stderr());

      // Kill plan: timed kills at seeded random delays, and watch kills armed after a random delay that fire when a
      // checkpoint file appears: a weights temp file, the renamed weights (before the manifest), the manifest temp file.
      const targets = [/^weights-[0-9a-f]{16}\.bin\.tmp-/, /^weights-[0-9a-f]{16}\.bin$/, /^checkpoint\.json\.tmp-/];
      let timed = 0, inside = 0, watchTries = 0, resume = false;
      const log: string[] = [];
      while (timed < TIMED_KILLS || inside < WRITE_KILLS) {
        assert.ok(watchTries < 40, `only ${inside} of ${watchTries} watch kills landed inside a checkpoint write`);
        const byWatch = timed >= TIMED_KILLS || (timed + inside) % 5 === 4;
        const k = timed + watchTries;
        const delay = Math.floor(counterUniform(17, k, 0, 0) * MAX_DELAY_MS);
        const p = start(dir, resume);
        await p.announced;
        let watcher: ReturnType<typeof watch> | null = null;
        const timer = setTimeout(() => {
          if (!byWatch) return void p.child.kill('SIGKILL');
          const want = targets[watchTries % targets.length];
          watcher = watch(dir, (_event, name) => {
            if (name && want.test(name)) p.child.kill('SIGKILL');
          });
        }, delay);
        const code = await p.exited;
        clearTimeout(timer);
        (watcher as ReturnType<typeof watch> | null)?.close();
        assert.equal(code, null, `the run ended (exit ${code}) before kill ${timed + inside + 1}; make it longer\n${p.stderr()}`);
        if (byWatch) {
          watchTries++;
          if (await insideWrite(dir)) inside++;
        } else timed++;
        const at = (await loadCheckpoint(dir)).manifest.iteration;
        log.push(`${byWatch ? 'watch' : 'timed'} +${delay} ms → checkpoint at iteration ${at}`);
        await evalLoads(dir);
        resume = true;
      }
      const last = start(dir, true);
      assert.equal(await last.exited, 0, last.stderr());
      console.log(`# ${timed} timed kills, ${watchTries} watch kills of which ${inside} landed inside a checkpoint write`);

      const a = await loadCheckpoint(ref), b = await loadCheckpoint(dir);
      assert.equal(b.manifest.iteration, ITERATIONS);
      assert.equal(b.manifest.weights.sha256, a.manifest.weights.sha256, 'params and Adam moments are bit-identical to the uninterrupted run');
      assert.deepEqual(b.manifest.normalizer, a.manifest.normalizer);
      assert.deepEqual(await metricsWithoutTimes(dir), await metricsWithoutTimes(ref), 'metrics.jsonl holds each iteration once, as the uninterrupted run wrote it');
      const csv = (await fs.readFile(path.join(dir, 'metrics.csv'), 'utf8')).trim().split('\n');
      assert.equal(csv.length, ITERATIONS + 1, 'metrics.csv: a header and one row per iteration');
      assert.deepEqual(csv.slice(1).map((l) => Number(l.split(',')[csv[0].split(',').indexOf('iteration')])), Array.from({ length: ITERATIONS }, (_, i) => i + 1));
      const evalOf = async (d: string) => ({ ...JSON.parse(await fs.readFile(path.join(d, 'eval.json'), 'utf8')), wallSeconds: 0 });
      assert.deepEqual(await evalOf(dir), await evalOf(ref), 'the same evaluation');
      const left = (await fs.readdir(dir)).sort();
      assert.deepEqual(left, ['checkpoint.json', 'config.json', 'curve.svg', 'eval.json', 'metrics.csv', 'metrics.jsonl', 'policy.safetensors', b.manifest.weights.file].sort(), `no leftovers: ${left.join(', ')}\n${log.join('\n')}`);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
