/**
 * Checkpoint policies in the view (engine/view/policy.ts) in headless Chromium: a tiny `cairn train` run (Reach,
 * dense reward, 32 envs, 2e5 steps, hidden [16, 16], ~4 s on the WASM backend) writes a checkpoint under
 * test-results/, which Vite serves; the page loads it from `?policy=` and from the file picker, and the
 * counters it shows must equal what the same checkpoint does in Node (same env seed and N, mean action,
 * evaluatePolicy's loop), on the CPU backend that SwiftShader's software WebGPU leaves it with, on forced
 * WebGPU, and with no WebGPU at all. Broken checkpoints (truncated weights, a missing run, a wrong task, a
 * picked file missing) must be reported in the page. Screenshots go to test-results/ (the first also to
 * docs/screenshot.png for the README).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { makeEnv } from '../../engine/env.ts';
import { policySource } from '../../engine/rollout.ts';
import { loadCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { trainRun } from '../../engine/train/run.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { collectErrors, launchChromium, openView, REPO_ROOT, startVite } from './view-harness.ts';

const RESULTS = join(REPO_ROOT, 'test-results');
/** Where the run and the broken copies go (served by Vite as /test-results/view-policy/...). */
const RUNS = join(RESULTS, 'view-policy');
const RUN_URL = 'test-results/view-policy/reach/';
/** Envs and episode seed of the pages compared with Node. */
const N = 64;
const SEED = 7;

let server: ViteDevServer;
let baseUrl: string;
let browser: Awaited<ReturnType<typeof launchChromium>>;
/** The checkpoint's first round of episodes in Node: successes and mean sparse return of N episodes. */
let nodeRound: { successes: number; meanReturn: number; n: number };
let weightsBytes = 0;
/** The content-named weights file of the trained test run. */
let weightsFile = '';

/**
 * One round (50 steps) of N Reach episodes from reset(seed) with the checkpoint's mean action, as
 * evaluatePolicy acts (policySource, deterministic), on a one-thread env as the page has.
 */
async function nodeFirstRound(dir: string, n: number, seed: number) {
  const { manifest, arrays } = await loadCheckpoint(dir);
  const backend = await WasmBackend.create({ obsDim: manifest.obsDim, actDim: manifest.actDim, hidden: manifest.hidden, seed: manifest.seed, maxBatch: n, params: arrays.params });
  const env = await makeEnv(manifest.task, { numEnvs: n, seed, numWorkers: 1 });
  try {
    const norm = new RunningNormalizer(manifest.obsDim);
    norm.load(manifest.normalizer);
    const source = policySource(backend, norm, env, { deterministic: true });
    const actions = new Float32Array(n * env.actDim);
    let r = env.reset({ seed });
    let successes = 0, returns = 0, ended = 0;
    for (let t = 0; t < env.task.maxEpisodeSteps; t++) {
      await source.act(r, env, t, actions);
      r = env.step(actions);
      for (let i = 0; i < n; i++) {
        returns += r.reward[i];
        if (r.truncated[i] || r.terminated[i]) { ended++; successes += r.success[i]; }
      }
    }
    assert.equal(ended, n, 'every episode ends at step 50');
    return { successes, meanReturn: returns / n, n };
  } finally {
    backend.destroy();
    await env.close();
  }
}

before(async () => {
  rmSync(RUNS, { recursive: true, force: true });
  mkdirSync(RUNS, { recursive: true });
  mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true });
  const dir = join(RUNS, 'reach');
  const t0 = performance.now();
  await trainRun({
    task: 'Reach', shaping: 'dense', shapingWeight: 1, numEnvs: 32, numWorkers: 1, totalSteps: 2e5, seed: 1, outDir: dir, backend: 'wasm', hidden: [16, 16],
    ppo: {}, evalEpisodes: 32, resume: false, checkpointSeconds: 1e9,
  }, () => {}, () => {});
  console.log(`# trained the test checkpoint in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  nodeRound = await nodeFirstRound(dir, N, SEED);
  console.log(`# Node, ${N} Reach episodes from seed ${SEED}, mean action: ${nodeRound.successes} successes, mean return ${nodeRound.meanReturn.toFixed(3)}`);
  // Broken copies: weights cut short; a manifest that claims Push (whose inputs are 28, not 13).
  weightsFile = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).weights.file;
  const weights = readFileSync(join(dir, weightsFile));
  weightsBytes = weights.length;
  mkdirSync(join(RUNS, 'truncated'));
  copyFileSync(join(dir, 'checkpoint.json'), join(RUNS, 'truncated', 'checkpoint.json'));
  writeFileSync(join(RUNS, 'truncated', weightsFile), weights.subarray(0, 1000));
  mkdirSync(join(RUNS, 'wrong-task'));
  const m = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'));
  writeFileSync(join(RUNS, 'wrong-task', 'checkpoint.json'), JSON.stringify({ ...m, task: 'Push' }));
  copyFileSync(join(dir, weightsFile), join(RUNS, 'wrong-task', weightsFile));
  ({ server, url: baseUrl } = await startVite());
  browser = await launchChromium({ webgpu: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const state = (page: Page) => page.evaluate(() => window.cairnView!.state());

/** Waits until the page's state satisfies `pred` (checked every 50 ms), or fails with the last state. */
async function waitState(page: Page, what: string, pred: string, timeoutMs = 30000): Promise<void> {
  try {
    await page.waitForFunction(`(() => { const s = window.cairnView.state(); return ${pred}; })()`, undefined, { timeout: timeoutMs, polling: 50 });
  } catch (e) {
    throw new Error(`timed out waiting for ${what} (${pred}); last state ${JSON.stringify(await state(page))}`, { cause: e });
  }
}

/** Opens a page (optionally with navigator.gpu removed) on the view and returns it with its console errors. */
async function open(query: string, opts: { noWebGpu?: boolean } = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  if (opts.noWebGpu) {
    // What a browser without WebGPU looks like to the page: navigator.gpu is undefined.
    await page.addInitScript(() => Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true }));
  }
  await openView(page, baseUrl, query);
  return { page, errors };
}

/**
 * Waits for the first round of episodes (all N end together at step 50) and returns the counters then, before
 * the second round ends at step 100.
 */
async function firstRound(page: Page, n: number) {
  await waitState(page, 'the first round of episodes', `s.episodes >= ${n}`);
  const s = await state(page);
  assert.equal(s.episodes, n, `the first round was missed: ${s.episodes} episodes at step ${s.steps}`);
  return s;
}

test('a cairn train checkpoint loads from ?policy= (task switches, N stays), runs on the CPU next to a software GPU, and its counters equal Node\'s (docs/screenshot.png)', async () => {
  const { page, errors } = await open(`?task=push&envs=${N}&seed=${SEED}&policy=${RUN_URL}`);
  try {
    const s = await state(page);
    assert.equal(s.task, 'Reach', 'the checkpoint\'s task');
    assert.equal(s.numEnvs, N);
    assert.equal(s.policy, 'policy');
    assert.equal(s.checkpoint.status, 'ready');
    assert.equal(s.checkpoint.envSteps, 200_192); // 2e5 rounded up to whole iterations of 32 envs × 16 steps
    assert.deepEqual(s.checkpoint.hidden, [16, 16]);
    // Headless Chromium's WebGPU is SwiftShader, a fallback adapter: no real GPU, so the CPU backend runs it.
    assert.equal(s.webgpu, true);
    assert.equal(s.gpuReal, false);
    assert.equal(s.checkpoint.backend, 'wasm');
    assert.equal(await page.locator('#policy-backend').textContent(), 'CPU (WASM)');
    assert.equal(await page.locator('#task').inputValue(), 'Reach');
    assert.equal(await page.locator('#policy').inputValue(), 'policy');
    const note = page.locator('.note.warn', { hasText: 'no real GPU' });
    await note.waitFor({ state: 'visible', timeout: 5000 });
    assert.match((await note.textContent())!, /Policy network on CPU \(WASM\) — no real GPU: WebGPU here is a software adapter \(google \/ swiftshader\)/);
    assert.ok(s.notes.some((t) => t.startsWith('task=push: the checkpoint was trained on Reach')), JSON.stringify(s.notes));
    assert.match(page.url(), /task=reach&envs=64&shaping=sparse&policy=test-results%2Fview-policy%2Freach%2F&seed=7/);

    // The first round of N episodes: the same successes and returns as the checkpoint gives in Node.
    const r1 = await firstRound(page, N);
    assert.equal(r1.successes, nodeRound.successes, `page ${r1.successes} successes, Node ${nodeRound.successes}`);
    assert.ok(Math.abs(r1.meanReturn - nodeRound.meanReturn) < 1e-9, `page mean return ${r1.meanReturn}, Node ${nodeRound.meanReturn}`);
    // The tiny run has learned Reach: most of its episodes succeed (an untrained net's mean action succeeds in ~0).
    assert.ok(r1.successes >= 0.5 * N, `${r1.successes} of ${N} episodes succeeded`);
    // The counters go on updating, in the state and in the panel.
    await waitState(page, 'a second round', `s.episodes >= ${2 * N}`);
    const r2 = await state(page);
    assert.ok(r2.successes > r1.successes, `successes ${r1.successes} → ${r2.successes}`);
    assert.ok(Number.isFinite(r2.meanReturn) && r2.meanReturn > -50, `mean return ${r2.meanReturn}`);
    await page.waitForTimeout(600); // the panel redraws every 500 ms (PANEL_MS)
    const panel = Object.fromEntries(await page.locator('#stats dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])));
    assert.ok(Number(panel.successes) >= r2.successes, JSON.stringify(panel));
    assert.match(panel.return ?? '', /^-\d+\.\d$/);
    assert.match(await page.locator('#policy-info').textContent() ?? '', /Reach, dense reward, 200,192 env steps.*13 → 16 → 16 → 4/);
    await page.screenshot({ path: join(RESULTS, 'view-policy-reach.png') });
    // The README's screenshot: refreshed by `npm run docs:screenshot` (UPDATE_DOCS=1), so a plain test run leaves the tree clean.
    if (process.env.UPDATE_DOCS === '1') copyFileSync(join(RESULTS, 'view-policy-reach.png'), join(REPO_ROOT, 'docs', 'screenshot.png'));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('backend=webgpu runs the checkpoint\'s forward pass on WebGPU (SwiftShader) with the same outcomes up to float rounding', async () => {
  const n = 16;
  const node = await nodeFirstRound(join(RUNS, 'reach'), n, SEED);
  const { page, errors } = await open(`?envs=${n}&seed=${SEED}&backend=webgpu&policy=${RUN_URL}checkpoint.json`);
  try {
    const s = await state(page);
    assert.equal(s.policy, 'policy');
    assert.equal(s.checkpoint.backend, 'webgpu');
    assert.match((await page.locator('#policy-backend').textContent())!, /^WebGPU \(google \/ swiftshader\)$/);
    assert.ok(s.notes.some((t) => /Policy network on WebGPU .*as backend=webgpu asks.*software adapter/.test(t)), JSON.stringify(s.notes));
    const r = await firstRound(page, n);
    // GPU sums round differently from the CPU's; a success right at the 5 cm threshold may flip.
    assert.ok(Math.abs(r.successes - node.successes) <= 1, `page ${r.successes} successes on WebGPU, Node ${node.successes} on the CPU`);
    assert.ok(Math.abs(r.meanReturn - node.meanReturn) <= 1, `page mean return ${r.meanReturn}, Node ${node.meanReturn}`);
    await page.screenshot({ path: join(RESULTS, 'view-policy-webgpu.png') });
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('without WebGPU the checkpoint runs on the CPU and the page says so', async () => {
  const n = 16;
  const node = await nodeFirstRound(join(RUNS, 'reach'), n, SEED);
  const { page, errors } = await open(`?envs=${n}&seed=${SEED}&policy=${RUN_URL}`, { noWebGpu: true });
  try {
    const s = await state(page);
    assert.equal(s.webgpu, false);
    assert.equal(s.checkpoint.backend, 'wasm');
    assert.equal(s.policy, 'policy');
    const note = page.locator('.note.warn', { hasText: 'no WebGPU in this browser' });
    await note.waitFor({ state: 'visible', timeout: 5000 });
    assert.match((await note.textContent())!, /^Policy network on CPU \(WASM\) — no WebGPU in this browser \(no navigator\.gpu\)/);
    assert.equal(await page.locator('#policy-backend').textContent(), 'CPU (WASM)');
    const r = await firstRound(page, n);
    assert.equal(r.successes, node.successes);
    assert.ok(Math.abs(r.meanReturn - node.meanReturn) < 1e-9, `page mean return ${r.meanReturn}, Node ${node.meanReturn}`);
    await page.screenshot({ path: join(RESULTS, 'view-policy-no-webgpu.png') });
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('broken checkpoints are named in the page (truncated weights, no such run, wrong task) and the scene keeps running', async () => {
  const cases = [
    { dir: 'truncated', want: new RegExp(`${weightsFile.replace('.', '\\.')} holds 1000 bytes, the manifest says ${weightsBytes} \\(truncated or replaced\\)`), shot: 'view-policy-truncated' },
    { dir: 'no-such-run', want: /the manifest http:\/\/127\.0\.0\.1:\d+\/test-results\/view-policy\/no-such-run\/checkpoint\.json answered HTTP 404/, shot: null },
    { dir: 'wrong-task', want: /wrong task: its network maps 13 inputs to 4 actions, but Push gives 25 obs \+ 3 goal = 28 inputs/, shot: null },
  ];
  for (const c of cases) {
    const { page, errors } = await open(`?task=push&envs=4&policy=test-results/view-policy/${c.dir}/`);
    try {
      const note = page.locator('.note.error');
      await note.waitFor({ state: 'visible', timeout: 5000 });
      const text = (await note.textContent())!;
      assert.match(text, c.want);
      assert.match(text, /Nothing was loaded; actions come from the scripted source instead/);
      const s = await state(page);
      assert.equal(s.error, null, 'a bad checkpoint is not fatal');
      assert.equal(s.checkpoint.status, 'failed');
      assert.match(s.checkpoint.error!, c.want);
      assert.equal(s.task, 'Push');
      assert.equal(s.policy, 'scripted');
      assert.match((await page.locator('#policy-info dd.error').textContent())!, c.want);
      await waitState(page, 'steps with the scripted controller', 's.steps >= 5');
      if (c.shot) await page.screenshot({ path: join(RESULTS, `${c.shot}.png`) });
      // The browser itself logs the 404 of the missing manifest; nothing else may reach the console.
      assert.deepEqual(errors.filter((e) => !(c.dir === 'no-such-run' && /Failed to load resource: .*404/.test(e))), []);
    } finally {
      await page.close();
    }
  }
});

test('file picker: checkpoint.json + its weights file load the policy into a running page; a lone weights file is refused', async () => {
  const { page, errors } = await open('?task=push&envs=4&policy=random');
  try {
    await waitState(page, 'random Push steps', 's.steps >= 3');
    const dir = join(RUNS, 'reach');
    await page.setInputFiles('#checkpoint-files', [join(dir, weightsFile)]);
    await page.locator('.note.error', { hasText: `no checkpoint.json among the picked files (${weightsFile})` }).waitFor({ state: 'visible', timeout: 5000 });
    assert.equal((await state(page)).policy, 'random');
    await page.setInputFiles('#checkpoint-files', [join(dir, 'checkpoint.json'), join(dir, weightsFile)]);
    await waitState(page, 'the picked checkpoint to run', "s.checkpoint.status === 'ready' && s.task === 'Reach' && s.policy === 'policy' && s.ready && s.steps > 0", 15000);
    const s = await state(page);
    assert.equal(s.numEnvs, 4, 'N stays');
    assert.equal(s.checkpoint.origin, `checkpoint.json + ${weightsFile}`);
    assert.equal(await page.locator('.note.error').count(), 0, 'the earlier error note is gone');
    assert.doesNotMatch(page.url(), /policy=/); // picked files have no URL
    await waitState(page, 'a finished round', 's.episodes >= 4');
    // Switching the actions away and back keeps the loaded network.
    await page.selectOption('#policy', 'scripted');
    assert.equal((await state(page)).policy, 'scripted');
    await page.selectOption('#policy', 'policy');
    assert.equal((await state(page)).policy, 'policy');
    // Another task has no use for a Reach network: the actions fall back to scripted, and picking the policy goes back to Reach.
    await page.selectOption('#task', 'Push');
    await waitState(page, 'Push with the scripted controller', "s.task === 'Push' && s.policy === 'scripted' && s.steps > 0", 15000);
    await page.selectOption('#policy', 'policy');
    await waitState(page, 'back to the Reach policy', "s.task === 'Reach' && s.policy === 'policy' && s.steps > 0", 15000);
    await page.screenshot({ path: join(RESULTS, 'view-policy-file.png') });
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
