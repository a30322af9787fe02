// Settings that once hung or gave wrong answers: each now ends in a clear error, in a child process with a time limit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { makeEnv } from '../../index.ts';

/** Runs node with args under a time limit; the result, with timedOut when it was killed. */
function runLimited(args: string[], seconds: number) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: seconds * 1000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, timedOut: r.error?.message.includes('ETIMEDOUT') ?? false, seconds: (performance.now() - t0) / 1000 };
}

describe('no hangs', () => {
  for (const [probe, want] of [
    ['substeps', /physics.substeps and physics.solverIterations must be at most 1000/],
    ['env-substeps', /numEnvs × physics.substeps is 65536 × 1000 = 65536000, more than the 1048576/],
    ['solver-iterations', /physics.substeps and physics.solverIterations must be at most 1000/],
  ] as const) {
    it(`makeEnv with ${probe} out of bounds returns an error within 30 s`, () => {
      const r = runLimited(['--import', 'tsx', 'test/fixtures/hang-probe.ts', probe], 30);
      assert.ok(!r.timedOut, `hung: ${r.out}`);
      assert.match(r.out, want);
    });
  }

  it('cairn train --out /proc/x exits 2 within 30 s, naming the pseudo-filesystem', () => {
    const r = runLimited(['bin/cairn.mjs', 'train', '--task', 'reach', '--out', '/proc/x/run'], 30);
    assert.ok(!r.timedOut, `hung: ${r.out}`);
    assert.equal(r.status, 2);
    assert.match(r.out, /outDir \/proc\/x\/run is on the pseudo-filesystem \/proc/);
  });

  it('cairn explore --out /sys/x exits 2 within 30 s', () => {
    const r = runLimited(['bin/cairn.mjs', 'explore', '--out', '/sys/x'], 30);
    assert.ok(!r.timedOut, `hung: ${r.out}`);
    assert.equal(r.status, 2);
    assert.match(r.out, /--out \/sys\/x is on the pseudo-filesystem \/sys/);
  });
});

describe('non-finite goals are never a success', () => {
  it('computeReward gives −1 and isSuccess 0 for NaN, Inf against Inf, and −Inf goals', async () => {
    const env = await makeEnv('Push', { numEnvs: 1 });
    try {
      const achieved = new Float32Array([Number.NaN, 0, 0, Infinity, 0, 0, -Infinity, 1, 1, 0.5, 0.5, 0.5]);
      const desired = new Float32Array([0, 0, 0, Infinity, 0, 0, -Infinity, 1, 1, 0.5, 0.5, 0.5]);
      assert.deepEqual(Array.from(env.computeReward(achieved, desired)), [-1, -1, -1, 0]);
      assert.deepEqual(Array.from(env.isSuccess(achieved, desired)), [0, 0, 0, 1]);
    } finally {
      await env.close();
    }
  });
});
