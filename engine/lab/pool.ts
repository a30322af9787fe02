/** Child `cairn` processes and a pool that runs work items K at a time (the sweep and bench/learning.ts use both). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The cairn command line's entry script: bin/cairn.mjs from source, dist/bin/cairn.js in the compiled package. */
export const CAIRN_BIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../bin/cairn.mjs' : '../../bin/cairn.js', import.meta.url));

/** How a child cairn process ended: exit code (null when a signal ended it), signal, all of stdout, the end of stderr. */
export interface CairnExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last 4,000 characters of stderr. */
  stderrTail: string;
}

/** The environment variable that makes a cairn process exit when its stdin pipe closes (its parent died); main.ts reads it. */
export const EXIT_WITH_PARENT_ENV = 'CAIRN_EXIT_WITH_PARENT';

/**
 * Starts `node CAIRN_BIN ...args` in this process group (a signal to the group reaches it); with `log`, its stdout
 * and stderr are also appended to that file; with `exitWithParent`, it exits when this process dies, even by SIGKILL
 * (it watches its stdin pipe). `exited` resolves once it has ended and its output is drained.
 */
export function startCairn(args: readonly string[], opts: { log?: string; exitWithParent?: boolean } = {}): { child: ChildProcess; exited: Promise<CairnExit> } {
  const child = opts.exitWithParent
    ? spawn(process.execPath, [CAIRN_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, [EXIT_WITH_PARENT_ENV]: '1' } })
    : spawn(process.execPath, [CAIRN_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = opts.log === undefined ? null : createWriteStream(opts.log, { flags: 'a' });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d;
    log?.write(d);
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d).slice(-4000);
    log?.write(d);
  });
  const exited = new Promise<CairnExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const done = () => resolve({ code, signal, stdout, stderrTail: stderr });
      if (log) log.end(done);
      else done();
    });
  });
  return { child, exited };
}

/** Runs a cairn command and resolves with its last stdout line as JSON; rejects naming `what` and its stderr when it fails. */
export async function cairnJson<T>(args: readonly string[], what: string): Promise<T> {
  const r = await startCairn(args).exited;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code ?? r.signal}): ${r.stderrTail.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/** Calls work on every item, at most k at a time, in order; once `stop()` is true no further item starts. */
export async function runPool<T>(items: readonly T[], k: number, work: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(k, items.length) }, async () => {
    while (next < items.length && !stop()) await work(items[next++]);
  }));
}
