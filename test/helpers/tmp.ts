// Temporary directories for tests that are removed when the test file is done, passed or failed.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/**
 * `const tmp = tempDirs('cairn-train-')` at the top of a test file: each `tmp()` creates a fresh directory
 * `<os.tmpdir()>/cairn-train-XXXXXX` and returns its path; an `after` hook of the file removes every one of them,
 * with whatever the test left inside, once the file's tests have run (on failure too).
 */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  after(async () => {
    await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
