/**
 * Training in the browser tab against `cairn train` in Node, same settings (PBRS, WASM backend, seed 1, K backend
 * threads and one physics thread in both):
 * the median env-steps/s of their iterations, the page's wall time to 90% training success and to the end with its
 * evaluation, and the view's frame rate while it trains (headless Chromium from Debian, SwiftShader WebGL).
 *
 * Usage: node --import tsx bench/browser-train.ts [--task push] [--steps 5e6] [--envs 256] [--shown 9] [--threads 1]
 * Writes bench/results/browser-train-<host>[-tK].json (-tK for K > 1 threads) and the README table
 * 'browser-train' (one row pair per thread count measured, from every such result file).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exitWithHelpIfAsked, parseFlags } from '../engine/cli/args.ts';
import { cairnJson } from '../engine/lab/pool.ts';
import { launchChromium, openView, startVite } from '../test/browser/view-harness.ts';
import { TRAIN_VIEW_ENVS } from '../engine/view/train-params.ts';
import { gitCommit, machineInfo, markdownTable, updateReadmeTable } from './util.ts';

exitWithHelpIfAsked(process.argv.slice(2), import.meta.url);
const f = parseFlags(process.argv.slice(2), { task: 'string', steps: 'number', envs: 'number', shown: 'number', threads: 'number' });
const task = (f.task as string | undefined) ?? 'push';
const steps = (f.steps as number | undefined) ?? 5e6;
const envs = (f.envs as number | undefined) ?? 256;
const shown = (f.shown as number | undefined) ?? TRAIN_VIEW_ENVS;
const threads = (f.threads as number | undefined) ?? 1;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};

// Node: cairn train with the page's settings.
const dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-browser-'));
const t0 = performance.now();
const node = await cairnJson<{ successRate: number; envSteps: number; wallSeconds: number }>(
  ['train', '--task', task, '--shaping', 'pbrs', '--envs', String(envs), '--steps', String(steps), '--seed', '1', '--backend', 'wasm', '--threads', String(threads), '--out', path.join(dir, 'node'), '--json'], 'node train');
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
  await openView(page, url, `?train=1&task=${task}&steps=${steps}&trainEnvs=${envs}&backend=wasm&seed=1&envs=${shown}&threads=${threads}`, 60000);
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
  bench: 'browser-train', date: new Date().toISOString(), commit: gitCommit(), machine: machineInfo(), settings: { task, steps, envs, shown, shaping: 'pbrs', backend: 'wasm', threads, seed: 1 },
  node: { envStepsPerSec: Math.round(nodeSps), wallSeconds: +nodeWall.toFixed(1), evalSuccess: node.successRate, envStepsTo90: nodeTo90 },
  page: { envStepsPerSec: Math.round(pageSps), wallSeconds: +pageWall.toFixed(1), envSteps: pageSteps, evalSuccess: pageEval?.successRate ?? null, to90, fps: fpsSamples.map((x) => +x.toFixed(1)), medianFps: +median(fpsSamples).toFixed(1) },
  ratio: +(nodeSps / pageSps).toFixed(2),
};
mkdirSync('bench/results', { recursive: true });
const out = `bench/results/browser-train-${machineInfo().host}${threads > 1 ? `-t${threads}` : ''}.json`;
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
// One row pair per thread count measured on this host (this run's file and any other thread count's).
const host = machineInfo().host;
const files = readdirSync('bench/results').filter((n) => n === `browser-train-${host}.json` || new RegExp(`^browser-train-${host}-t\\d+\\.json$`).test(n));
const all = files.map((n) => JSON.parse(readFileSync(path.join('bench/results', n), 'utf8')) as typeof result).sort((a, b) => a.settings.threads - b.settings.threads);
const rows = all.flatMap((r) => [
  [`Node, \`cairn train --threads ${r.settings.threads}\``, r.node.envStepsPerSec.toLocaleString('en-US'), `${r.node.wallSeconds} s`, pct(r.node.evalSuccess), r.node.envStepsTo90 === null ? '—' : `${(r.node.envStepsTo90 / 1e6).toFixed(2)}M steps`, '—', r.commit],
  [`Chromium tab, \`threads=${r.settings.threads}\`, ${r.settings.shown} envs shown`, r.page.envStepsPerSec.toLocaleString('en-US'), `${r.page.wallSeconds} s`, pct(r.page.evalSuccess), r.page.to90 ? `${(r.page.to90.envSteps / 1e6).toFixed(2)}M steps, ${r.page.to90.seconds.toFixed(0)} s` : '—', String(r.page.medianFps), r.commit],
]);
const table = markdownTable(['where', 'env-steps/s (median)', 'wall time', 'eval success', 'to 90% training success', 'view frames/s while training', 'commit'], rows);
updateReadmeTable('browser-train', `${table}\n\n${task}, PBRS, ${envs} envs, ${steps.toLocaleString('en-US')} env steps, WASM backend, one physics thread, seed 1; the page shows the newest snapshot acting. Node over the page's env-steps/s: ${all.map((r) => `${r.ratio}× on ${r.settings.threads} thread(s)`).join(', ')}. ${result.machine.cpu} (${result.machine.cores} cores); \`node --import tsx bench/browser-train.ts --task ${task} --steps ${steps} --envs ${envs} --threads K\`.`);
console.log(JSON.stringify(result, null, 2));
console.log(`wrote ${out}`);
