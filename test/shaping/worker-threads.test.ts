// Two worker threads attach kernels to one shared batch, each with its own slot, and run their slices
// concurrently; the owner switches the mode between steps. The result equals the reference on the whole batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createBatch, type Batch } from '../../engine/batch.ts';
import { ShapingKernel, ShapingReference } from '../../engine/shaping/index.ts';
import { PUSH_SUBGOALS } from '../../tasks/push.ts';
import { assertOutputsEqual, KITCHEN_SINK_SPEC, PUSH_POINTS, pushDims, randomReadback, randomState, rng } from './helpers.ts';

interface Reply { ok?: boolean; ready?: boolean; error?: string }

function startWorker(a: Batch, slot: number): Promise<Worker> {
  const w = new Worker(new URL('./fixtures/shaping-worker.mjs', import.meta.url), {
    workerData: { memory: a.memory, layout: a.layout, spec: KITCHEN_SINK_SPEC, pointNames: [...PUSH_POINTS], slot },
  });
  return new Promise((resolve, reject) => {
    w.once('message', (m: Reply) => (m.ready ? resolve(w) : reject(new Error(m.error))));
    w.once('error', reject);
  });
}

function run(w: Worker, msg: object): Promise<void> {
  return new Promise((resolve, reject) => {
    w.once('message', (m: Reply) => (m.ok ? resolve() : reject(new Error(m.error))));
    w.postMessage(msg);
  });
}

test('worker threads on a shared batch equal the reference; the owner sets the mode for all', async () => {
  const N = 50, SPLIT = 23;
  const a = createBatch(pushDims(N), { shared: true });
  const b = createBatch(pushDims(N));
  const owner = await ShapingKernel.create(a, KITCHEN_SINK_SPEC, PUSH_POINTS, { mode: 'pbrs', gamma: 0.98, weight: 1 });
  const ref = ShapingReference.create(b, KITCHEN_SINK_SPEC, PUSH_POINTS, { mode: 'pbrs', gamma: 0.98, weight: 1 });
  // A worker whose spec differs from the table is refused.
  await assert.rejects(ShapingKernel.attach(a, PUSH_SUBGOALS, PUSH_POINTS, { slot: 3 }), /does not hold this spec/);
  const workers = await Promise.all([startWorker(a, 1), startWorker(a, 2)]);
  const slices: [number, number][] = [[0, SPLIT], [SPLIT, N]];
  const all = (msg: object) => Promise.all(workers.map((w, j) => run(w, { ...msg, lo: slices[j][0], hi: slices[j][1] })));
  const copyInputs = () => {
    for (const f of ['points', 'gripperOpening', 'reward', 'success', 'terminated', 'truncated', 'done'] as const) b[f].set(a[f]);
  };
  try {
    let finished = 0;
    const r = rng(11);
    for (let i = 0; i < N; i++) randomState(a, i, r);
    copyInputs();
    await all({ cmd: 'reset', onlyDone: false });
    ref.reset();
    assertOutputsEqual(a, b, 'reset');
    for (let t = 0; t < 30; t++) {
      if (t === 15) {
        owner.setConfig({ mode: 'gated', weight: 2 });
        ref.setConfig({ mode: 'gated', weight: 2 });
        assertOutputsEqual(a, b, 'after setConfig');
      }
      for (let i = 0; i < N; i++) {
        randomState(a, i, r);
        randomReadback(a, i, r, 0.08);
      }
      copyInputs();
      await all({ cmd: 'step' });
      ref.step();
      assertOutputsEqual(a, b, `step ${t}`); // accumulators included, at every episode's end
      for (let i = 0; i < N; i++) if (a.done[i]) finished++;
      for (let i = 0; i < N; i++) if (a.done[i]) randomState(a, i, r);
      copyInputs();
      await all({ cmd: 'reset', onlyDone: true });
      ref.reset(0, N, true);
      assertOutputsEqual(a, b, `autoreset ${t}`);
    }
    assert.ok(finished > 100, `only ${finished} episodes finished`);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});
