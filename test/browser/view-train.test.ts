/**
 * Training in the page (engine/view/view-trainer.ts, train-worker.ts) in headless Chromium: a tiny Reach run (PBRS,
 * 32 envs, 1e5 steps, hidden [16, 16], WASM backend, one thread) started from the URL trains in a Web Worker to
 * ≥ 90% success, with the same weights, bit for bit, as `trainRun` in Node with the same settings, on one thread
 * and (the page being cross-origin isolated) on two backend threads and two physics workers; its checkpoint,
 * downloaded from the Train box, loads in Node and evaluates there to the page's success. Pause holds the iteration
 * count and resume moves it again; stop ends the run with a checkpoint; bad training parameters fall back with a
 * note; the page logs no console error; the frame rate while training is reported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { loadCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { evalSeed, evaluatePolicy } from '../../engine/train/evaluate.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { trainRun } from '../../engine/train/run.ts';
import type { TrainState } from '../../engine/view/view-trainer.ts';
import { viewSession } from './view-harness.ts';

const session = viewSession({ webgpu: false });
const TINY = { task: 'reach', steps: 100000, envs: 32, hidden: [16, 16], seed: 1 };
const TINY_QUERY = `?train=1&task=${TINY.task}&steps=${TINY.steps}&trainEnvs=${TINY.envs}&hidden=${TINY.hidden.join(',')}&backend=wasm&seed=${TINY.seed}&envs=16`;

function trainState(page: Page): Promise<TrainState> {
  return page.evaluate(() => window.cairnView!.train());
}

/** Waits until the page's run is in one of `statuses` (a failed run throws its error). */
async function waitForStatus(page: Page, statuses: string[], timeoutMs = 120000): Promise<TrainState> {
  await page.waitForFunction((want) => {
    const s = window.cairnView!.train();
    return want.includes(s.status) || s.status === 'failed';
  }, statuses, { timeout: timeoutMs, polling: 100 });
  const s = await trainState(page);
  if (s.status === 'failed') throw new Error(`training failed in the page: ${s.error}`);
  return s;
}

/** The weights hash of TINY trained in Node (trainRun, WASM backend) on `threads` backend threads and `workers` physics threads, into outDir. */
async function nodeWeightsHash(outDir: string, threads: number, workers: number): Promise<string> {
  await trainRun({
    task: TINY.task, shaping: 'pbrs', shapingWeight: 20, numEnvs: TINY.envs, numWorkers: workers, totalSteps: TINY.steps, seed: TINY.seed, outDir, backend: 'wasm', threads,
    hidden: TINY.hidden, ppo: {}, evalEpisodes: 500, resume: false, checkpointSeconds: 1e9,
  }, () => undefined, () => undefined);
  return (await loadCheckpoint(outDir)).manifest.weights.sha256;
}

test('a tiny Reach run trains in the page to ≥ 90%, bit for bit as in Node, and its downloaded checkpoint evaluates the same in Node', async () => {
  const { page, errors } = await session.open(TINY_QUERY);
  const dir = mkdtempSync(join(tmpdir(), 'cairn-view-train-'));
  try {
    const done = await waitForStatus(page, ['finished']);
    assert.ok(done.eval && done.eval.successRate >= 0.9, `eval success ${done.eval?.successRate}`);
    assert.equal(done.backend, 'wasm');
    assert.equal(done.envSteps, 100352, 'whole iterations of 32 envs × 16 steps');
    // The scene shows the trained policy acting.
    await page.waitForFunction(() => window.cairnView!.state().checkpoint.status === 'ready' && window.cairnView!.state().policy === 'policy', undefined, { timeout: 30000 });
    // The Train box's download: checkpoint.json and its weights file.
    const downloads: { name: string; path: string }[] = [];
    page.on('download', async (d) => downloads.push({ name: d.suggestedFilename(), path: await d.path() }));
    await page.click('#train-download');
    await page.waitForFunction(() => true, undefined, { timeout: 1000 }).catch(() => undefined);
    for (let i = 0; i < 100 && downloads.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(downloads.length, 2, 'two downloads');
    for (const d of downloads) writeFileSync(join(dir, d.name), readFileSync(d.path));
    const names = downloads.map((d) => d.name).sort();
    assert.equal(names[0], 'checkpoint.json');
    assert.match(names[1], /^weights-[0-9a-f]{16}\.bin$/);
    // Node reads the browser's checkpoint and evaluates it as `cairn eval` does: the page's success, exactly.
    const { manifest, arrays } = await loadCheckpoint(dir);
    assert.equal(manifest.task, 'Reach');
    assert.equal((manifest.config as { trainedIn?: string }).trainedIn, 'browser');
    const backend = await WasmBackend.create({ obsDim: manifest.obsDim, actDim: manifest.actDim, hidden: manifest.hidden, seed: manifest.seed, maxBatch: 500, params: arrays.params });
    try {
      const normalizer = new RunningNormalizer(manifest.obsDim);
      normalizer.load(manifest.normalizer);
      const node = await evaluatePolicy(manifest.task, backend, normalizer, 500, evalSeed(manifest.seed));
      assert.equal(node.successRate, done.eval!.successRate, 'Node evaluates the browser checkpoint to the page\'s success');
    } finally {
      backend.destroy();
    }
    // The same settings in Node (trainRun, WASM backend, one thread): the same weights, bit for bit.
    assert.equal(manifest.weights.sha256, await nodeWeightsHash(join(dir, 'node-run'), 1, 1), 'browser and Node weights differ');
    assert.deepEqual(errors, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await page.close();
  }
});

test('the page is cross-origin isolated and trains on several threads (threads=2, workers=2) with the weights of Node on as many', async () => {
  const { page, errors } = await session.open(`${TINY_QUERY}&threads=2&workers=2`);
  const dir = mkdtempSync(join(tmpdir(), 'cairn-view-train-threads-'));
  try {
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the dev server sends COOP and COEP');
    const done = await waitForStatus(page, ['finished']);
    assert.ok(done.eval && done.eval.successRate >= 0.9, `eval success ${done.eval?.successRate}`);
    const f = await page.evaluate(() => window.cairnView!.trainCheckpoint());
    const manifest = JSON.parse(f.manifestText) as { weights: { sha256: string }; config: { run: { threads: number; numWorkers: number } } };
    assert.deepEqual([manifest.config.run.threads, manifest.config.run.numWorkers], [2, 2]);
    const nodeHash = await nodeWeightsHash(dir, 2, 2);
    if (manifest.weights.sha256 !== nodeHash) {
      // Where the two runs part: the first iteration whose PPO loss differs (the page's metrics against Node's metrics.jsonl).
      const pageLosses = await page.evaluate(() => window.cairnView!.trainLosses());
      const nodeLosses = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: { loss: number } }).loss.loss);
      const k = nodeLosses.findIndex((v, i) => v !== pageLosses[i]);
      assert.fail(`browser and Node weights differ on 2 threads (${manifest.weights.sha256.slice(0, 8)} against ${nodeHash.slice(0, 8)}); ` +
        `${pageLosses.length} and ${nodeLosses.length} iterations, losses first differ at iteration ${k + 1} (${pageLosses[k]} against ${nodeLosses[k]})`);
    }
    assert.deepEqual(errors, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await page.close();
  }
});

test('pause holds the run and resume moves it on; stop ends it with a checkpoint; the frame rate while training is reported', async () => {
  const { page, errors } = await session.open(`?train=1&task=reach&steps=3000000&trainEnvs=256&hidden=16,16&backend=wasm&seed=2&envs=16`);
  try {
    await page.waitForFunction(() => window.cairnView!.train().iteration >= 3, undefined, { timeout: 60000, polling: 100 });
    const timing = await page.evaluate(() => window.cairnView!.measure(2000));
    console.log(`# frame rate while training (Reach, 256 training envs, 16 shown): ${timing.fps.toFixed(1)} frames/s`);
    assert.ok(timing.fps > 0, 'frames drawn while training');
    // The snapshots (every 8 s) swap the policy into the running envs: no env or scene is built for them.
    const origin = () => page.evaluate(() => window.cairnView!.state().checkpoint.origin);
    await page.waitForFunction(() => window.cairnView!.state().policy === 'policy', undefined, { timeout: 30000, polling: 100 });
    const first = await origin(), builds = (await page.evaluate(() => window.cairnView!.state())).builds;
    await page.waitForFunction((o) => window.cairnView!.state().checkpoint.origin !== o, first, { timeout: 30000, polling: 100 });
    const after = await page.evaluate(() => window.cairnView!.state());
    assert.equal(after.builds, builds, `a snapshot rebuilt the scene (${first} → ${after.checkpoint.origin})`);
    assert.equal(after.policy, 'policy');
    await page.click('#train-pause');
    const paused = await waitForStatus(page, ['paused']);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await trainState(page)).iteration, paused.iteration, 'no iteration while paused');
    assert.equal(await page.textContent('#train-pause'), 'resume');
    await page.click('#train-pause');
    await page.waitForFunction((at) => window.cairnView!.train().iteration > at + 1, paused.iteration, { timeout: 30000, polling: 100 });
    await page.click('#train-stop');
    const stopped = await waitForStatus(page, ['finished']);
    assert.equal(stopped.eval, null, 'a stopped run is not evaluated');
    // Stop keeps the newest checkpoint taken where every env starts a new episode (every 25 iterations: 50-step episodes, 16 steps each).
    assert.ok(stopped.checkpointIteration !== null && stopped.checkpointIteration % 25 === 0 && stopped.checkpointIteration <= stopped.iteration, `checkpoint at ${stopped.checkpointIteration}`);
    assert.ok(stopped.iteration < 3000000 / (256 * 16), 'stopped before the end');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('bad training parameters fall back to defaults with a note, and the run still starts', async () => {
  const { page, errors } = await session.open('?train=1&task=reach&steps=20000&trainEnvs=0&threads=x&workers=99&hidden=16,x&backend=wasm&envs=4');
  try {
    const s = await waitForStatus(page, ['finished'], 180000);
    assert.ok(s.envSteps >= 20000);
    const notes = await page.evaluate(() => window.cairnView!.state().notes);
    assert.ok(notes.some((n) => n.startsWith('trainEnvs=0: expected an integer in [1, 4096]; using 256')), notes.join('\n'));
    assert.ok(notes.some((n) => n.startsWith('threads=x: expected an integer in [1, 16]; using 1')), notes.join('\n'));
    assert.ok(notes.some((n) => n.startsWith('workers=99: expected an integer in [1, 16]; using 1')), notes.join('\n'));
    assert.ok(notes.some((n) => n.startsWith('hidden=16,x: expected comma-separated positive widths')), notes.join('\n'));
    assert.equal(s.envSteps % (256 * 16), 0, 'trained with the default 256 envs');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('a run survives a page reload: it is saved in IndexedDB and continues from its checkpoint', async () => {
  const { page, errors } = await session.open('?train=1&task=reach&steps=3000000&trainEnvs=64&hidden=16,16&backend=wasm&seed=3&envs=4');
  try {
    // The first snapshot (every 8 s) is saved in IndexedDB.
    await page.waitForFunction(() => (window.cairnView!.train().checkpointIteration ?? 0) >= 25, undefined, { timeout: 90000, polling: 200 });
    const saved = (await trainState(page)).checkpointIteration!;
    assert.ok(!page.url().includes('train=1'), 'the page drops train=1 from its URL, so a reload does not start a new run');
    await page.reload();
    await page.waitForFunction(() => window.cairnView?.state().ready === true, undefined, { timeout: 30000 });
    await page.waitForFunction(() => window.cairnView!.state().notes.some((n) => n.startsWith('A training run is saved in this browser')), undefined, { timeout: 10000 });
    assert.equal(await page.isDisabled('#train-continue'), false);
    await page.click('#train-continue');
    await page.waitForFunction((at) => window.cairnView!.train().status === 'running' && window.cairnView!.train().iteration > at, saved, { timeout: 30000 });
    const s = await trainState(page);
    assert.ok(s.iteration >= saved && s.iterations === Math.ceil(3000000 / (64 * 16)), `continued at iteration ${s.iteration} of ${s.iterations} (saved at ${saved})`);
    await page.click('#train-stop');
    await waitForStatus(page, ['finished']);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('a finished run trains on past its end from the Train box: its last checkpoint continues, between episode boundaries, with a note', async () => {
  const { page, errors } = await session.open(TINY_QUERY);
  try {
    const first = await waitForStatus(page, ['finished']);
    // 196 iterations of 16 steps: not a multiple of the 25 iterations after which every env starts an episode.
    assert.equal(first.iteration, 196);
    await page.waitForFunction(() => window.cairnView!.state().checkpoint.status === 'ready', undefined, { timeout: 30000 });
    await page.fill('#train-steps', '150000');
    await page.click('#train-continue');
    await page.waitForFunction(() => window.cairnView!.train().iteration > 196 || window.cairnView!.train().status === 'failed', undefined, { timeout: 60000, polling: 100 });
    const s = await waitForStatus(page, ['finished']);
    assert.equal(s.envSteps, Math.ceil(150000 / 512) * 512, 'trained on to the new end');
    assert.ok(s.eval !== null && s.eval.successRate >= 0.9, `eval ${s.eval?.successRate}`);
    const notes = await page.evaluate(() => window.cairnView!.state().notes);
    assert.ok(notes.some((n) => n.startsWith('continued from iteration 196, between episode boundaries')), notes.join('\n'));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
