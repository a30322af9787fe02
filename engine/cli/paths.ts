/** Checks of output paths before a command writes anything (Node only). */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Pseudo-filesystems where a run's files have no place (writes there hang or fail in odd ways). */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

function checkNotPseudo(p: string, flag: string): string {
  const abs = path.resolve(p);
  if (PSEUDO_ROOTS.some((r) => abs === r || abs.startsWith(r + '/'))) throw new Error(`${flag} ${p} is on the pseudo-filesystem ${abs.split('/').slice(0, 2).join('/')}; choose a directory on disk`);
  return abs;
}

/** Throws unless `file` can be created or replaced: not a directory, its parent an existing writable directory. */
export async function checkWritableFile(file: string, flag: string): Promise<void> {
  if (!file) throw new Error(`${flag} needs a file name`);
  const abs = checkNotPseudo(file, flag);
  const st = await fs.stat(abs).catch(() => null);
  if (st?.isDirectory()) throw new Error(`${flag} ${file} is a directory; give a file name`);
  const dir = path.dirname(abs);
  const ds = await fs.stat(dir).catch(() => null);
  if (!ds) throw new Error(`${flag} ${file}: the directory ${dir} does not exist`);
  if (!ds.isDirectory()) throw new Error(`${flag} ${file}: ${dir} is not a directory`);
  await fs.access(dir, 2 /* W_OK */).catch(() => { throw new Error(`${flag} ${file}: the directory ${dir} is not writable`); });
}

/** Throws unless `dir` is a directory or can be made one: no file in its place or above it, not on a pseudo-filesystem. */
export async function checkOutputDir(dir: string, flag: string): Promise<void> {
  if (!dir) throw new Error(`${flag} needs a directory`);
  let at = checkNotPseudo(dir, flag);
  for (;;) {
    const st = await fs.stat(at).catch(() => null);
    if (st) {
      if (!st.isDirectory()) throw new Error(`${flag} ${dir}: ${at} is a file, not a directory`);
      await fs.access(at, 2 /* W_OK */).catch(() => { throw new Error(`${flag} ${dir}: ${at} is not writable`); });
      return;
    }
    const up = path.dirname(at);
    if (up === at) return;
    at = up;
  }
}
