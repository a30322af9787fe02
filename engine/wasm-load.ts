/** Loading compiled kernels (build/assembly/*.wasm) in Node (file read) and in browsers (fetch). */
import { importHidden, isNode } from './gpu/device.ts';

/** Bytes of the file at url: read from disk in Node, fetched in a browser; the error says how to rebuild. */
export async function loadWasmBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  try {
    if (isNode()) {
      const { readFile } = await importHidden<typeof import('node:fs/promises')>('node:fs/promises');
      return new Uint8Array(await readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new Error(`cannot load ${url.pathname} (${(e as Error).message}); run \`npm run build:assembly\``);
  }
}

const modules = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles the .wasm at url once per thread (a failed load is forgotten, so a rebuild can be retried). */
export function compileWasmOnce(url: URL): Promise<WebAssembly.Module> {
  let m = modules.get(url.href);
  if (!m) {
    m = loadWasmBytes(url).then((bytes) => WebAssembly.compile(bytes));
    modules.set(url.href, m);
    m.catch(() => modules.delete(url.href));
  }
  return m;
}
