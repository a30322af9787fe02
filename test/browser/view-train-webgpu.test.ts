/**
 * Training in the page on WebGPU (SwiftShader's software adapter here, forced by backend=webgpu): the worker's
 * session builds the WebGPU backend, trains a short Reach run (PBRS, 32 envs, 2e4 steps), evaluates it and sends a
 * checkpoint that Node reads. A real GPU adapter would be taken by backend=auto; none is on the test machines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCheckpoint } from '../../engine/train/checkpoint.ts';
import { viewSession } from './view-harness.ts';

const session = viewSession({ webgpu: true });

test('a short Reach run trains in the page on WebGPU (SwiftShader) and its checkpoint decodes in Node', async () => {
  const { page, errors } = await session.open('?train=1&task=reach&steps=20000&trainEnvs=32&hidden=16,16&backend=webgpu&seed=1&envs=4');
  try {
    await page.waitForFunction(() => ['finished', 'failed'].includes(window.cairnView!.train().status), undefined, { timeout: 240000, polling: 250 });
    const s = await page.evaluate(() => window.cairnView!.train());
    assert.equal(s.status, 'finished', `training failed: ${s.error}`);
    assert.equal(s.backend, 'webgpu');
    assert.equal(s.envSteps, 20480);
    assert.ok(s.eval && s.eval.episodes === 500 && Number.isFinite(s.eval.successRate));
    const f = await page.evaluate(() => window.cairnView!.trainCheckpoint());
    const { manifest, arrays } = await decodeCheckpoint(f.manifestText, async () => new Uint8Array(Buffer.from(f.weightsBase64, 'base64')), 'browser checkpoint');
    assert.equal(manifest.config.backend, 'webgpu');
    assert.equal(manifest.iteration, 40);
    assert.ok(arrays.params.every(Number.isFinite), 'finite weights');
    const notes = await page.evaluate(() => window.cairnView!.state().notes);
    assert.ok(notes.some((n) => n.startsWith('training finished')), notes.join('\n'));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
