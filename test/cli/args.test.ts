import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFlags } from '../../engine/cli/args.ts';

const SCHEMA = { out: 'string', seed: 'number', resume: 'boolean', json: 'boolean' } as const;

describe('parseFlags', () => {
  it('splits at the first = only, reads inline booleans, and parses numbers', () => {
    assert.deepEqual(parseFlags(['--out=DIR/r=1', '--seed', '7', '--resume=false', '--json'], SCHEMA), { out: 'DIR/r=1', seed: 7, resume: false, json: true });
    assert.deepEqual(parseFlags(['--seed=1e3', '--resume=true'], SCHEMA), { seed: 1000, resume: true });
  });

  it('refuses empty, non-numeric and repeated values, values on booleans, unknown flags and stray words', () => {
    const bad: [string[], RegExp][] = [
      [['--seed', ''], /flag --seed must be a number, got ''/],
      [['--seed='], /flag --seed must be a number, got ''/],
      [['--seed', ' '], /flag --seed must be a number/],
      [['--seed', 'x1'], /flag --seed must be a number, got 'x1'/],
      [['--seed', 'Infinity'], /flag --seed must be a number/],
      [['--seed'], /flag --seed needs a value/],
      [['--seed', '--json'], /flag --seed needs a value/],
      [['--resume=no'], /flag --resume takes no value or =true \/ =false, got 'no'/],
      [['--seed', '1', '--seed', '2'], /flag --seed is given twice/],
      [['--bogus'], /unknown flag --bogus/],
      [['word'], /unexpected argument 'word'/],
    ];
    for (const [argv, msg] of bad) assert.throws(() => parseFlags(argv, SCHEMA), msg, argv.join(' '));
  });
});

describe('cairn COMMAND --help', () => {
  it('prints each command\'s usage and exits 0', async () => {
    const { spawnSync } = await import('node:child_process');
    for (const cmd of ['train', 'eval', 'rollout', 'replay', 'explore']) {
      const r = spawnSync(process.execPath, ['bin/cairn.mjs', cmd, '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: cairn ${cmd} `));
    }
  });
});
