// A run directory is never overwritten by accident, and what a kill leaves in it is repaired at the next start.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cleanCheckpointDir, loadCheckpoint, saveCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { trainRun, type TrainRunOptions } from '../../engine/train/run.ts';
import { counterUniform } from '../../engine/rng.ts';
import { tempDirs } from '../helpers/tmp.ts';

const tmp = tempDirs('cairn-rundir-');
const quiet = () => {};
const options = (outDir: string, over: Partial<TrainRunOptions> = {}): TrainRunOptions => ({
  task: 'Reach', shaping: 'sparse', shapingWeight: 1, numEnvs: 4, numWorkers: 1, totalSteps: 4 * 50 * 6, seed: 2, outDir, backend: 'wasm', threads: 1, hidden: [8],
  ppo: { numSteps: 50, numMinibatches: 1, updateEpochs: 1 }, evalEpisodes: 4, resume: false, checkpointSeconds: 0, ...over,
});
const files = async (dir: string) => (await fs.readdir(dir)).sort();

describe('run directories', () => {
  it('a directory that holds a run is refused without --resume or --overwrite; --overwrite replaces it and keeps other files', async () => {
    const dir = tmp();
    await trainRun(options(dir), quiet, quiet);
    await fs.writeFile(path.join(dir, 'notes.txt'), 'mine');
    const before = await files(dir);
    await assert.rejects(trainRun(options(dir, { seed: 3 }), quiet, quiet), /already holds a run .* pass --resume to continue it or --overwrite to replace it/);
    assert.deepEqual(await files(dir), before);
    const r = await trainRun(options(dir, { seed: 3, overwrite: true }), quiet, quiet);
    assert.equal((await loadCheckpoint(dir)).manifest.seed, 3);
    assert.equal(r.envSteps, 4 * 50 * 6);
    assert.equal(await fs.readFile(path.join(dir, 'notes.txt'), 'utf8'), 'mine', 'files that are not run files stay');
    const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    assert.equal(config.run.seed, 3);
    assert.equal(config.cairn.name, 'cairn-rl');
    assert.match(config.cairn.version, /^\d+\.\d+\.\d+/);
  });

  it('resume drops a torn last metrics line, names a corrupt earlier one, and cleans leftovers of a killed write', async () => {
    const a = tmp(), b = tmp();
    await trainRun(options(a), quiet, quiet);
    await trainRun(options(b, { stopAfter: 3 }), quiet, quiet);
    const metrics = path.join(b, 'metrics.jsonl');
    const weights = (await loadCheckpoint(b)).manifest.weights.file;
    // What a kill leaves: half a metrics line, temporary files, weights no manifest names.
    await fs.appendFile(metrics, '{"iteration":4,"envSte');
    await fs.writeFile(path.join(b, `${weights}.tmp-123-456`), '');
    await fs.writeFile(path.join(b, 'checkpoint.json.tmp-123-457'), '{"form');
    await fs.writeFile(path.join(b, 'weights-0123456789abcdef.bin'), 'stale');
    let cleaned: string[] = [];
    await trainRun(options(b, { resume: true }), (info) => (cleaned = info.cleaned), quiet);
    assert.deepEqual(cleaned.sort(), [`${weights}.tmp-123-456`, 'checkpoint.json.tmp-123-457', 'weights-0123456789abcdef.bin'].sort());
    const pa = await loadCheckpoint(a), pb = await loadCheckpoint(b);
    assert.equal(pb.manifest.weights.sha256, pa.manifest.weights.sha256, 'the resumed run ends as the straight one');
    const rows = (await fs.readFile(metrics, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).iteration);
    assert.deepEqual(rows, [1, 2, 3, 4, 5, 6]);
    // A corrupt line that is not the last is not a crash artifact: it is named, and nothing is rewritten.
    const lines = (await fs.readFile(metrics, 'utf8')).split('\n');
    lines[1] = 'garbage';
    await fs.writeFile(metrics, lines.join('\n'));
    const snapshot = await fs.readFile(metrics, 'utf8');
    await assert.rejects(trainRun(options(b, { resume: true }), quiet, quiet), /metrics.jsonl line 2 is not JSON/);
    assert.equal(await fs.readFile(metrics, 'utf8'), snapshot);
  });

  it('resume of a finished run re-evaluates without training; resume of a run killed before its first checkpoint starts it over', async () => {
    const dir = tmp();
    await trainRun(options(dir), quiet, quiet);
    const sha = (await loadCheckpoint(dir)).manifest.weights.sha256;
    let info: { finished: boolean; startIteration: number } | null = null;
    let iterations = 0;
    await trainRun(options(dir, { resume: true }), (i) => (info = i), () => iterations++);
    assert.equal(info!.finished, true);
    assert.equal(iterations, 0);
    assert.equal((await loadCheckpoint(dir)).manifest.weights.sha256, sha, 'the checkpoint is untouched');
    // Killed before its first checkpoint: config.json and an empty metrics.jsonl only.
    const early = tmp();
    await trainRun(options(early), quiet, quiet);
    for (const f of await files(early)) if (f !== 'config.json') await fs.rm(path.join(early, f));
    await fs.writeFile(path.join(early, 'metrics.jsonl'), '');
    await trainRun(options(early, { resume: true }), quiet, quiet);
    assert.equal((await loadCheckpoint(early)).manifest.weights.sha256, sha, 'started over, it ends as the straight run');
    await assert.rejects(trainRun(options(early, { resume: true, seed: 9 }), quiet, quiet), /resume: the checkpoint .* was trained with/);
  });

  it('saving a checkpoint leaves one manifest and the one weights file it names; cleanCheckpointDir removes leftovers only', async () => {
    const dir = tmp();
    const norm = new RunningNormalizer(3);
    const params = (salt: number) => Float32Array.from({ length: 49 }, (_, i) => counterUniform(salt, i, 0, 0) - 0.5);
    const meta = { task: 'Reach', obsDim: 3, actDim: 2, hidden: [4], seed: 1, envSteps: 0, iteration: 0, adamStep: 0, normalizer: norm.state(), config: {} };
    await saveCheckpoint(dir, meta, { params: params(1) });
    const first = (await loadCheckpoint(dir)).manifest.weights.file;
    await saveCheckpoint(dir, { ...meta, iteration: 1 }, { params: params(2) });
    const second = (await loadCheckpoint(dir)).manifest.weights.file;
    assert.notEqual(first, second);
    assert.deepEqual(await files(dir), ['checkpoint.json', second].sort());
    await fs.writeFile(path.join(dir, 'mine.bin'), 'x');
    await fs.writeFile(path.join(dir, first), 'old');
    await fs.writeFile(path.join(dir, `${second}.tmp-1-2`), '');
    assert.deepEqual((await cleanCheckpointDir(dir)).sort(), [first, `${second}.tmp-1-2`].sort());
    assert.deepEqual(await files(dir), ['checkpoint.json', 'mine.bin', second].sort());
  });
});
