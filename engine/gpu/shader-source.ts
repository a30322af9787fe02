/**
 * Loads WGSL files from the repository's shaders/ folder, in Node (file system) and in the browser
 * (fetched next to the served module), and joins a kernel with the library files it uses.
 */
import { importHidden, isNode } from './device.ts';

const cache = new Map<string, Promise<string>>();

/** Text of one WGSL file in shaders/, cached per file name. */
export function loadWgsl(file: string): Promise<string> {
  let p = cache.get(file);
  if (!p) {
    // One literal pattern per file, which Vite rewrites to the served (or, in a build, emitted) asset.
    const url = new URL(`../../shaders/${file}`, import.meta.url);
    p = isNode()
      ? importHidden<typeof import('node:fs/promises')>('node:fs/promises').then((fs) => fs.readFile(url, 'utf8'))
      : fetch(url).then((r) => {
          if (!r.ok) throw new Error(`cannot load shader ${url}: HTTP ${r.status}`);
          return r.text();
        });
    p.catch(() => cache.delete(file));
    cache.set(file, p);
  }
  return p;
}

/** WGSL of a kernel: the library files, then the kernel file, joined in that order. */
export async function shaderSource(kernel: string, libs: readonly string[] = []): Promise<string> {
  const parts = await Promise.all([...libs, kernel].map(loadWgsl));
  return parts.join('\n');
}

/** `file:line` of line `line` (1-based) of shaderSource(kernel, libs), for compiler messages. */
export async function shaderLineOrigin(kernel: string, libs: readonly string[], line: number): Promise<string> {
  let start = 1;
  for (const file of [...libs, kernel]) {
    // Each part's lines, plus the newline that joins it to the next.
    const count = (await loadWgsl(file)).split('\n').length;
    if (line < start + count) return `${file}:${line - start + 1}`;
    start += count;
  }
  return `line ${line}`;
}
