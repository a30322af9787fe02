/** Whole-file writes that a crash cannot leave half done (Node only). */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Marker in the names of writeAtomic's temporary files: `<file>.tmp-<pid>-<ms>`. */
const TEMP_MARK = /\.tmp-\d+-\d+$/;

/** True for the name of a temporary file writeAtomic makes (a leftover when its writer was killed). */
export function isAtomicTemp(name: string): boolean {
  return TEMP_MARK.test(name);
}

/**
 * Writes data to a temporary file beside `file`, flushes it to disk and renames it over `file`: a reader sees
 * the old file or the new one, never a part of either.
 */
export async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const h = await fs.open(tmp, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
}

/** Flushes a directory's entries (renames, creations) to disk. */
export async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(path.resolve(dir), 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
