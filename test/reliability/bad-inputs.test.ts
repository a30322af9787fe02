// The bad-input corpus: every case must end in a clear error that names the problem, within a time limit,
// with no file of the sandbox (an existing run, spec files, broken checkpoint copies) changed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../engine/cli/main.ts';
import { makeEnv, type VecEnv } from '../../engine/env.ts';
import { createPolicy } from '../../engine/nn/create-policy.ts';
import { WasmPolicy } from '../../engine/nn/wasm-policy.ts';
import { paramLayout } from '../../engine/nn/param-layout.ts';
import { loadCheckpoint } from '../../engine/train/checkpoint-fs.ts';
import { sha256Hex } from '../../engine/train/checkpoint.ts';
import { RunningNormalizer } from '../../engine/nn/normalizer.ts';
import { trainRun, type TrainRunOptions } from '../../engine/train/run.ts';

/** A case: what to do, and a pattern the error message must match (it names the field or the file). */
interface BadInput {
  name: string;
  run: () => unknown;
  error: RegExp;
}

/** Messages that mean a check is missing: a JavaScript error leaked instead of a named problem. */
const LEAKED = /Cannot read propert|is not a function|is not iterable|Invalid typed array length|out of bounds|Maximum call stack|Unexpected token|undefined \(reading/;

const sandbox = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-bad-inputs-'));
const at = (...p: string[]) => path.join(sandbox, ...p);
const RUN = at('run');
let env: VecEnv;

/** Every file below dir with its size, mtime and SHA-256 (directories by name), sorted. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    if (e.isDirectory()) out.push(`${p}/`);
    else {
      const st = await fs.stat(p);
      out.push(`${p} ${st.size} ${st.mtimeMs} ${createHash('sha256').update(await fs.readFile(p)).digest('hex')}`);
    }
  }
  return out.sort();
}

/** Runs the CLI in this process; resolves to its stderr when it exits 2, and throws when it exits otherwise. */
async function cliError(argv: string[]): Promise<string> {
  const err: string[] = [], log: string[] = [];
  const [e0, l0] = [console.error, console.log];
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  console.log = (...a: unknown[]) => void log.push(a.join(' '));
  let code: number;
  try {
    code = await main(argv);
  } finally {
    [console.error, console.log] = [e0, l0];
  }
  if (code !== 2) throw new Error(`ACCEPTED: exit ${code}; stdout ${log.join('\n')}; stderr ${err.join('\n')}`);
  return err.join('\n');
}

/** The message of what run() throws, or 'ACCEPTED' when it throws nothing. */
async function messageOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (e) {
    return (e as Error).message ?? String(e);
  }
  return 'ACCEPTED: no error';
}

const cli = (name: string, argv: string[], error: RegExp): BadInput => ({ name: `cairn ${name}`, run: async () => { throw new Error(await cliError(argv)); }, error });
/** `cairn train` on a tiny Reach run into `out`, with `flags` added (a flag given there replaces the default). */
function train(name: string, flags: string[], error: RegExp, out = at('fresh')): BadInput {
  const defaults: [string, string][] = [['--task', 'reach'], ['--envs', '4'], ['--steps', '400'], ['--backend', 'wasm'], ['--threads', '1'], ['--eval-episodes', '4'], ['--out', out]];
  const given = new Set(flags.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]));
  return cli(`train ${name}`, ['train', ...defaults.filter(([k]) => !given.has(k)).flat(), ...flags], error);
}

const tinyRun = (over: Partial<TrainRunOptions>): TrainRunOptions => ({
  task: 'Reach', shaping: 'sparse', shapingWeight: 1, numEnvs: 4, numWorkers: 1, totalSteps: 400, seed: 3, outDir: at('fresh'), backend: 'wasm', threads: 1, hidden: [8],
  ppo: { numSteps: 50, numMinibatches: 1, updateEpochs: 1 }, evalEpisodes: 4, resume: false, checkpointSeconds: 0, ...over,
});
const apiTrain = (name: string, over: Partial<TrainRunOptions> | null, error: RegExp): BadInput => ({ name: `trainRun ${name}`, run: () => trainRun(over === null ? (null as never) : tinyRun(over), () => {}, () => {}), error });

const okSpec = { stages: [{ name: 'near', predicate: { kind: 'distance', a: 'grip', b: 'goal', below: 0.05 }, progress: { a: 'grip', b: 'goal', sigma: 0.1 } }] };
const withStage = (over: Record<string, unknown>) => ({ stages: [{ ...okSpec.stages[0], ...over }] });
/** Spec files written once; each case names one. */
const SPECS: Record<string, unknown> = {
  'sigma-tiny': withStage({ progress: { a: 'grip', b: 'goal', sigma: 1e-300 } }),
  'sigma-huge': withStage({ progress: { a: 'grip', b: 'goal', sigma: 1e300 } }),
  'offset-huge': { points: { behind: { from: 'goal', awayFrom: 'grip', offset: 1e308 } }, stages: okSpec.stages },
  'below-negative': withStage({ predicate: { kind: 'distance', a: 'grip', b: 'goal', below: -1 } }),
  'unknown-point': withStage({ predicate: { kind: 'distance', a: 'grip', b: 'objet', below: 0.05 } }),
  'no-stages': { stages: [] },
  'no-progress': { stages: [{ name: 'near', predicate: okSpec.stages[0].predicate }] },
  'unknown-kind': withStage({ predicate: { kind: 'touch', a: 'grip', b: 'goal' } }),
  'stage-not-object': { stages: [42] },
  'height-huge': withStage({ predicate: { kind: 'height', point: 'grip', above: 1e20 } }),
};

/** Broken copies of the sandbox run's checkpoint: a manifest edit, or a replacement of the weights bytes. */
type Breakage = { manifest?: (m: Record<string, any>) => unknown; weights?: (b: Buffer, m: Record<string, any>) => Buffer | Promise<Buffer>; manifestText?: string };
const BROKEN: Record<string, Breakage & { error: RegExp }> = {
  'num-params-negative': { manifest: (m) => ({ ...m, numParams: -5 }), error: /numParams must be a non-negative integer, got -5/ },
  'num-params-wrong': { manifest: (m) => ({ ...m, numParams: m.numParams + 1 }), error: /has \d+ parameters, the manifest field numParams says/ },
  'no-weights-field': { manifest: (m) => ({ ...m, weights: undefined }), error: /weights.file is missing/ },
  'weights-path-escape': { manifest: (m) => ({ ...m, weights: { ...m.weights, file: '../../etc/passwd' } }), error: /weights.file is missing or not a plain file name/ },
  'weights-bytes-negative': { manifest: (m) => ({ ...m, weights: { ...m.weights, bytes: -5 } }), error: /weights.bytes must be a non-negative integer, got -5/ },
  'arrays-not-list': { manifest: (m) => ({ ...m, weights: { ...m.weights, arrays: 'params' } }), error: /weights.arrays must be a list/ },
  'array-length-negative': { manifest: (m) => ({ ...m, weights: { ...m.weights, arrays: [{ ...m.weights.arrays[0], length: -5 }] } }), error: /weights.arrays .* does not fit/ },
  'array-offset-past-end': { manifest: (m) => ({ ...m, weights: { ...m.weights, arrays: [{ ...m.weights.arrays[0], offset: 1e9 }] } }), error: /weights.arrays .* does not fit/ },
  'array-unknown-name': { manifest: (m) => ({ ...m, weights: { ...m.weights, arrays: [{ ...m.weights.arrays[0], name: 'bias' }] } }), error: /weights.arrays .* does not fit/ },
  'sha-not-hex': { manifest: (m) => ({ ...m, weights: { ...m.weights, sha256: 'xyz' } }), error: /weights.sha256 must be 64 hex digits/ },
  'no-normalizer': { manifest: (m) => ({ ...m, normalizer: undefined }), error: /normalizer is missing/ },
  'normalizer-short': { manifest: (m) => ({ ...m, normalizer: { ...m.normalizer, mean: m.normalizer.mean.slice(1) } }), error: /normalizer.mean must be a list of \d+ numbers/ },
  'normalizer-var-negative': { manifest: (m) => ({ ...m, normalizer: { ...m.normalizer, var: m.normalizer.var.map((v: number, i: number) => (i === 2 ? -1 : v)) } }), error: /normalizer.var\[2\] is -1, not a finite non-negative float32/ },
  'normalizer-mean-null': { manifest: (m) => ({ ...m, normalizer: { ...m.normalizer, mean: m.normalizer.mean.map((v: number, i: number) => (i === 0 ? null : v)) } }), error: /normalizer.mean\[0\] is null/ },
  'normalizer-count-zero': { manifest: (m) => ({ ...m, normalizer: { ...m.normalizer, count: 0 } }), error: /normalizer.count must be a finite positive number/ },
  'normalizer-dim': { manifest: (m) => ({ ...m, normalizer: { ...m.normalizer, dim: 3 } }), error: /normalizer.dim is 3, the network takes \d+ inputs/ },
  'hidden-huge': { manifest: (m) => ({ ...m, hidden: [1e6, 1e6] }), error: /hidden\[0\] is 1000000, more than the 4096/ },
  'hidden-text': { manifest: (m) => ({ ...m, hidden: 'abc' }), error: /hidden must be a list of positive integers/ },
  'obs-dim-zero': { manifest: (m) => ({ ...m, obsDim: 0 }), error: /obsDim must be a positive integer, got 0/ },
  'task-number': { manifest: (m) => ({ ...m, task: 5 }), error: /task must be a string/ },
  'format-foreign': { manifest: (m) => ({ ...m, format: 'torch' }), error: /is not a cairn checkpoint \(format "torch"\)/ },
  'version-future': { manifest: (m) => ({ ...m, version: 2 }), error: /format version 2 is not supported/ },
  'manifest-not-json': { manifestText: '{"format": "cairn-checkpoint", "vers', error: /checkpoint.json is not valid JSON/ },
  'manifest-empty': { manifestText: '', error: /checkpoint.json is not valid JSON/ },
  'manifest-array': { manifestText: '[1, 2, 3]', error: /is not a cairn checkpoint/ },
  'weights-truncated': { weights: (b) => b.subarray(0, 1000), error: /holds 1000 bytes, the manifest says \d+ \(truncated or replaced\)/ },
  'weights-bit-flip': { weights: (b) => { const c = Buffer.from(b); c[123] ^= 0x10; return c; }, error: /is corrupt \(SHA-256/ },
  'weights-missing': { weights: () => Buffer.alloc(0), error: /weights file .* is missing/ },
};

/** Rewrites params[index] of a checkpoint's weights to v, with the manifest's SHA-256 updated to match. */
async function patchParam(dir: string, index: (m: Record<string, any>) => number, v: number): Promise<void> {
  const m = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8'));
  const file = path.join(dir, m.weights.file);
  const b = await fs.readFile(file);
  b.writeFloatLE(v, index(m) * 4);
  m.weights.sha256 = await sha256Hex(new Uint8Array(b));
  await fs.writeFile(file, b);
  await fs.writeFile(path.join(dir, 'checkpoint.json'), JSON.stringify(m));
}
const PATCHED: Record<string, { index: (m: Record<string, any>) => number; value: number; error: RegExp }> = {
  'param-huge': { index: () => 7, value: 1e30, error: /params hold 1\.0000000150474662e\+30 at index 7, beyond ±10000/ },
  'param-nan': { index: () => 3, value: Number.NaN, error: /params hold a non-finite value \(NaN at index 3\)/ },
  'log-std-huge': { index: (m) => paramLayout(m.obsDim, m.actDim, m.hidden).logStdOffset + 1, value: 1000, error: /logStd\[1\] is 1000, outside \[-20, 20\]/ },
};

const cases: BadInput[] = [
  // Flags.
  cli('with an unknown command', ['trian'], /unknown command 'trian'/),
  train('with a typo in a flag', ['--stesp', '100'], /unknown flag --stesp/),
  train('with an empty --seed', ['--seed', ''], /--seed must be a number, got ''/),
  train('with an empty --lr', ['--lr', ''], /--lr must be a number, got ''/),
  train('with --lr abc', ['--lr', 'abc'], /--lr must be a number, got 'abc'/),
  train('with --lr -1', ['--lr', '-1'], /lr must be a finite number ≥ 0, got -1/),
  train('with --lr 1e300', ['--lr', '1e300'], /lr must be at most 1, got 1e\+300/),
  train('with --weight 1e300', ['--weight', '1e300', '--shaping', 'pbrs'], /shaping.weight: must be at most 1000000/),
  train('with --weight -1', ['--weight', '-1'], /shaping.weight: must be a finite number >= 0, got number -1/),
  train('with --init-log-std 1000', ['--init-log-std', '1000'], /initLogStd must be a number in \[-5, 2\], got 1000/),
  train('with --init-log-std -1e9', ['--init-log-std', '-1e9'], /initLogStd must be a number in \[-5, 2\]/),
  train('with --minibatches 100000', ['--minibatches', '100000'], /numMinibatches 100000 exceeds the 64 samples of an iteration \(numEnvs 4 × numSteps 16\)/),
  train('with --minibatches 0', ['--minibatches', '0'], /--minibatches must be a positive integer, got 0/),
  train('with --hidden 1000000,1000000', ['--hidden', '1000000,1000000'], /--hidden must be comma-separated positive widths, got '1000000,1000000'/),
  train('with --hidden abc', ['--hidden', 'abc'], /--hidden must be comma-separated positive widths/),
  train('with --hidden 64,,64', ['--hidden', '64,,64'], /--hidden must be comma-separated positive widths/),
  train('with --envs 0', ['--envs', '0'], /numEnvs must be an integer in \[1, \d+\], got 0/),
  train('with --envs 1.5', ['--envs', '1.5'], /numEnvs must be an integer/),
  train('with --envs 1e9', ['--envs', '1e9'], /numEnvs must be an integer in \[1, \d+\], got 1000000000/),
  train('with --steps 0', ['--steps', '0'], /--steps must be a positive number, got 0/),
  train('with --steps -5', ['--steps', '-5'], /--steps must be a positive number, got -5/),
  train('with --steps Infinity', ['--steps', 'Infinity'], /--steps must be a number, got 'Infinity'/),
  train('with --steps 1e300', ['--steps', '1e300'], /totalSteps must be a number in \[1, 10000000000000\]/),
  train('with --gamma 1.5', ['--gamma', '1.5'], /ppo.gamma must be in \(0, 1\], got 1.5/),
  train('with --gamma 0', ['--gamma', '0'], /ppo.gamma must be in \(0, 1\], got 0/),
  train('with --gae-lambda 2', ['--gae-lambda', '2'], /ppo.gaeLambda must be in \[0, 1\], got 2/),
  train('with --ent-coef -1', ['--ent-coef', '-1'], /entCoef must be a finite number ≥ 0, got -1/),
  train('with --ent-coef 1e30', ['--ent-coef', '1e30'], /entCoef must be at most 100/),
  train('with --epochs 0', ['--epochs', '0'], /--epochs must be a positive integer, got 0/),
  train('with --num-steps 2.5', ['--num-steps', '2.5'], /--num-steps must be a positive integer, got 2.5/),
  train('with --task nope', ['--task', 'nope'], /unknown task 'nope'/),
  train('with --shaping pbr', ['--shaping', 'pbr'], /--shaping must be one of sparse, dense, pbrs, bonus, gated, progress, got 'pbr'/),
  train('with --backend cuda', ['--backend', 'cuda'], /--backend must be one of .*, got 'cuda'/),
  train('with --threads 0', ['--threads', '0'], /--threads must be a positive integer, got 0/),
  train('with --threads 1e6', ['--threads', '1000000'], /threads must be an integer in \[1, 256\], got 1000000/),
  train('with --workers 0', ['--workers', '0'], /numWorkers must be an integer in \[1, \d+\], got 0/),
  train('with more workers than envs', ['--workers', '8'], /numWorkers must be an integer in \[1, 4\], got 8/),
  train('with --seed -1', ['--seed', '-1'], /seed must be an integer in \[0, 4294967295\], got -1/),
  train('with --seed 1.5', ['--seed', '1.5'], /seed must be an integer in \[0, 4294967295\], got 1.5/),
  train('with --seed 1e12', ['--seed', '1e12'], /seed must be an integer in \[0, 4294967295\]/),
  train('with --critic value', ['--critic', 'value'], /ppo.criticReward must be auto, shaped or task, got "value"/),
  train('with --norm-adv yes', ['--norm-adv', 'yes'], /--norm-adv must be true or false, got 'yes'/),
  train('with --eval-episodes 0', ['--eval-episodes', '0'], /--eval-episodes must be a positive integer, got 0/),
  train('with --checkpoint-seconds -1', ['--checkpoint-seconds', '-1'], /checkpointSeconds must be a number in \[0, 1000000000\], got -1/),
  train('with --stop-after 0', ['--stop-after', '0'], /--stop-after must be a positive integer, got 0/),
  train('with --value-out-gain 0', ['--value-out-gain', '0'], /valueOutGain must be a number in \[0.000001, 100\], got 0/),
  train('with --value-out-gain 1e9', ['--value-out-gain', '1e9'], /valueOutGain must be a number in \[0.000001, 100\]/),
  train('with --action-penalty -1', ['--action-penalty', '-1'], /ppo.actionPenalty must be a number ≥ 0, got -1/),
  train('with --bound-penalty NaN', ['--bound-penalty', 'NaN'], /--bound-penalty must be a number, got 'NaN'/),
  train('with --resume=maybe', ['--resume=maybe'], /flag --resume takes no value or =true \/ =false, got 'maybe'/),
  train('with a stray argument', ['extra'], /unexpected argument 'extra'/),
  train('with --out and no value', ['--out'], /flag --out needs a value/, ''),
  train('with --seed given twice', ['--seed', '1', '--seed', '2'], /flag --seed is given twice/),
  train('with --demo-share but no --starts', ['--demo-share', '0.5'], /--demo-share goes with --starts EXPLORE_DIR/),
  train('with --starts of a directory without an archive', ['--starts', at('specs')], /--starts: .* holds no exploration archive/),
  // Spec and DR files.
  train('with --subgoals of a missing file', ['--subgoals', at('nope.json')], /--subgoals: cannot read .*nope.json/),
  train('with --subgoals of a file that is not JSON', ['--subgoals', at('specs', 'not-json.json')], /--subgoals: .*not-json.json is not valid JSON/),
  ...Object.entries(SPECS).map(([name]) => train(`with the subgoal spec ${name}`, ['--shaping', 'pbrs', '--subgoals', at('specs', `${name}.json`)], specError(name))),
  train('with --dr of a missing file', ['--dr', at('nope.json')], /--dr: cannot read/),
  train('with --dr of an unknown field', ['--dr', at('specs', 'dr-unknown.json')], /domainRandomization.gravity: unknown field/),
  train('with --dr of a reversed range', ['--dr', at('specs', 'dr-reversed.json')], /domainRandomization.objectMass/),
  // Output directories.
  train('with --out on procfs', [], /pseudo-filesystem \/proc/, '/proc/x'),
  train('with --out through a file', [], /is a file, not a directory/, at('specs', 'not-json.json', 'run')),
  train('with --out of an existing run and no --resume', [], /already holds a run \(checkpoint.json, config.json, curve.svg, eval.json, metrics.csv, metrics.jsonl, policy.safetensors, weights-[0-9a-f]{16}\.bin\); pass --resume to continue it or --overwrite to replace it/, RUN),
  train('with --out of an existing run and a bad --lr', ['--lr', '-1'], /lr must be a finite number ≥ 0, got -1/, RUN),
  train('with --resume and --overwrite', ['--resume', '--overwrite'], /resume and overwrite exclude each other/, RUN),
  train('with --resume of an empty directory', ['--resume'], /holds no run to resume/, at('empty')),
  train('with --resume and another seed', ['--resume', '--seed', '9'], /resume: the checkpoint in .* was trained with/, RUN),
  // Other commands.
  cli('eval without a run directory', ['eval'], /eval needs a run directory/),
  cli('eval of a missing directory', ['eval', at('nope')], /no manifest at/),
  cli('eval with --episodes 0', ['eval', RUN, '--episodes', '0'], /--episodes must be a positive integer, got 0/),
  cli('eval with --backend cuda', ['eval', RUN, '--backend', 'cuda'], /backend must be one of .*, got 'cuda'/),
  cli('rollout with --steps 0', ['rollout', '--steps', '0'], /--steps must be a positive integer, got 0/),
  cli('rollout with --policy genius', ['rollout', '--policy', 'genius'], /--policy must be one of .*, got 'genius'/),
  cli('rollout with --record on procfs', ['rollout', '--steps', '10', '--record', '/proc/rec.bin'], /--record \/proc\/rec.bin is on the pseudo-filesystem/),
  cli('rollout with --record-episodes 0', ['rollout', '--record', at('rec.bin'), '--record-episodes', '0'], /--record-episodes must be an integer in \[1, 100000\], got 0/),
  cli('rollout with --checkpoint of a broken run', ['rollout', '--policy', 'mlp', '--checkpoint', at('broken', 'weights-truncated')], /holds 1000 bytes/),
  cli('explore without --out', ['explore'], /--out DIR is required/),
  cli('explore with --repeat 2', ['explore', '--out', at('fresh'), '--repeat', '2'], /repeatProb must be a probability in \[0, 1\], got 2/),
  cli('replay of a missing file', ['replay', at('nope.rec')], /nope.rec/),
  cli('replay of a file that is not a recording', ['replay', at('specs', 'not-json.json')], /not a cairn recording|too short|magic/i),
  // Checkpoint files, through cairn eval.
  ...Object.entries(BROKEN).map(([name, b]) => cli(`eval of a checkpoint with ${name}`, ['eval', at('broken', name), '--backend', 'wasm', '--episodes', '4'], b.error)),
  ...Object.entries(PATCHED).map(([name, b]) => cli(`eval of a checkpoint with ${name}`, ['eval', at('broken', name), '--backend', 'wasm', '--episodes', '4'], b.error)),
  { name: 'loadCheckpoint of a manifest with numParams -5', run: () => loadCheckpoint(at('broken', 'num-params-negative')), error: /numParams must be a non-negative integer/ },
  // The API.
  { name: 'makeEnv of an unknown task', run: () => makeEnv('Unicycle'), error: /unknown task 'Unicycle'/ },
  { name: 'makeEnv with null options', run: () => makeEnv('Push', null as never), error: /makeEnv: options must be an object/ },
  { name: 'makeEnv with numEnvs -1', run: () => makeEnv('Push', { numEnvs: -1 }), error: /numEnvs must be an integer/ },
  { name: 'makeEnv with numEnvs "4"', run: () => makeEnv('Push', { numEnvs: '4' as never }), error: /numEnvs must be an integer/ },
  { name: 'makeEnv with physics substeps 1e7', run: () => makeEnv('Push', { physics: { substeps: 1e7 } }), error: /physics.substeps .* must be at most 1000/ },
  { name: 'makeEnv with physics dt 1', run: () => makeEnv('Push', { physics: { dt: 1 } }), error: /physics.dt must be at most 0.01 s, got 1/ },
  { name: 'makeEnv with contact prediction 1 m', run: () => makeEnv('Push', { physics: { contactPrediction: 1 } }), error: /physics.contactPrediction must be at most 0.1 m .*got 1/ },
  { name: 'makeEnv with contact prediction 0', run: () => makeEnv('Push', { physics: { contactPrediction: 0 } }), error: /physics.contactPrediction must be a finite positive number, got 0/ },
  { name: 'makeEnv with physics dt NaN', run: () => makeEnv('Push', { physics: { dt: Number.NaN } }), error: /physics.dt must be a finite positive number, got NaN/ },
  { name: 'makeEnv with physics solverIterations 0', run: () => makeEnv('Push', { physics: { solverIterations: 0 } }), error: /physics.solverIterations must be a finite positive number, got 0/ },
  { name: 'makeEnv with physics envsPerWorld 2.5', run: () => makeEnv('Push', { physics: { envsPerWorld: 2.5 } }), error: /physics.envsPerWorld must be integers/ },
  { name: 'makeEnv with numEnvs × substeps beyond the bound', run: () => makeEnv('Push', { numEnvs: 65536, physics: { substeps: 1000 } }), error: /numEnvs × physics.substeps/ },
  { name: 'makeEnv with shaping weight 1e300', run: () => makeEnv('Push', { shaping: { mode: 'pbrs', weight: 1e300 } }), error: /shaping.weight: must be at most 1000000/ },
  { name: 'makeEnv with shaping bonus 1e300', run: () => makeEnv('Push', { shaping: { mode: 'bonus', bonus: 1e300 } }), error: /shaping.bonus: must be at most 1000000 in magnitude/ },
  { name: 'makeEnv with shaping gamma 2', run: () => makeEnv('Push', { shaping: { gamma: 2 } }), error: /shaping.gamma: must be a number in \[0, 1\], got number 2/ },
  { name: 'makeEnv with shaping mode "magic"', run: () => makeEnv('Push', { shaping: { mode: 'magic' as never } }), error: /shaping.mode: unknown mode string "magic"/ },
  { name: 'makeEnv with a spec offset 1e308', run: () => makeEnv('Push', { subgoals: { points: { behind: { from: 'object', awayFrom: 'goal', offset: 1e308 } }, stages: okSpec.stages } }), error: /subgoals.points.behind.offset: must be at most 100 m in magnitude/ },
  { name: 'makeEnv with a spec sigma 1e-300', run: () => makeEnv('Push', { subgoals: withStage({ progress: { a: 'grip', b: 'goal', sigma: 1e-300 } }) }), error: /subgoals.stages\[0\].progress.sigma: must be at least 0.000001 m/ },
  { name: 'makeEnv with a spec of a number', run: () => makeEnv('Push', { subgoals: 42 }), error: /subgoals: expected an object, got number 42/ },
  { name: 'makeEnv with DR of a string', run: () => makeEnv('Push', { domainRandomization: 'heavy' as never }), error: /domainRandomization: expected an object of ranges, got string/ },
  { name: 'env.reset(null)', run: () => env.reset(null as never), error: /reset: options must be an object like \{ seed: 1 \}, got null/ },
  { name: 'env.reset with seed -1', run: () => env.reset({ seed: -1 }), error: /seed must be an integer in \[0, 4294967295\], got -1/ },
  { name: 'env.step(null)', run: () => env.step(null as never), error: /step: expected 16 actions \(4 envs × 4\), got undefined/ },
  { name: 'env.step with too few actions', run: () => env.step(new Float32Array(3)), error: /step: expected 16 actions \(4 envs × 4\), got 3/ },
  { name: 'env.step with a NaN action', run: () => env.step(new Float32Array(16).fill(0.1).fill(Number.NaN, 5, 6)), error: /step: action\[5\] \(env 1, dim 1\) is NaN/ },
  { name: 'env.computeReward(null, null)', run: () => env.computeReward(null as never, null as never), error: /computeReward: achieved \(undefined\) and desired \(undefined\) must both hold M × 3 values/ },
  { name: 'env.computeReward with lengths that differ', run: () => env.computeReward(new Float32Array(6), new Float32Array(3)), error: /computeReward: achieved \(6\) and desired \(3\) must both hold M × 3 values/ },
  { name: 'env.isSuccess with a short out', run: () => env.isSuccess(new Float32Array(6), new Float32Array(6), new Uint8Array(1)), error: /isSuccess: out holds 1 values, expected 2/ },
  { name: 'env.setState with a short row', run: () => env.setState(new Float32Array(5)), error: /setState/ },
  { name: 'env.setState with a NaN row', run: () => { const rows = env.getState([0]); rows.data[3] = Number.NaN; env.setState(rows, [0]); }, error: /setState.*(NaN|finite)/ },
  { name: 'env.getState of env 99', run: () => env.getState([99]), error: /getState: envIds\[0\] is 99, not an env index in \[0, 4\)/ },
  { name: 'createPolicy with hidden [1e6, 1e6]', run: () => createPolicy({ obsDim: 28, actDim: 4, hidden: [1e6, 1e6], backend: 'wasm' }), error: /hidden\[0\] is 1000000, more than the 4096 a layer may have/ },
  { name: 'createPolicy (default WebGPU backend) with hidden [1e6, 1e6]', run: () => createPolicy({ obsDim: 28, actDim: 4, hidden: [1e6, 1e6] }), error: /hidden\[0\] is 1000000, more than the 4096 a layer may have/ },
  { name: 'createPolicy with obsDim 0', run: () => createPolicy({ obsDim: 0, actDim: 4, backend: 'wasm' }), error: /obsDim must be a positive integer, got 0/ },
  { name: 'createPolicy with backend "tpu"', run: () => createPolicy({ obsDim: 4, actDim: 2, backend: 'tpu' as never }), error: /backend must be one of webgpu, wasm, auto, got 'tpu'/ },
  { name: 'policy.setParams with a NaN', run: async () => { const p = await WasmPolicy.create({ obsDim: 4, actDim: 2, hidden: [8] }); try { p.setParams(new Float32Array(p.numParams).fill(Number.NaN)); } finally { p.destroy(); } }, error: /setParams.*(NaN|finite)/ },
  { name: 'policy.act with a wrong obs length', run: async () => { const p = await WasmPolicy.create({ obsDim: 4, actDim: 2, hidden: [8] }); try { await p.act(new Float32Array(7)); } finally { p.destroy(); } }, error: /obs/ },
  { name: 'RunningNormalizer.load of another dimension', run: () => new RunningNormalizer(4).load({ dim: 3, count: 1, mean: [0, 0, 0], var: [1, 1, 1], clip: 10, eps: 1e-8 }), error: /normalizer: state for dim 3 does not fit dim 4/ },
  apiTrain('with options null', null, /train: options must be an object, got null/),
  apiTrain('with initLogStd 1000', { initLogStd: 1000 }, /initLogStd must be a number in \[-5, 2\], got 1000/),
  apiTrain('with evalEpisodes 0.5', { evalEpisodes: 0.5 }, /evalEpisodes must be an integer in \[1, 1000000\], got 0.5/),
  apiTrain('with hidden [0]', { hidden: [0] }, /hidden\[0\] must be a positive integer, got 0/),
  apiTrain('with ppo.hp.lr NaN', { ppo: { hp: { lr: Number.NaN } } }, /lr must be a finite number ≥ 0, got NaN/),
  apiTrain('with shapingWeight Infinity', { shaping: 'pbrs', shapingWeight: Infinity }, /shaping.weight: must be a finite number >= 0, got number Infinity/),
  apiTrain('into an existing run', { outDir: RUN }, /already holds a run/),
];

/** The error a spec file's case must give. */
function specError(name: string): RegExp {
  return ({
    'sigma-tiny': /subgoals.stages\[0\].progress.sigma: must be at least 0.000001 m, got number 1e-300/,
    'sigma-huge': /subgoals.stages\[0\].progress.sigma: must be at most 100 m in magnitude, got number 1e\+300/,
    'offset-huge': /subgoals.points.behind.offset: must be at most 100 m in magnitude, got number 1e\+308/,
    'below-negative': /subgoals.stages\[0\].predicate.below: must be a positive finite number, got number -1/,
    'unknown-point': /subgoals.stages\[0\].predicate.b: unknown point 'objet'/,
    'no-stages': /subgoals.stages: must hold at least one stage/,
    'no-progress': /subgoals.stages\[0\].progress: expected an object, got undefined/,
    'unknown-kind': /subgoals.stages\[0\].predicate.kind: unknown kind string "touch"/,
    'stage-not-object': /subgoals.stages\[0\]: expected an object, got number 42/,
    'height-huge': /subgoals.stages\[0\].predicate.above: must be at most 100 m in magnitude/,
  } as Record<string, RegExp>)[name];
}

describe('bad inputs: a clear error naming the problem, no hang, no file changed', () => {
  before(async () => {
    await trainRun(tinyRun({ outDir: RUN, totalSteps: 800 }), () => {}, () => {});
    await fs.mkdir(at('specs'));
    await fs.mkdir(at('empty'));
    for (const [name, spec] of Object.entries(SPECS)) await fs.writeFile(at('specs', `${name}.json`), JSON.stringify(spec));
    await fs.writeFile(at('specs', 'not-json.json'), '{ "stages": [');
    await fs.writeFile(at('specs', 'dr-unknown.json'), JSON.stringify({ gravity: [9, 10] }));
    await fs.writeFile(at('specs', 'dr-reversed.json'), JSON.stringify({ objectMass: [2, 1] }));
    const manifest = JSON.parse(await fs.readFile(path.join(RUN, 'checkpoint.json'), 'utf8'));
    const weights = await fs.readFile(path.join(RUN, manifest.weights.file));
    for (const [name, b] of Object.entries(BROKEN)) {
      const dir = at('broken', name);
      await fs.mkdir(dir, { recursive: true });
      const text = b.manifestText ?? JSON.stringify(b.manifest ? b.manifest(structuredClone(manifest)) : manifest);
      await fs.writeFile(path.join(dir, 'checkpoint.json'), text);
      const w = b.weights ? await b.weights(weights, manifest) : weights;
      if (w.length) await fs.writeFile(path.join(dir, manifest.weights.file), w);
    }
    for (const [name, p] of Object.entries(PATCHED)) {
      const dir = at('broken', name);
      await fs.mkdir(dir, { recursive: true });
      await fs.copyFile(path.join(RUN, 'checkpoint.json'), path.join(dir, 'checkpoint.json'));
      await fs.copyFile(path.join(RUN, manifest.weights.file), path.join(dir, manifest.weights.file));
      await patchParam(dir, p.index, p.value);
    }
    env = await makeEnv('Push', { numEnvs: 4, seed: 1 });
    env.reset({ seed: 1 });
  });
  after(async () => {
    await env?.close();
    await fs.rm(sandbox, { recursive: true, force: true });
  });

  it(`holds at least 100 cases (${cases.length})`, () => {
    assert.ok(cases.length >= 100, `${cases.length} cases`);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
  });

  for (const c of cases) {
    it(c.name, { timeout: 60_000 }, async () => {
      const before = await snapshot(sandbox);
      const msg = await messageOf(c.run);
      assert.match(msg, c.error);
      assert.doesNotMatch(msg, LEAKED, 'a JavaScript error leaked instead of a named problem');
      assert.deepEqual(await snapshot(sandbox), before, 'no file changed');
    });
  }
});
