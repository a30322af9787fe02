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

describe('bench scripts --help', () => {
  it('prints the script\'s header with its usage line and every flag it parses, and exits 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    for (const script of ['bench/physics.ts', 'bench/learning.ts', 'bench/queue.ts', 'bench/browser-train.ts']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${script}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Usage: node --import tsx ${script}`), script);
      const flags = [...readFileSync(script, 'utf8').matchAll(/parseFlags\(process\.argv\.slice\(2\), \{([^}]*)\}/g)][0][1];
      for (const [, name] of flags.matchAll(/'?([a-z-]+)'?: '/g)) assert.ok(r.stdout.includes(`--${name}`), `${script} --help names --${name}`);
    }
  });
});

describe('cairn COMMAND --help and flag errors (commander)', () => {
  it('--help and -h print every flag with its description and default, and exit 0', async () => {
    const { COMMANDS, main } = await import('../../engine/cli/main.ts');
    for (const [name, { spec }] of Object.entries(COMMANDS)) {
      for (const h of ['--help', '-h']) {
        const printed: string[] = [];
        const l0 = console.log;
        console.log = (...a: unknown[]) => void printed.push(a.join(' '));
        let code: number;
        try {
          code = await main([name, h]);
        } finally {
          console.log = l0;
        }
        assert.equal(code, 0);
        const stdout = printed.join('\n');
        assert.match(stdout, new RegExp(`^Usage: cairn ${name} `));
        const flat = stdout.replace(/\s+/g, ' ');
        for (const [flag, f] of Object.entries(spec.flags)) {
          assert.ok(flat.includes(`--${flag}`), `${name} --help lists --${flag}`);
          assert.ok(flat.includes(f.help.replace(/\s+/g, ' ')), `${name} --help describes --${flag}`);
          if (f.default !== undefined) assert.ok(flat.includes(`(default: ${f.default})`), `${name} --help gives the default of --${flag}`);
        }
      }
    }
  });

  it('names a typo with the closest flag or command, and each strict rule in one line', async () => {
    const { parseCommand } = await import('../../engine/cli/command.ts');
    const { TRAIN_SPEC, EVAL_SPEC } = await import('../../engine/cli/train-command.ts');
    const bad: [typeof TRAIN_SPEC, string[], RegExp][] = [
      [TRAIN_SPEC, ['--stesp', '100'], /Error: unknown flag --stesp \(did you mean --steps\?\)$/],
      [TRAIN_SPEC, ['--sed', '3'], /Error: unknown flag --sed \(did you mean --seed\?\)$/],
      [TRAIN_SPEC, ['--seed', ''], /Error: flag --seed must be a number, got ''$/],
      [TRAIN_SPEC, ['--seed=abc'], /Error: flag --seed must be a number, got 'abc'$/],
      [TRAIN_SPEC, ['--seed', '--json'], /Error: flag --seed needs a value$/],
      [TRAIN_SPEC, ['--seed', '1', '--seed=2'], /Error: flag --seed is given twice$/],
      [TRAIN_SPEC, ['--resume=no'], /Error: flag --resume takes no value or =true \/ =false, got 'no'$/],
      [TRAIN_SPEC, ['word'], /Error: unexpected argument 'word'$/],
      [EVAL_SPEC, ['a', 'b'], /Error: unexpected argument 'b' \(cairn eval takes one RUN_DIR\)$/],
    ];
    for (const [spec, argv, msg] of bad) assert.throws(() => parseCommand(spec, argv), msg, argv.join(' '));
    assert.deepEqual(parseCommand(TRAIN_SPEC, ['--out=DIR/r=1', '--seed', '7', '--resume=false', '--json', '--num-steps', '50']), { out: 'DIR/r=1', seed: 7, 'num-steps': 50, resume: false, json: true });
    assert.deepEqual(parseCommand(EVAL_SPEC, ['runs/x', '--episodes=8']), { episodes: 8, positional: ['runs/x'] });
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['bin/cairn.mjs', 'trian'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command 'trian' \(did you mean train\?\)/);
  });

  it('the README\'s CLI section names every flag of every command', async () => {
    const { readFileSync } = await import('node:fs');
    const { COMMANDS } = await import('../../engine/cli/main.ts');
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('- CLI ('), readme.indexOf('\n## ', readme.indexOf('- CLI (')));
    for (const [name, { spec }] of Object.entries(COMMANDS)) {
      assert.ok(section.includes(`cairn ${name}`), `the README's CLI section shows cairn ${name}`);
      for (const flag of Object.keys(spec.flags)) assert.ok(section.includes(`--${flag}`), `the README's CLI section names ${name} --${flag}`);
    }
  });
});
