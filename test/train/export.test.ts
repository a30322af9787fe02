// policy.safetensors: named tensors that the README's numpy snippet turns into the same mean action as cairn eval.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../engine/cli/main.ts';
import { loadCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { decodeSafetensors } from '../../engine/train/safetensors.ts';
import { trainRun } from '../../engine/train/run.ts';
import { WasmBackend } from '../../engine/nn/wasm-backend.ts';
import { counterUniform } from '../../engine/rng.ts';
import { tempDirs } from '../helpers/tmp.ts';

const tmp = tempDirs('cairn-export-');

describe('safetensors export', () => {
  it('names every tensor, and the README snippet computes the mean action cairn eval takes (python3 + numpy)', async () => {
    const dir = tmp();
    await trainRun({
      task: 'Push', shaping: 'pbrs', shapingWeight: 20, numEnvs: 8, numWorkers: 1, totalSteps: 8 * 50 * 4, seed: 4, outDir: dir, backend: 'wasm', threads: 1, hidden: [32, 16],
      ppo: { numSteps: 50 }, evalEpisodes: 8, resume: false, checkpointSeconds: 0,
    }, () => {}, () => {});
    const { manifest, arrays } = await loadCheckpoint(dir);
    const file = path.join(dir, 'policy.safetensors');
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(await fs.readFile(file)));
    assert.deepEqual(Object.keys(tensors).sort(), [
      'obs_norm.mean', 'obs_norm.var', 'pi.0.bias', 'pi.0.weight', 'pi.1.bias', 'pi.1.weight', 'pi.2.bias', 'pi.2.weight', 'pi.log_std',
      'vf.0.bias', 'vf.0.weight', 'vf.1.bias', 'vf.1.weight', 'vf.2.bias', 'vf.2.weight',
    ]);
    assert.deepEqual(tensors['pi.0.weight'].shape, [32, 28]);
    assert.deepEqual(tensors['pi.2.weight'].shape, [4, 16]);
    assert.equal(metadata.task, 'Push');
    assert.deepEqual(Array.from(tensors['obs_norm.mean'].data), manifest.normalizer.mean);
    // cairn export writes the same bytes from the checkpoint.
    const again = path.join(dir, 'again.safetensors');
    const [l0] = [console.log];
    console.log = () => {};
    try {
      assert.equal(await main(['export', dir, '--out', again]), 0);
    } finally {
      console.log = l0;
    }
    assert.deepEqual(await fs.readFile(again), await fs.readFile(file));

    // 64 seeded inputs around the normalizer's mean, through the WASM backend's mean action and through numpy.
    const n = 64, d = manifest.obsDim;
    const inputs = Float32Array.from({ length: n * d }, (_, i) => manifest.normalizer.mean[i % d] + (counterUniform(9, i, 0, 0) * 2 - 1) * Math.sqrt(manifest.normalizer.var[i % d] + 1e-8) * 2);
    const norm = new RunningNormalizer(d);
    norm.load(manifest.normalizer);
    const x = new Float32Array(n * d);
    norm.normalize(inputs, n, x);
    const backend = await WasmBackend.create({ obsDim: d, actDim: manifest.actDim, hidden: manifest.hidden, seed: 1, maxBatch: n, params: arrays.params });
    const out = { action: new Float32Array(n * manifest.actDim), logProb: new Float32Array(n), value: new Float32Array(n) };
    await backend.act(x, n, { deterministic: true, step: 0 }, out);
    backend.destroy();

    const readme = await fs.readFile('README.md', 'utf8');
    const snippet = /<!-- safetensors-snippet -->\n```python\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(snippet, 'the README holds the snippet');
    const inputsFile = path.join(dir, 'inputs.json');
    await fs.writeFile(inputsFile, JSON.stringify({ n, d, x: Array.from(inputs) }));
    const py = `${snippet}\nimport sys\nt, m = load_policy(sys.argv[1])\nq = json.load(open(sys.argv[2]))\na = mean_action(t, m, np.array(q['x'], dtype=np.float64).reshape(q['n'], q['d']))\nprint(json.dumps(a.astype(float).ravel().tolist()))\n`;
    const r = spawnSync('python3', ['-c', py, file, inputsFile], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `python3 with numpy (Debian's python3-numpy): ${r.error?.message ?? ''}${r.stderr}`);
    const numpy = JSON.parse(r.stdout) as number[];
    assert.equal(numpy.length, out.action.length);
    let worst = 0;
    for (let i = 0; i < numpy.length; i++) worst = Math.max(worst, Math.abs(numpy[i] - out.action[i]));
    assert.ok(worst < 1e-4, `numpy and the WASM backend differ by up to ${worst}`);
    assert.ok(out.action.some((v) => Math.abs(v) > 1e-3), 'the actions are not all zero');
  });
});
