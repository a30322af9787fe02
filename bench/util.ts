/** Helpers shared by the benchmark scripts: statistics, machine description, git commit. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export { median } from '../engine/numeric.ts';
import { median } from '../engine/numeric.ts';

/** The machine a result was measured on; `host` is a stable slug of CPU model and core count. */
export function machineInfo(): { host: string; cpu: string; cores: number; memGiB: number; platform: string } {
  const cpu = os.cpus()[0]?.model ?? 'unknown-cpu';
  const cores = os.cpus().length;
  const slug = cpu.toLowerCase().replace(/\(r\)|\(tm\)|cpu|processor|@.*$/g, '').trim().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return { host: `${slug}-${cores}c`, cpu, cores, memGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()}-${os.arch()}` };
}

/** The current git commit (short), or 'unknown' outside a checkout. */
export function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Replaces the text between `<!-- bench-table:NAME -->` and `<!-- /bench-table:NAME -->` in README.md. */
export function updateReadmeTable(name: string, markdown: string, readmePath = 'README.md'): boolean {
  const open = `<!-- bench-table:${name} -->`, close = `<!-- /bench-table:${name} -->`;
  const text = readFileSync(readmePath, 'utf8');
  const a = text.indexOf(open), b = text.indexOf(close);
  if (a < 0 || b < a) return false;
  writeFileSync(readmePath, text.slice(0, a + open.length) + '\n' + markdown.trim() + '\n' + text.slice(b));
  return true;
}

/** Renders rows as a Markdown table with the given header. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The `--name value` or bare `--flag` options of a bench script, with typed readers. */
export function benchArgs(argv: string[]) {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) m.set(argv[i].slice(2), 'true');
    else {
      m.set(argv[i].slice(2), next);
      i++;
    }
  }
  return {
    has: (k: string) => m.has(k),
    get: (k: string) => m.get(k),
    num: (k: string, d: number) => (m.has(k) ? Number(m.get(k)) : d),
    list: (k: string, d: number[]) => (m.has(k) ? m.get(k)!.split(',').map(Number) : d),
  };
}

/** Times fn: `warmup` calls left out, then at least minReps and at most maxReps calls or budgetMs; median ms. */
export async function timeBudgeted(fn: () => unknown, o: { warmup: number; minReps: number; maxReps: number; budgetMs: number }): Promise<{ medianMs: number; reps: number }> {
  for (let i = 0; i < o.warmup; i++) await fn();
  const ms: number[] = [];
  const start = performance.now();
  while (ms.length < o.minReps || (ms.length < o.maxReps && performance.now() - start < o.budgetMs)) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { medianMs: median(ms), reps: ms.length };
}
