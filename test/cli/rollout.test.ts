import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

/** Runs bin/cairn.mjs with args and returns its exit code and output. */
function cairn(...args: string[]) {
  const res = spawnSync(process.execPath, ['bin/cairn.mjs', ...args], { encoding: 'utf8' });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('cairn rollout', () => {
  it('runs the scripted push with a progress bar and prints speed and success as JSON', () => {
    const r = cairn('rollout', '--task', 'push', '--envs', '16', '--steps', '100', '--policy', 'scripted', '--workers', '2', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /rollout 100%/);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.task, 'Push');
    assert.equal(out.envSteps, 1600);
    assert.equal(out.episodes, 32);
    assert.ok(out.successRate >= 0.8, `scripted success ${out.successRate}`);
    assert.ok(out.envStepsPerSec > 0);
  });

  it('runs a random-initialized MLP policy on the WASM backend (--policy mlp)', () => {
    const r = cairn('rollout', '--task', 'reach', '--envs', '8', '--steps', '60', '--policy', 'mlp', '--backend', 'wasm', '--hidden', '16,16', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /policy network 13-16-16-4 on backend wasm/);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.policy, 'mlp');
    assert.equal(out.episodes, 8);
  });

  it('rejects bad flags with exit code 2 and a message naming the flag', () => {
    for (const [args, msg] of [
      [['rollout', '--policy', 'mpl'], /--policy must be one of random, scripted, mlp, got 'mpl'/],
      [['rollout', '--envs'], /flag --envs needs a value/],
      [['rollout', '--envs', 'many'], /flag --envs must be a number, got 'many'/],
      [['rollout', '--bogus', '1'], /unknown flag --bogus/],
      [['rollout', '--task', 'fly'], /unknown task 'fly'/],
      [['rollout', '--steps', '0'], /--steps must be a positive integer/],
      [['launch'], /unknown command 'launch'/],
      [['rollout', '--checkpoint', 'runs/x'], /--checkpoint, --hidden, --backend and --deterministic go with --policy mlp/],
      [['rollout', '--policy', 'mlp', '--checkpoint', '/nonexistent/run'], /checkpoint: no manifest at \/nonexistent\/run\/checkpoint.json/],
      [['rollout', '--policy', 'mlp', '--hidden', '16,x'], /--hidden must be comma-separated positive widths/],
    ] as const) {
      const r = cairn(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, msg);
    }
  });
});
