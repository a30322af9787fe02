// The installable package: pack a copy of the repository, install the tarball into a fresh project, and there,
// with plain node (no tsx), import makeEnv, step Push, and train Reach through the package's bin.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDirs } from '../helpers/tmp.ts';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tmp = tempDirs('cairn-pack-');

describe('package', () => {
  it('packs, installs into a fresh project, and runs there with plain node: makeEnv + step, and `npx cairn-rl train`', { timeout: 300_000 }, async () => {
    const root = tmp();
    // Pack a copy of the working tree's files that git does not ignore (plus the built kernels), so the working tree is never touched.
    const src = path.join(root, 'src');
    for (const f of execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).split('\0').filter((f) => f && existsSync(f))) {
      mkdirSync(path.join(src, path.dirname(f)), { recursive: true });
      cpSync(f, path.join(src, f));
    }
    cpSync('build/assembly', path.join(src, 'build/assembly'), { recursive: true });
    symlinkSync(path.resolve('node_modules'), path.join(src, 'node_modules'), 'dir');
    const pack = spawnSync(NPM, ['pack', '--pack-destination', root, '--ignore-scripts=false'], { cwd: src, encoding: 'utf8', timeout: 180_000 });
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');
    const files = execFileSync('tar', ['tzf', path.join(root, tarball)], { encoding: 'utf8' }).split('\n');
    for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/bin/cairn.js', 'package/dist/build/assembly/mlp.wasm', 'package/dist/build/assembly/shaping.shared.wasm', 'package/dist/shaders/mlp-layer.wgsl', 'package/dist/engine/threads/worker-entry.mjs']) {
      assert.ok(files.includes(f), `the tarball holds ${f}`);
    }
    assert.ok(!files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources');
    const packed = JSON.parse(execFileSync('tar', ['xzf', path.join(root, tarball), '-O', 'package/package.json'], { encoding: 'utf8' }));
    assert.equal(packed.scripts, undefined, 'no install-time scripts for consumers');
    assert.equal(packed.devDependencies, undefined);

    const proj = path.join(root, 'consumer');
    mkdirSync(proj);
    writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    const t0 = performance.now();
    const install = spawnSync(NPM, ['install', path.join(root, tarball), '--no-audit', '--no-fund', '--prefer-offline'], { cwd: proj, encoding: 'utf8', timeout: 180_000 });
    assert.equal(install.status, 0, install.stderr);
    writeFileSync(path.join(proj, 'use.mjs'), [
      "import { makeEnv } from 'cairn-rl';",
      "const env = await makeEnv('Push', { numEnvs: 8, numWorkers: 2 });",
      'env.reset({ seed: 1 });',
      'const r = env.step(new Float32Array(8 * env.actDim).fill(0.5));',
      'console.log(JSON.stringify({ obs: r.obs.length, rewards: Array.from(r.reward), id: env.spec.id }));',
      'await env.close();',
    ].join('\n'));
    const use = spawnSync(process.execPath, ['use.mjs'], { cwd: proj, encoding: 'utf8', timeout: 60_000 });
    assert.equal(use.status, 0, use.stderr);
    const out = JSON.parse(use.stdout.trim());
    assert.equal(out.obs, 8 * 25);
    assert.equal(out.id, 'Push');
    assert.ok(out.rewards.every((v: number) => v === 0 || v === -1));

    // The bin through npx; the first progress line's time since npm install started is what the README reports.
    const train = spawn('npx', ['cairn-rl', 'train', '--task', 'reach', '--steps', '2e4', '--out', 'run', '--json'], { cwd: proj, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '', stdout = '', firstProgress = 0;
    train.stderr.on('data', (d) => {
      err += d;
      if (!firstProgress && /train +\d+%/.test(err)) firstProgress = (performance.now() - t0) / 1000;
    });
    train.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((r) => train.on('exit', r));
    assert.equal(code, 0, err);
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.equal(result.envSteps, 20480);
    assert.ok(firstProgress > 0, 'a progress line was printed');
    const config = JSON.parse(readFileSync(path.join(proj, 'run', 'config.json'), 'utf8'));
    assert.equal(config.cairn.name, 'cairn-rl');
    assert.equal(config.cairn.commit, null, 'an installed copy reports no commit');
    console.log(`# npm install to the first progress line of npx cairn-rl train: ${firstProgress.toFixed(1)} s`);
  });
});
