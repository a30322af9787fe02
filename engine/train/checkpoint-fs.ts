/**
 * Checkpoint files in Node. A checkpoint is one atomic unit: the weights go to a new content-named file
 * (weights-<hash>.bin, written to a temporary name, flushed and renamed), then the manifest that names them
 * replaces checkpoint.json by one rename, and only then are older weights files deleted. A kill at any instant
 * leaves either the old manifest with its own weights or the new one with its own.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isAtomicTemp, syncDir, writeAtomic } from '../fs-atomic.ts';
import { decodeCheckpoint, encodeCheckpoint, MANIFEST_FILE, WEIGHTS_FILE_PATTERN, type CheckpointArrays, type CheckpointManifest } from './checkpoint.ts';

/** Writes a checkpoint into dir (created if needed) and returns the manifest's path. */
export async function saveCheckpoint(dir: string, meta: Omit<CheckpointManifest, 'format' | 'version' | 'createdAt' | 'weights' | 'numParams'>, arrays: CheckpointArrays): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const { manifest, bytes } = await encodeCheckpoint(meta, arrays);
  await writeAtomic(path.join(dir, manifest.weights.file), bytes);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  await writeAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  await syncDir(dir);
  await removeStaleWeights(dir, manifest.weights.file);
  return manifestPath;
}

/** Deletes the weights files in dir other than `keep` (those of earlier checkpoints); returns their names. */
async function removeStaleWeights(dir: string, keep: string | null): Promise<string[]> {
  const gone: string[] = [];
  for (const name of await fs.readdir(dir)) {
    if (name !== keep && WEIGHTS_FILE_PATTERN.test(name)) {
      await fs.rm(path.join(dir, name), { force: true });
      gone.push(name);
    }
  }
  return gone;
}

/**
 * Removes what a killed writer leaves in a run directory: temporary files of atomic writes and weights files
 * checkpoint.json does not name (only when it parses and names one). Returns the names removed.
 */
export async function cleanCheckpointDir(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const gone: string[] = [];
  for (const name of names) {
    if (isAtomicTemp(name)) {
      await fs.rm(path.join(dir, name), { force: true });
      gone.push(name);
    }
  }
  if (names.includes(MANIFEST_FILE)) {
    // The manifest's own name for its weights is enough: any other weights file no checkpoint can load.
    const keep = await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8').then((t) => (JSON.parse(t) as Partial<CheckpointManifest> | null)?.weights?.file).catch(() => undefined);
    if (typeof keep === 'string') gone.push(...await removeStaleWeights(dir, keep));
  }
  return gone;
}

/** Reads and verifies a checkpoint directory (or its checkpoint.json); every defect is a clear error. */
export async function loadCheckpoint(where: string): Promise<{ manifest: CheckpointManifest; arrays: CheckpointArrays }> {
  const manifestPath = where.endsWith('.json') ? where : path.join(where, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(manifestPath, 'utf8');
  } catch {
    throw new Error(`checkpoint: no manifest at ${manifestPath}`);
  }
  const dir = path.dirname(manifestPath);
  return decodeCheckpoint(text, async (file) => {
    try {
      return new Uint8Array(await fs.readFile(path.join(dir, file)));
    } catch {
      throw new Error(`checkpoint: weights file ${path.join(dir, file)} is missing`);
    }
  }, manifestPath);
}
