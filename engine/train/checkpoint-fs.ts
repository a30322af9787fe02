/**
 * Checkpoint files in Node: both files are written to a temporary name and renamed, weights first and
 * manifest last, so a crash never leaves a half checkpoint behind (an old manifest keeps its old weights
 * until the new manifest replaces it; the SHA-256 check catches a mismatch).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../fs-atomic.ts';
import { decodeCheckpoint, encodeCheckpoint, MANIFEST_FILE, type CheckpointArrays, type CheckpointManifest } from './checkpoint.ts';


/** Writes a checkpoint into dir (created if needed) and returns the manifest's path. */
export async function saveCheckpoint(dir: string, meta: Omit<CheckpointManifest, 'format' | 'version' | 'createdAt' | 'weights' | 'numParams'>, arrays: CheckpointArrays): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const { manifest, bytes } = await encodeCheckpoint(meta, arrays);
  await writeAtomic(path.join(dir, manifest.weights.file), bytes);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  await writeAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return manifestPath;
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
