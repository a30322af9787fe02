/**
 * Training in the browser tab against `cairn train` in Node, same settings (PBRS, WASM backend, one thread, seed 1):
 * the median env-steps/s of their iterations, the page's wall time to 90% training success and to the end with its
 * evaluation, and the view's frame rate while it trains (headless Chromium from Debian, SwiftShader WebGL).
 *
 * Usage: node --import tsx bench/browser-train.ts [--task push] [--steps 5e6] [--envs 256] [--shown 64]
 * Writes bench/results/browser-train-<host>.json and the README table 'browser-train'.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFlags } from '../engine/cli/args.ts';
import { cairnJson } from '../engine/lab/pool.ts';
import { launchChromium, openView, startVite } from '../test/browser/view-harness.ts';
import { gitCommit, machineInfo, markdownTable, updateReadmeTable } from './util.ts';

const f = parseFlags(process.argv.slice(2), { task: 'string', steps: 'number', envs: 'number', shown: 'number' });
const task = (f.task as string | undefined) ?? 'push';
const steps = (f.steps as number | undefined) ?? 5e6;
const envs = (f.envs as number | undefined) ?? 256;
const shown = (f.shown as number | undefined) ?? 64;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};

// Node: cairn train with the page's settings.
const dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-browser-'));
const t0 = performance.now();
const node = await cairnJson<{ successRate: number; envSteps: number; wallSeconds: number }>(
  ['train', '--task', task, '--shaping', 'pbrs', '--envs', String(envs), '--steps', String(steps), '--seed', '1', '--backend', 'wasm', '--threads', '1', '--out', path.join(dir, 'node'), '--json'], 'node train');
const nodeWall = (performance.now() - t0) / 1000;
const nodeRows = readFileSync(path.join(dir, 'node', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sps: number; envSteps: number; successRate: number; episodes: number });
const nodeSps = median(nodeRows.map((r) => r.sps));
const nodeTo90 = nodeRows.find((r) => r.episodes > 0 && r.successRate >= 0.9)?.envSteps ?? null;

// The page: the same run from the URL, sampled every second.
const { server, url } = await startVite();
const browser = await launchChromium({ webgpu: false });
let page: Awaited<ReturnType<typeof browser.context.newPage>>;
const samples: number[] = [], fpsSamples: number[] = [];
let to90: { seconds: number; envSteps: number } | null = null;
let pageEval: { successRate: number; episodes: number } | null = null;
let pageWall = 0, pageSteps = 0;
try {
  page = await browser.context.newPage();
  await openView(page, url, `?train=1&task=${task}&steps=${steps}&trainEnvs=${envs}&backend=wasm&seed=1&envs=${shown}`, 60000);
  const start = performance.now();
  let lastFps = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const s = await page.evaluate(() => window.cairnView!.train());
    if (s.status === 'failed') throw new Error(`page: ${s.error}`);
    if (s.status === 'running' && s.sps > 0) samples.push(s.sps);
    if (!to90 && s.successRate >= 0.9) to90 = { seconds: (performance.now() - start) / 1000, envSteps: s.envSteps };
    if (s.status === 'running' && performance.now() - lastFps > 15000) {
      fpsSamples.push((await page.evaluate(() => window.cairnView!.measure(2000))).fps);
      lastFps = performance.now();
    }
    if (s.status === 'finished') {
      pageWall = (performance.now() - start) / 1000;
      pageSteps = s.envSteps;
      pageEval = s.eval && { successRate: s.eval.successRate, episodes: s.eval.episodes };
      break;
    }
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

const pageSps = median(samples);
const result = {
  bench: 'browser-train', date: new Date().toISOString(), commit: gitCommit(), machine: machineInfo(), settings: { task, steps, envs, shown, shaping: 'pbrs', backend: 'wasm', threads: 1, seed: 1 },
  node: { envStepsPerSec: Math.round(nodeSps), wallSeconds: +nodeWall.toFixed(1), evalSuccess: node.successRate, envStepsTo90: nodeTo90 },
  page: { envStepsPerSec: Math.round(pageSps), wallSeconds: +pageWall.toFixed(1), envSteps: pageSteps, evalSuccess: pageEval?.successRate ?? null, to90, fps: fpsSamples.map((x) => +x.toFixed(1)), medianFps: +median(fpsSamples).toFixed(1) },
  ratio: +(nodeSps / pageSps).toFixed(2),
};
mkdirSync('bench/results', { recursive: true });
const out = `bench/results/browser-train-${machineInfo().host}.json`;
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
const table = markdownTable(['where', 'env-steps/s (median)', 'wall time', 'eval success', 'to 90% training success', 'view frames/s while training'], [
  ['Node, `cairn train`', result.node.envStepsPerSec.toLocaleString('en-US'), `${result.node.wallSeconds} s`, pct(result.node.evalSuccess), nodeTo90 === null ? '—' : `${(nodeTo90 / 1e6).toFixed(2)}M steps`, '—'],
  ['Chromium tab, Train box', result.page.envStepsPerSec.toLocaleString('en-US'), `${result.page.wallSeconds} s`, pct(result.page.evalSuccess), to90 ? `${(to90.envSteps / 1e6).toFixed(2)}M steps, ${to90.seconds.toFixed(0)} s` : '—', String(result.page.medianFps)],
]);
updateReadmeTable('browser-train', `${table}\n\n${task}, PBRS, ${envs} envs, ${steps.toLocaleString('en-US')} env steps, WASM backend on one thread, seed 1; the page shows ${shown} envs acting with the newest snapshot. Node is ${result.ratio}× the page's env-steps/s. ${result.machine.cpu} (${result.machine.cores} cores), commit ${result.commit}; \`node --import tsx bench/browser-train.ts --task ${task} --steps ${steps} --envs ${envs}\`.`);
console.log(JSON.stringify(result, null, 2));
console.log(`wrote ${out}`);
