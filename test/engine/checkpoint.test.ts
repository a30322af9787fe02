import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadCheckpoint, saveCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { counterUniform } from '../../engine/rng.ts';
import { tempDirs } from '../helpers/tmp.ts';

const seeded = (n: number, salt: number) => Float32Array.from({ length: n }, (_, i) => counterUniform(salt, i, 0, 0) * 2 - 1);

const tmpDir = tempDirs('cairn-ckpt-');

function meta(norm: RunningNormalizer) {
  return { task: 'Push', obsDim: 3, actDim: 2, hidden: [4], seed: 7, envSteps: 1000, iteration: 3, adamStep: 12, normalizer: norm.state(), config: { shaping: { mode: 'pbrs' } } };
}

describe('checkpoints', () => {
  it('round-trip params, Adam moments and normalizer state exactly', async () => {
    const dir = tmpDir();
    const norm = new RunningNormalizer(3);
    norm.update(seeded(30, 1), 10);
    const arrays = { params: seeded(49, 2), adamM: seeded(49, 3), adamV: seeded(49, 4).map(Math.abs) };
    await saveCheckpoint(dir, meta(norm), arrays);
    const back = await loadCheckpoint(dir);
    assert.deepEqual(back.arrays.params, arrays.params);
    assert.deepEqual(back.arrays.adamM, arrays.adamM);
    assert.deepEqual(back.arrays.adamV, arrays.adamV);
    assert.equal(back.manifest.adamStep, 12);
    const norm2 = new RunningNormalizer(3);
    norm2.load(back.manifest.normalizer);
    assert.deepEqual(norm2.state(), norm.state());
    assert.deepEqual((await fs.readdir(dir)).sort(), ['checkpoint.json', back.manifest.weights.file], 'no temporary files left');
    assert.match(back.manifest.weights.file, /^weights-[0-9a-f]{16}\.bin$/);
  });

  it('names the defect of a corrupt, truncated, missing or mismatched checkpoint', async () => {
    const dir = tmpDir();
    const norm = new RunningNormalizer(3);
    const saved = JSON.parse(await fs.readFile(await saveCheckpoint(dir, meta(norm), { params: seeded(49, 5) }), 'utf8'));
    const bin = path.join(dir, saved.weights.file), man = path.join(dir, 'checkpoint.json');
    const good = await fs.readFile(bin);
    const flipped = Buffer.from(good);
    flipped[5] ^= 0x40;
    await fs.writeFile(bin, flipped);
    await assert.rejects(loadCheckpoint(dir), /weights-[0-9a-f]{16}\.bin is corrupt \(SHA-256/);
    await fs.writeFile(bin, good.subarray(0, 100));
    await assert.rejects(loadCheckpoint(dir), /holds 100 bytes, the manifest says 196 \(truncated or replaced\)/);
    await fs.rm(bin);
    await assert.rejects(loadCheckpoint(dir), /weights file .* is missing/);
    await fs.writeFile(bin, good);
    const m = JSON.parse(await fs.readFile(man, 'utf8'));
    await fs.writeFile(man, JSON.stringify({ ...m, version: 99 }));
    await assert.rejects(loadCheckpoint(dir), /format version 99 is not supported/);
    await fs.writeFile(man, JSON.stringify({ ...m, numParams: 50 }));
    await assert.rejects(loadCheckpoint(dir), /a 3-4-2 network has 49 parameters, the manifest field numParams says 50/);
    await fs.writeFile(man, '{"format": "cairn-checkpoint", "vers');
    await assert.rejects(loadCheckpoint(dir), /is not valid JSON/);
    await assert.rejects(loadCheckpoint(path.join(dir, 'nope')), /no manifest at/);
  });
});

describe('RunningNormalizer', () => {
  it('matches the mean and variance of all rows seen, batch by batch', () => {
    const x = seeded(4 * 50, 9).map((v, i) => v * (1 + (i % 4)) + (i % 4));
    const n = new RunningNormalizer(4);
    n.update(x.subarray(0, 4 * 20), 20);
    n.update(x.subarray(4 * 20), 30);
    for (let k = 0; k < 4; k++) {
      let m = 0, v = 0;
      for (let i = 0; i < 50; i++) m += x[i * 4 + k] / 50;
      for (let i = 0; i < 50; i++) v += (x[i * 4 + k] - m) ** 2 / 50;
      // The prior (count 1e-4, mean 0, var 1) weighs 2e-6 of the total: tolerances reflect that.
      assert.ok(Math.abs(n.mean[k] - m) < 1e-4, `mean ${k}`);
      assert.ok(Math.abs(n.var[k] - v) < 1e-4 * (1 + v), `var ${k}`);
    }
    const out = new Float32Array(4);
    n.normalize(new Float32Array([n.mean[0], 1e9, n.mean[2] + Math.sqrt(n.var[2]), -1e9]), 1, out);
    assert.ok(Math.abs(out[0]) < 1e-5);
    assert.equal(out[1], 10, 'clipped at +10');
    assert.ok(Math.abs(out[2] - 1) < 1e-5);
    assert.equal(out[3], -10);
    assert.throws(() => n.load({ ...n.state(), dim: 5 }), /does not fit dim 4/);
  });
});
