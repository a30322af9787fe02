// Runs every test/**/*.test.ts file with Node's test runner under tsx (Node 20 has no --test globs).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Lists test files below dir, sorted, optionally filtered by a substring given on the command line. */
function listTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// --fast: everyday work, under 90 s on 2 cores: no browser, no WebGPU (SwiftShader) parity, no package build,
// no kill-anywhere (CI and `npm test` run them all).
const SLOW = ['test/browser/', 'test/gpu/', 'test/nn/mlp-layer', 'test/nn/policy-parity', 'test/nn/policy-api', 'test/nn/policy-backend', 'test/nn/webgpu-backend', 'test/package/', 'test/reliability/kill-anywhere'];
const fast = process.argv.includes('--fast');
const filters = process.argv.slice(2).filter((a) => a !== '--fast');
const files = listTests('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .filter((f) => !fast || !SLOW.some((s) => f.startsWith(s)));
if (files.length === 0) {
  console.error(`no test files match ${JSON.stringify(filters)}`);
  process.exit(1);
}
// The fast set runs two files at a time (2 cores); the full suite one at a time, as its timing and memory checks assume.
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${fast ? 2 : 1}`, ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
