// Compiles every AssemblyScript entry file assembly/*.ts to build/assembly/<name>.wasm (imports a plain memory)
// and build/assembly/<name>.shared.wasm (imports a shared memory, for batches used by worker threads).
// Kernels import the batch's memory (engine/batch.ts) and must keep static data under KERNEL_RESERVED_BYTES.
// Shared helpers live in assembly/lib/ and are not entries. Runs on `npm ci` (postinstall) and `npm run build`.
import { mkdirSync, readdirSync, existsSync } from 'node:fs';
import asc from 'assemblyscript/asc';

const entries = existsSync('assembly') ? readdirSync('assembly').filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort() : [];
mkdirSync('build/assembly', { recursive: true });
for (const file of entries) {
  const name = file.slice(0, -3);
  for (const shared of [false, true]) {
    const out = `build/assembly/${name}${shared ? '.shared' : ''}`;
    const { error, stderr } = await asc.main([
      `assembly/${file}`,
      '--outFile', `${out}.wasm`,
      '--textFile', `${out}.wat`,
      '-O3', '--noAssert', '--enable', 'simd', '--runtime', 'stub',
      '--importMemory', '--initialMemory', '1',
      ...(shared ? ['--sharedMemory', '--maximumMemory', '65536', '--enable', 'threads'] : []),
    ]);
    if (error) {
      console.error(`assembly/${file}: ${error.message}\n${stderr.toString()}`);
      process.exit(1);
    }
    console.log(`built ${out}.wasm`);
  }
}
