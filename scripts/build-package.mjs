// Builds the installable package into dist/: compiles the TypeScript (declarations, .ts imports rewritten to .js),
// copies the built WASM kernels, the WGSL shaders and the worker entry where the compiled modules look for them,
// and writes the `cairn-rl` bin for plain node. Runs on `npm pack` (prepack) and `npm run build:package`.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

if (!existsSync('build/assembly/mlp.wasm')) execFileSync(process.execPath, ['scripts/build-assembly.mjs'], { stdio: 'inherit' });
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
mkdirSync('dist/build/assembly', { recursive: true });
for (const f of readdirSync('build/assembly')) if (f.endsWith('.wasm')) cpSync(`build/assembly/${f}`, `dist/build/assembly/${f}`);
cpSync('shaders', 'dist/shaders', { recursive: true });
// The one worker entry (plain JavaScript; it loads tsx only for .ts modules, which the package has none of).
cpSync('engine/threads/worker-entry.mjs', 'dist/engine/threads/worker-entry.mjs');
mkdirSync('dist/bin', { recursive: true });
writeFileSync('dist/bin/cairn.js', "#!/usr/bin/env node\n// cairn's command line, compiled: runs engine/cli/main.js with plain node.\nimport { main } from '../engine/cli/main.js';\n\nprocess.exitCode = await main(process.argv.slice(2));\n");
chmodSync('dist/bin/cairn.js', 0o755);
console.log('built dist/ (JavaScript, declarations, kernels, shaders, bin)');
