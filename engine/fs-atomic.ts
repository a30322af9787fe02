/** Whole-file writes that a crash cannot leave half done (Node only). */
import { promises as fs } from 'node:fs';

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
