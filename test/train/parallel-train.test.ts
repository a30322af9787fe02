// --threads wiring: createBackend gives ParallelWasmBackend for the WASM backend with threads > 1, refuses threads on
// forced WebGPU, and a tiny training run on 2 threads completes with finite losses and frees its threads.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ParallelWasmBackend } from '../../engine/nn/parallel-wasm-backend.ts';
import { trainRun } from '../../engine/train/run.ts';
import { createBackend } from '../../engine/nn/select-backend.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';

const OPTS = { obsDim: 13, actDim: 4, hidden: [16, 16], seed: 1, maxBatch: 256 };

test('createBackend: wasm with threads 1 is WasmBackend, with threads 2 ParallelWasmBackend; bad or misplaced threads throw', async () => {
  const one = await createBackend('wasm', OPTS);
  assert.ok(one.backend instanceof WasmBackend);
  one.backend.destroy();
  const two = await createBackend('wasm', { ...OPTS, threads: 2 });
  assert.ok(two.backend instanceof ParallelWasmBackend);
  assert.equal((two.backend as ParallelWasmBackend).threads, 2);
  assert.equal(two.backend.kind, 'wasm');
  assert.match(two.reason, /2 threads/);
  two.backend.destroy();
  await (two.backend as ParallelWasmBackend).whenStopped();
  await assert.rejects(createBackend('wasm', { ...OPTS, threads: 0 }), /threads must be a positive integer, got 0/);
  await assert.rejects(createBackend('webgpu', { ...OPTS, threads: 2 }), /threads = 2 applies to the wasm backend only/);
});

test('a tiny Reach run on 2 threads trains with finite losses and writes its checkpoint', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cairn-threads-'));
  try {
    let info: { backend: string; reason: string } | null = null;
    const r = await trainRun({
      task: 'reach', shaping: 'dense', shapingWeight: 1, numEnvs: 32, numWorkers: 1, totalSteps: 32 * 16 * 3, seed: 3, outDir: dir, backend: 'wasm', threads: 2,
      hidden: [16, 16], ppo: {}, evalEpisodes: 8, resume: false, checkpointSeconds: 1e9,
    }, (i) => { info = i; }, () => {});
    assert.equal(r.envSteps, 32 * 16 * 3);
    assert.equal(r.backend, 'wasm');
    assert.match(info!.reason, /2 threads/);
    const rows = (await readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 3);
    for (const m of rows) for (const v of Object.values(m.loss as Record<string, number>)) assert.ok(Number.isFinite(v), JSON.stringify(m.loss));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
